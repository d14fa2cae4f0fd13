package bff_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/events"
	"zwfw/platform/jobs"
	"zwfw/platform/testenv"
	sbprovince "zwfw/sandbox/province"
)

// syncBuffer is a log sink safe for the app's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Shutdown is orderly: new requests are refused, a request in flight gets
// its answer, the workers let go of their leases while MongoDB is still
// connected, and only then are MongoDB and Redis closed.
func TestShutdownFinishesWorkThenClosesTheStores(t *testing.T) {
	logs := &syncBuffer{}
	cfg := testConfig(t)
	s := launchWithLog(t, cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	db := testenv.Client(t).Database(cfg.MongoDatabase)
	ctx := context.Background()

	// The event consumers (reminders, result shipments) lead and hold leases.
	testenv.WaitFor(t, "the event consumers to take their leases", func() bool {
		n, err := db.Collection(events.CursorsCollection).CountDocuments(ctx, bson.D{{Key: "owner", Value: bson.D{{Key: "$ne", Value: ""}}}})
		return err == nil && n >= 2
	})

	// A request in flight: the province answers the guide slowly.
	pv := s.app.Sandbox().ProvinceServer()
	code := pv.Items()[0].Code
	if err := pv.SetFault(sbprovince.Fault{Group: sbprovince.GroupCatalog, Mode: sbprovince.FaultSlow, DelayMS: 1500}); err != nil {
		t.Fatal(err)
	}
	answered := make(chan *http.Response, 1)
	go func() {
		res, err := http.Get(s.base + "/api/v1/items/" + code)
		if err != nil {
			t.Errorf("the request in flight lost its answer: %v", err)
			answered <- nil
			return
		}
		res.Body.Close()
		answered <- res
	}()
	testenv.WaitFor(t, "the request to reach the province", func() bool {
		return pv.Calls("GET /api/catalog/items/{code}") > 0
	})

	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := s.app.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if res := <-answered; res != nil && res.StatusCode != 200 {
		t.Fatalf("the request in flight answered %d", res.StatusCode)
	}
	if _, err := http.Get(s.base + "/livez"); err == nil {
		t.Fatal("a new request was served after shutdown")
	}
	for _, bad := range []string{"release lease failed", "client is disconnected"} {
		if strings.Contains(logs.String(), bad) {
			t.Errorf("the log says %q: the stores closed before the workers let go\n%s", bad, grepLines(logs.String(), bad))
		}
	}
	n, err := db.Collection(events.CursorsCollection).CountDocuments(ctx, bson.D{{Key: "owner", Value: bson.D{{Key: "$ne", Value: ""}}}})
	if err != nil || n != 0 {
		t.Fatalf("%d consumer leases still held after shutdown (%v)", n, err)
	}
	n, err = db.Collection(jobs.CollectionName).CountDocuments(ctx, bson.D{{Key: "state", Value: jobs.StateRunning}})
	if err != nil || n != 0 {
		t.Fatalf("%d jobs still running after shutdown (%v)", n, err)
	}
}

func grepLines(text, what string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, what) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
