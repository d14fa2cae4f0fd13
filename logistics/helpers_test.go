package logistics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"zwfw/logistics/courier"
	"zwfw/pii"
	"zwfw/platform/events"
	"zwfw/platform/jobs"
	"zwfw/platform/testenv"
	fakecourier "zwfw/sandbox/courier"
	"zwfw/sandbox/fake"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// t0 is the tests' start: Monday 2026-03-02 10:00 in China.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, chinaTime)

// env is the service over the embedded MongoDB, the real courier client
// talking to the sandbox courier over HTTP, and a callback server that
// hands every push to HandlePush, all on one manual clock.
type env struct {
	t     testing.TB
	ctx   context.Context
	clock *fake.ManualClock
	fake  *fakecourier.Server
	svc   *Service
	store *MongoStore
	queue *jobs.Queue
	log   *events.Log
	relay *events.Relay
	// relayOff leaves events in the shipments' outboxes (a process that
	// died before relaying them); eventsOf then reads the log as it is.
	relayOff bool
	cb       *callbacks
	pii      *pii.Cipher
}

// hall is the receiver of every case's materials in the tests: a hall in
// another city, so that parcels take the long way (7 steps).
var hall = Address{Name: "思明区行政服务中心", Phone: "13900139000", Province: "福建省", City: "厦门市",
	District: "思明区", Detail: "湖滨北路1号"}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	db := testenv.DB(t)
	store := NewMongoStore(db)
	if err := store.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	q := jobs.NewQueue(db)
	log := events.NewLog(db)
	if err := log.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	clock := fake.NewManualClock(t0)
	f := fakecourier.New(fakecourier.Options{
		Now: clock.Now, TickEvery: -1, Seed: 7,
		PushRetryDelays: []time.Duration{time.Millisecond, time.Millisecond},
	})
	api := httptest.NewServer(f.Handler())
	cipher, err := pii.NewCipher(map[byte][]byte{1: pii.GenerateKey()}, 1)
	if err != nil {
		t.Fatal(err)
	}
	client := courier.New(courier.Config{
		BaseURL: api.URL + fakecourier.BasePath, Customer: f.Customer(), Key: f.Key(), Secret: f.Secret(), Now: clock.Now,
	}, api.Client())
	relay := events.NewRelay(log, []string{ShipmentsCollection}, events.RelayOptions{Now: clock.Now, Logger: testenv.QuietLogger()})
	e := &env{t: t, ctx: ctx, clock: clock, fake: f, store: store, queue: q, log: log, relay: relay, pii: cipher}
	e.cb = newCallbacks(e)
	t.Cleanup(func() { f.Close(); api.Close(); e.cb.srv.Close() })
	e.svc = NewService(Deps{
		Store: store, Courier: client, Queue: q, Events: log, PII: cipher,
		HallAddress: func(context.Context, string) (Address, error) { return hall, nil },
		CallbackURL: func(carrier string) string { return e.cb.srv.URL + "/callbacks/courier/" + carrier },
		Settings:    Settings{PollStaleAfter: 10 * time.Minute, PollEvery: 5 * time.Minute},
		Now:         clock.Now, Logger: testenv.QuietLogger(),
	})
	return e
}

// callbacks is zwfw's courier callback route in miniature: it hands each
// push to HandlePush and answers with its reply. It records every form it
// got, to replay them.
type callbacks struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []url.Values
	errs []error
}

func newCallbacks(e *env) *callbacks {
	c := &callbacks{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /callbacks/courier/{carrier}", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		reply, err := e.svc.HandlePush(r.Context(), r.PathValue("carrier"), r.PostForm)
		c.mu.Lock()
		c.got = append(c.got, r.PostForm)
		if err != nil {
			c.errs = append(c.errs, err)
		}
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(reply)
	})
	c.srv = httptest.NewServer(mux)
	return c
}

func (c *callbacks) forms() []url.Values {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]url.Values(nil), c.got...)
}

func (c *callbacks) errors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.errs...)
}

// settled waits until the fake has no push queued or retrying.
func (e *env) settled() {
	e.t.Helper()
	testenv.WaitFor(e.t, "pushes to settle", func() bool {
		for _, p := range e.fake.Pushes("") {
			if p.Outcome == fakecourier.OutcomeQueued || p.Outcome == fakecourier.OutcomeRetrying {
				return false
			}
		}
		return true
	})
}

// applicant is where 张三's materials are picked up.
func applicant() Address {
	return Address{Name: "张三", Phone: "13800138000", Province: "福建省", City: "福州市", District: "鼓楼区",
		Detail: "八一七北路68号"}
}

func caseRef(n int) CaseRef {
	return CaseRef{ID: fmt.Sprintf("c_%024x", n), Number: fmt.Sprintf("35010026030200%04d", n), UserID: "u1",
		ItemCode: "11350100MB0001", ItemName: "个体工商户设立登记"}
}

// tomorrowMorning is the pickup window 09:00-11:00 the day after t0.
func tomorrowMorning() Window {
	d := t0.AddDate(0, 0, 1)
	return Window{Start: time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, chinaTime),
		End: time.Date(d.Year(), d.Month(), d.Day(), 11, 0, 0, 0, chinaTime)}
}

// pickup creates a pickup for case n and runs its booking job.
func (e *env) pickup(n int) Shipment {
	e.t.Helper()
	sh, err := e.svc.CreatePickup(e.ctx, "u1", caseRef(n), applicant(), tomorrowMorning())
	if err != nil {
		e.t.Fatalf("CreatePickup: %v", err)
	}
	if err := e.runJob(JobCreatePickup, sh.ID); err != nil {
		e.t.Fatalf("booking job: %v", err)
	}
	return e.reload(sh.ID)
}

// runJob runs the job type+key now, as the runner would.
func (e *env) runJob(typ, key string) error {
	e.t.Helper()
	j, err := e.queue.Get(e.ctx, jobs.JobID(typ, key))
	if err != nil {
		e.t.Fatalf("job %s %s: %v", typ, key, err)
	}
	return e.svc.Jobs()[typ](e.ctx, &j)
}

func (e *env) reload(id string) Shipment {
	e.t.Helper()
	sh, err := e.svc.GetAny(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return sh
}

// advance moves the fake clock an hour and the parcel one step.
func (e *env) advance(num string) {
	e.t.Helper()
	e.clock.Advance(time.Hour)
	if _, err := e.fake.Advance(num, 1); err != nil && !errors.Is(err, fakecourier.ErrParcelFinal) {
		e.t.Fatal(err)
	}
}

// eventsOf counts the events of a type for a shipment, after relaying
// what the outboxes hold (as the relay of a running zwfw does).
func (e *env) eventsOf(typ, id string) int {
	e.t.Helper()
	if !e.relayOff {
		if err := e.relay.Sweep(e.ctx); err != nil {
			e.t.Fatal(err)
		}
	}
	return e.loggedOf(typ, id)
}

// loggedOf counts the events of a type for a shipment in the log as it is.
func (e *env) loggedOf(typ, id string) int {
	e.t.Helper()
	evs, err := e.log.ReadSubject(e.ctx, "shipment:"+id, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// courierEntries is the timeline without zwfw's own notes.
func courierEntries(sh Shipment) []TrackEvent {
	var out []TrackEvent
	for _, e := range sh.Timeline {
		if e.Source != SourceSystem {
			out = append(out, e)
		}
	}
	return out
}
