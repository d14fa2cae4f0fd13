package mongox

import (
	"context"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// FerretDB v1 (the embedded store) executes findAndModify and update as
// "query, filter in memory, then UPDATE ... WHERE _id = ?" with nothing holding
// the row in between, so two concurrent guarded writes can both match the same
// document: two workers would claim one job. Measured: 4 goroutines racing a
// guarded findOneAndUpdate on one pending document, more than one won in 19 of
// 20 rounds. On real MongoDB a single-document write is atomic.
//
// The embedded store only ever serves the process that embeds it, so an
// in-process lock per collection around each guarded write restores the
// atomicity the design relies on. It is taken only when the server says it is
// FerretDB; on MongoDB writes run concurrently.

type gateKey struct {
	client *mongo.Client
	db     string
	coll   string
}

var (
	gates        sync.Map // gateKey -> chan struct{}
	ferretByConn sync.Map // *mongo.Client -> bool
)

// Guarded runs one guarded write (a findOneAndUpdate / updateOne / replaceOne
// whose filter checks the current state) on coll so that it is atomic on the
// embedded FerretDB too. Every state change that relies on its guard must go
// through it.
func Guarded(ctx context.Context, coll *mongo.Collection, write func() error) error {
	if !IsFerretDB(ctx, coll.Database()) {
		return write()
	}
	k := gateKey{coll.Database().Client(), coll.Database().Name(), coll.Name()}
	v, _ := gates.LoadOrStore(k, make(chan struct{}, 1))
	gate := v.(chan struct{})
	select {
	case gate <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-gate }()
	return write()
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
