package testenv

import (
	"context"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// FindFilters records "<collection> <filter>" of every find its client
// sends, for tests that prove a path reads by _id alone.
type FindFilters struct {
	mu      sync.Mutex
	filters []string
}

// FindRecordingClient connects a client to the test store whose finds rec
// records; it is disconnected when the test ends.
func FindRecordingClient(t testing.TB) (*mongo.Client, *FindFilters) {
	t.Helper()
	rec := &FindFilters{}
	client, err := mongo.Connect(options.Client().ApplyURI(MongoURI(t)).SetMonitor(&event.CommandMonitor{Started: rec.started}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client, rec
}

func (r *FindFilters) started(_ context.Context, e *event.CommandStartedEvent) {
	if e.CommandName != "find" {
		return
	}
	coll, _ := e.Command.Lookup("find").StringValueOK()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.filters = append(r.filters, coll+" "+e.Command.Lookup("filter").String())
}

// Take returns the filters recorded since the last Take and forgets them.
func (r *FindFilters) Take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.filters
	r.filters = nil
	return out
}
