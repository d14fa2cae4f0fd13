package testenv

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// storeCalls counts, per database, the commands the tests' shared client
// sent: what benchmarks report as store calls per operation.
var storeCalls sync.Map // database name -> *atomic.Int64

// StoreCalls is how many store commands (finds, updates, inserts, ...) the
// tests' client has sent to db so far; a benchmark reports the difference
// over its loop divided by b.N. The driver's own handshakes and session
// bookkeeping are not store calls and are not counted.
func StoreCalls(db *mongo.Database) int64 {
	if c, ok := storeCalls.Load(db.Name()); ok {
		return c.(*atomic.Int64).Load()
	}
	return 0
}

func countCommand(_ context.Context, e *event.CommandStartedEvent) {
	switch e.CommandName {
	case "hello", "isMaster", "ismaster", "ping", "buildInfo", "endSessions", "saslStart", "saslContinue", "getFreeMonitoringStatus":
		return
	}
	c, ok := storeCalls.Load(e.DatabaseName)
	if !ok {
		c, _ = storeCalls.LoadOrStore(e.DatabaseName, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(1)
}

// connect is mongox.Connect with the command counter attached.
func connect(ctx context.Context, uri string) (*mongo.Client, error) {
	c, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(5 * time.Second).SetConnectTimeout(5 * time.Second).
		SetAppName("zwfw-test").SetMonitor(&event.CommandMonitor{Started: countCommand}))
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Ping(pctx, readpref.Primary()); err != nil {
		_ = c.Disconnect(context.Background())
		return nil, err
	}
	return c, nil
}
