package courier

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"zwfw/platform/testenv"
	fakecourier "zwfw/sandbox/courier"
	"zwfw/sandbox/fake"
)

// t0 is the tests' start: Monday 2026-03-02 10:00 in China.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, chinaTime)

const testSalt = "zwfw-push-salt-0123456789abcdef"

// env is the sandbox fake behind a real HTTP server, a push receiver that
// parses with ParsePush, and a client; all share a manual clock.
type env struct {
	t     *testing.T
	clock *fake.ManualClock
	fake  *fakecourier.Server
	c     *Client
	rcv   *receiver
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clock := fake.NewManualClock(t0)
	f := fakecourier.New(fakecourier.Options{
		Now: clock.Now, TickEvery: -1, Seed: 7,
		PushRetryDelays: []time.Duration{time.Millisecond, time.Millisecond},
	})
	srv := httptest.NewServer(f.Handler())
	rcv := newReceiver(testSalt)
	t.Cleanup(func() { f.Close(); srv.Close(); rcv.srv.Close() })
	c := New(Config{
		BaseURL: srv.URL + fakecourier.BasePath, Customer: f.Customer(), Key: f.Key(), Secret: f.Secret(),
		Now: clock.Now,
	}, srv.Client())
	return &env{t: t, clock: clock, fake: f, c: c, rcv: rcv}
}

// receiver is zwfw's push handler in miniature: it verifies and parses
// each push and answers as Kuaidi100 expects.
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []Tracking
	errors []error
}

func newReceiver(salt string) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_ = req.ParseForm()
		tr, err := ParsePush(req.PostForm, salt)
		r.mu.Lock()
		if err != nil {
			r.errors = append(r.errors, err)
		} else {
			r.got = append(r.got, tr)
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(PushReply(err == nil || errors.Is(err, ErrNotTrackingPush)))
	}))
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/api/v1/callbacks/courier" }

func (r *receiver) trackings() []Tracking {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Tracking(nil), r.got...)
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

// request is a valid pickup of application materials from 张三 to the hall.
func (e *env) request(carrier, key string) PickupRequest {
	tomorrow := t0.AddDate(0, 0, 1)
	return PickupRequest{
		Carrier: carrier,
		Sender: Party{Name: "张三", Phone: "13800138000", Province: "福建省", City: "福州市",
			District: "鼓楼区", Detail: "八一七北路68号"},
		Receiver: Party{Name: "思明区行政服务中心", Phone: "13900139000", Province: "福建省", City: "厦门市",
			District: "思明区", Detail: "湖滨北路1号"},
		Cargo: "申请材料", WeightGrams: 500,
		Window:      Window{Start: tomorrow.Add(-time.Hour), End: tomorrow.Add(time.Hour)},
		CallbackURL: e.rcv.url(), Salt: testSalt, IdempotencyKey: key,
	}
}

func (e *env) pickup(carrier, key string) Pickup {
	e.t.Helper()
	p, err := e.c.CreatePickup(context.Background(), e.request(carrier, key))
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// signedForm is a push form signed with salt.
func signedForm(param, salt string) url.Values {
	return url.Values{"param": {param}, "sign": {md5Upper(param, salt)}}
}
