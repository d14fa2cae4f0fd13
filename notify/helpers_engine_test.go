package notify_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/notify"
	"zwfw/platform/events"
	"zwfw/platform/jobs"
	"zwfw/platform/testenv"
)

// clock is the injected clock; tests move it, never sleep on it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var cst = time.FixedZone("CST", 8*3600)

// sent is one message a fake channel accepted.
type sent struct {
	Channel notify.Channel
	To      string // openid, registration id or phone
	Tmpl    string // template id / code / push title
	Data    map[string]string
	At      time.Time // wall time, for latency
}

// channels fakes WeChat, push and SMS: they record sends and fail on demand.
type channels struct {
	mu       sync.Mutex
	sends    []sent
	fail     map[notify.Channel]error // every send on the channel fails with this
	consents map[string]int           // WeChat's own consent counter: openid|tmpl
	onSend   func(sent)
}

func newChannels() *channels {
	return &channels{fail: map[notify.Channel]error{}, consents: map[string]int{}}
}

func (c *channels) record(s sent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.fail[s.Channel]; err != nil {
		return err
	}
	if s.Channel == notify.ChannelWeChat {
		k := s.To + "|" + s.Tmpl
		if c.consents[k] <= 0 {
			return fmt.Errorf("%w: errcode=43101", notify.ErrNoConsent)
		}
		c.consents[k]--
	}
	s.At = time.Now()
	c.sends = append(c.sends, s)
	if c.onSend != nil {
		c.onSend(s)
	}
	return nil
}

func (c *channels) setFail(ch notify.Channel, err error) {
	c.mu.Lock()
	c.fail[ch] = err
	c.mu.Unlock()
}

func (c *channels) grant(openID, tmpl string, n int) {
	c.mu.Lock()
	c.consents[openID+"|"+tmpl] += n
	c.mu.Unlock()
}

func (c *channels) all() []sent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]sent(nil), c.sends...)
}

type wechatFake struct{ c *channels }

func (w wechatFake) Send(_ context.Context, openID, tmpl, page string, data map[string]string) error {
	return w.c.record(sent{Channel: notify.ChannelWeChat, To: openID, Tmpl: tmpl, Data: data})
}

type pushFake struct{ c *channels }

func (p pushFake) Send(_ context.Context, reg, title, body string, _ map[string]string) error {
	return p.c.record(sent{Channel: notify.ChannelPush, To: reg, Tmpl: title, Data: map[string]string{"body": body}})
}

type smsFake struct{ c *channels }

func (s smsFake) Send(_ context.Context, phone, code string, params map[string]string) error {
	return s.c.record(sent{Channel: notify.ChannelSMS, To: phone, Tmpl: code, Data: params})
}

// people is the fake identity: user id -> recipient.
type people map[string]notify.Recipient

func (p people) Recipient(_ context.Context, id string) (notify.Recipient, error) { return p[id], nil }

// world is the fake domain state the scheduled reminders re-read.
type world struct {
	mu       sync.Mutex
	bookings map[string]time.Time // booking id -> confirmed slot start (absent: cancelled)
}

func (w *world) BookingActive(_ context.Context, id string, start time.Time) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.bookings[id]
	return ok && s.Equal(start), nil
}

func (w *world) BookingDetails(context.Context, string) (notify.BookingDetails, error) {
	return notify.BookingDetails{ItemName: "个体工商户设立登记", HallName: "市民中心政务服务大厅", Bring: []string{"身份证"}, NoShows: 2}, nil
}
func (w *world) PaymentOpen(context.Context, string) (bool, error) { return true, nil }
func (w *world) CaseProgress(context.Context, string) (notify.CaseProgress, error) {
	return notify.CaseProgress{Status: "accepted"}, nil
}
func (w *world) LicenseExpiresAt(context.Context, string, string) (time.Time, error) {
	return time.Time{}, nil
}

func (w *world) set(id string, start time.Time) {
	w.mu.Lock()
	w.bookings[id] = start
	w.mu.Unlock()
}

func (w *world) cancel(id string) {
	w.mu.Lock()
	delete(w.bookings, id)
	w.mu.Unlock()
}

// Ids of the test users: user u1 has everything, u2 only a phone.
const (
	openID1 = "oABCDEFGHIJKLMNOPQRSTUVWXYZ1"
	phone1  = "13800138000"
)

type env struct {
	t     testing.TB
	db    *mongo.Database
	clock *clock
	ch    *channels
	world *world
	queue *jobs.Queue
	store *notify.MongoStore
	svc   *notify.Service
	ppl   people
}

func newEnv(t testing.TB, start time.Time) *env {
	t.Helper()
	db := testenv.DB(t)
	e := &env{t: t, db: db, clock: &clock{t: start}, ch: newChannels(), world: &world{bookings: map[string]time.Time{}},
		queue: jobs.NewQueue(db), store: notify.NewMongoStore(db),
		ppl: people{"u1": {OpenID: openID1, Phone: phone1, Name: "张三"}, "u2": {Phone: "13900139000"}}}
	if err := e.store.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.svc = e.newService("replica-1")
	return e
}

func (e *env) newService(owner string) *notify.Service {
	return notify.NewService(notify.Deps{Store: e.store, Queue: e.queue, WeChat: wechatFake{e.ch}, Push: pushFake{e.ch},
		SMS: smsFake{e.ch}, Recipients: e.ppl, Lookups: e.world, Now: e.clock.Now, Logger: testenv.QuietLogger(), Owner: owner})
}

// runner starts a job runner of svc on the fake clock; stopped at cleanup.
func (e *env) runner(svc *notify.Service, owner string) *jobs.Runner {
	r := jobs.NewRunner(e.db, jobs.RunnerOptions{Owner: owner, Concurrency: 4, PollInterval: 5 * time.Millisecond,
		Backoff: func(int) time.Duration { return time.Minute }, Logger: testenv.QuietLogger(), Now: e.clock.Now})
	r.Register(notify.JobSend, svc.Dispatch)
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	e.t.Cleanup(func() {
		cancel()
		sctx, c2 := context.WithTimeout(context.Background(), 10*time.Second)
		defer c2()
		_ = r.Stop(sctx)
	})
	return r
}

// settle waits until no send job is running or due at the fake time. It
// looks at pending, then running, then pending again: a job moving from
// pending to running between two reads cannot slip through.
func (e *env) settle() {
	e.t.Helper()
	ctx := context.Background()
	noneDue := func() bool {
		pending, err := e.queue.List(ctx, jobs.Filter{State: jobs.StatePending}, 1000)
		if err != nil {
			return false
		}
		for _, j := range pending {
			if !j.RunAt.After(e.clock.Now()) {
				return false
			}
		}
		return true
	}
	testenv.WaitFor(e.t, "due jobs to finish", func() bool {
		if !noneDue() {
			return false
		}
		running, err := e.queue.List(ctx, jobs.Filter{State: jobs.StateRunning}, 10)
		return err == nil && len(running) == 0 && noneDue()
	})
}

func (e *env) event(typ, subject, actor string, data map[string]any) events.Event {
	e.t.Helper()
	ev, err := events.NewEvent(typ, subject, actor, data)
	if err != nil {
		e.t.Fatal(err)
	}
	ev.At = e.clock.Now()
	return ev
}

func (e *env) handle(svc *notify.Service, ev events.Event) {
	e.t.Helper()
	if err := svc.HandleEvent(context.Background(), ev); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) subscribe(user string, tmpl string, n int) {
	e.t.Helper()
	for range n {
		if _, err := e.svc.Subscribe(context.Background(), user, []string{tmpl}, map[string]string{tmpl: "accept"}); err != nil {
			e.t.Fatal(err)
		}
	}
	if p, ok := e.ppl[user]; ok && p.OpenID != "" {
		e.ch.grant(p.OpenID, tmpl, n)
	}
}

func (e *env) message(user, rule, subject string) *notify.Message {
	e.t.Helper()
	var m notify.Message
	err := e.db.Collection(notify.MessagesCollection).FindOne(context.Background(),
		bson.D{{Key: "_id", Value: notify.DedupID(user, rule, subject)}}).Decode(&m)
	if err != nil {
		e.t.Fatalf("message %s/%s/%s: %v", user, rule, subject, err)
	}
	return &m
}

func (e *env) countSends(ch notify.Channel, tmpl string) int {
	n := 0
	for _, s := range e.ch.all() {
		if s.Channel == ch && (tmpl == "" || s.Tmpl == tmpl) {
			n++
		}
	}
	return n
}

func bookingData(user string, start time.Time) map[string]any {
	return map[string]any{"user_id": user, "hall_id": "hall-1", "item_code": "11440100MB2D0000001",
		"slot_start": start, "slot_end": start.Add(30 * time.Minute), "number": "YY2026", "status": "confirmed"}
}
