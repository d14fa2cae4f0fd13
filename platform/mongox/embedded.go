// Package mongox holds the MongoDB plumbing shared by every store: connecting,
// the embedded FerretDB server used by the default configuration and tests,
// and small helpers for the error cases stores need to tell apart.
package mongox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// embeddedSync is SQLite's commit durability for the embedded store. In WAL
// mode, NORMAL writes each commit to the log without waiting for the disk
// (FULL waits for an fsync per commit, about 2 ms here, and SQLite has one
// writer: at most a few hundred writes a second for the whole service). A
// crash of the process — kill -9 included — loses nothing, since the log is
// in the operating system's cache; a power cut or a kernel crash may lose
// the last commits before a checkpoint, never corrupt the file. Data that
// must survive a power cut belongs in MongoDB (docs/deploy.md).
const embeddedSync = "synchronous(normal)"

// Embedded is an in-process FerretDB (SQLite backend) listening on loopback.
// Its data lives in SQLite files under a directory and survives restarts.
type Embedded struct {
	URI    string
	Dir    string
	cancel context.CancelFunc
	done   chan struct{}
}

// StartEmbedded starts FerretDB with its SQLite files under dir. It listens on
// addr ("127.0.0.1:0" picks a free port). Stop it with Close.
func StartEmbedded(dir, addr string, logger *slog.Logger) (*Embedded, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("create embedded mongodb dir: %w", err)
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/?_pragma=" + embeddedSync,
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("start embedded mongodb: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Embedded{Dir: abs, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = f.Run(ctx)
	}()
	// MongoDBURI waits until the listener is bound.
	e.URI = f.MongoDBURI()
	if e.URI == "" {
		cancel()
		return nil, errors.New("embedded mongodb did not start")
	}
	// Look-ups by _id use an index only once it is added (idindex.go).
	_ = e.indexIDs(ctx)
	running.Store(e, struct{}{})
	go e.indexIDsLoop(ctx)
	return e, nil
}

// Close stops the server and waits until its files are closed.
func (e *Embedded) Close() {
	if e == nil {
		return
	}
	running.Delete(e)
	e.cancel()
	<-e.done
}
