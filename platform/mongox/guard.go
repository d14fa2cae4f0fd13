package mongox

import (
	"context"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/apperr"
)

// FerretDB v1 (the embedded store) executes findAndModify and update as
// "query, filter in memory, then UPDATE ... WHERE _id = ?" with nothing holding
// the row in between, and every update rewrites the whole document. So two
// concurrent guarded writes can both match the same document (two workers
// would claim one job), and an unguarded $set running beside a guarded write
// can write back a stale copy (it once lost a refund reservation). Measured: 4
// goroutines racing a guarded findOneAndUpdate on one pending document, more
// than one won in 19 of 20 rounds. On real MongoDB a single-document write is
// atomic.
//
// The embedded store only ever serves the process that embeds it, so an
// in-process lock per collection around each write restores the atomicity
// the design relies on. Collection takes it for every write; it is taken only
// when the server says it is FerretDB, so on MongoDB writes run concurrently.

type gateKey struct {
	client *mongo.Client
	db     string
	coll   string
}

// heldGate marks a context whose goroutine holds a gate (Atomically), so
// writes inside do not wait for themselves.
type heldGate struct{ key gateKey }

var (
	gates        sync.Map // gateKey -> chan struct{}
	ferretByConn sync.Map // *mongo.Client -> bool
)

func (c *Collection) gateKey() gateKey {
	db := c.raw.Database()
	return gateKey{db.Client(), db.Name(), c.raw.Name()}
}

// guard runs one write under the collection's gate on FerretDB.
func (c *Collection) guard(ctx context.Context, write func() error) error {
	return c.guardCtx(ctx, func(context.Context) error { return write() })
}

func (c *Collection) guardCtx(ctx context.Context, fn func(ctx context.Context) error) error {
	if !IsFerretDB(ctx, c.raw.Database()) {
		return fn(ctx)
	}
	k := c.gateKey()
	if h, ok := ctx.Value(heldGate{k}).(bool); ok && h {
		return fn(ctx)
	}
	v, _ := gates.LoadOrStore(k, make(chan struct{}, 1))
	gate := v.(chan struct{})
	select {
	case gate <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-gate }()
	return fn(context.WithValue(ctx, heldGate{k}, true))
}

// IsFerretDB asks the server once per client; when it cannot tell it answers
// true, since the lock is always safe and only costs concurrency.
func IsFerretDB(ctx context.Context, db *mongo.Database) bool {
	c := db.Client()
	if v, ok := ferretByConn.Load(c); ok {
		return v.(bool)
	}
	raw, err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err != nil {
		return true
	}
	_, lookupErr := raw.LookupErr("ferretdbVersion")
	ferret := lookupErr == nil
	ferretByConn.Store(c, ferret)
	return ferret
}

func errConflict() error { return apperr.Conflict }
