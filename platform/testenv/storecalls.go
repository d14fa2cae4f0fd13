package testenv

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
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

// callsBy counts them per database by command and collection.
var (
	callsMu sync.Mutex
	callsBy = map[string]map[string]int64{} // database -> "findAndModify slot_counters" -> n
)

// StoreCallsBy is StoreCalls by command and collection
// ("findAndModify slot_counters"), a snapshot.
func StoreCallsBy(db *mongo.Database) map[string]int64 {
	callsMu.Lock()
	defer callsMu.Unlock()
	out := map[string]int64{}
	for k, v := range callsBy[db.Name()] {
		out[k] = v
	}
	return out
}

// CallsPerOp lists the calls made between two StoreCallsBy snapshots per
// operation, most first: "2 find bookings, 1 update slot_counters".
func CallsPerOp(before, after map[string]int64, ops int) string {
	type kv struct {
		k string
		v float64
	}
	var list []kv
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			list = append(list, kv{k, float64(d) / float64(max(ops, 1))})
		}
	}
	slices.SortFunc(list, func(a, b kv) int {
		if c := cmp.Compare(b.v, a.v); c != 0 {
			return c
		}
		return strings.Compare(a.k, b.k)
	})
	var parts []string
	for _, e := range list {
		parts = append(parts, strconv.FormatFloat(math.Round(e.v*100)/100, 'f', -1, 64)+" "+e.k)
	}
	return strings.Join(parts, ", ")
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
	key := e.CommandName
	if v, err := e.Command.IndexErr(0); err == nil {
		if coll, ok := v.Value().StringValueOK(); ok {
			key += " " + coll
		}
	}
	callsMu.Lock()
	if callsBy[e.DatabaseName] == nil {
		callsBy[e.DatabaseName] = map[string]int64{}
	}
	callsBy[e.DatabaseName][key]++
	callsMu.Unlock()
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
