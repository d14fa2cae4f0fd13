package payments

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"zwfw/platform/events"
	"zwfw/platform/jobs"
	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fakeGateway is an in-memory provider: the domain's contract with a
// channel, without a wire format (the adapters' own tests cover those).
type fakeGateway struct {
	mu      sync.Mutex
	prov    Provider
	now     func() time.Time
	trades  map[string]*Trade
	refunds map[string]*RefundResult
	extra   []BillLine // lines the bill has beyond the trades (e.g. a surplus)
	closed  map[string]bool
	seq     int
	prepays int
	// hold, when set, keeps every Prepay waiting until it is closed (a slow channel).
	hold chan struct{}
}

func newFakeGateway(p Provider, now func() time.Time) *fakeGateway {
	return &fakeGateway{prov: p, now: now, trades: map[string]*Trade{}, refunds: map[string]*RefundResult{}, closed: map[string]bool{}}
}

func (g *fakeGateway) Provider() Provider { return g.prov }

func (g *fakeGateway) Prepay(_ context.Context, r PrepayRequest) (Prepay, error) {
	g.mu.Lock()
	hold := g.hold
	g.mu.Unlock()
	if hold != nil {
		<-hold
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.prepays++
	if t, ok := g.trades[r.OutTradeNo]; ok && t.State == TradePaid {
		return Prepay{}, ErrTradePaid
	}
	g.trades[r.OutTradeNo] = &Trade{OutTradeNo: r.OutTradeNo, State: TradeNotPaid, Amount: r.Amount, Currency: "CNY", Attach: r.Attach}
	return Prepay{Params: map[string]string{"package": "prepay_id=" + r.OutTradeNo}}, nil
}

// pay makes the "user" pay amount for the trade and returns the notify body.
func (g *fakeGateway) pay(t testing.TB, out string, amount Fen) []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	tr, ok := g.trades[out]
	if !ok {
		t.Fatalf("no trade %s", out)
	}
	g.seq++
	tr.State, tr.Amount, tr.TransactionID, tr.PaidAt = TradePaid, amount, fmt.Sprintf("TX%08d", g.seq), g.now()
	b, _ := json.Marshal(map[string]any{"trade": tr, "sig": "valid"})
	return b
}

// payAgain is the channel taking money for a trade zwfw closed (the payer
// was still in the cashier) and returns the notify body; a repeat returns
// the same notify.
func (g *fakeGateway) payAgain(t *testing.T, out string, amount Fen) []byte {
	g.mu.Lock()
	tr, ok := g.trades[out]
	if ok && tr.State == TradePaid {
		b, _ := json.Marshal(map[string]any{"trade": tr, "sig": "valid"})
		g.mu.Unlock()
		return b
	}
	g.mu.Unlock()
	return g.pay(t, out, amount)
}

func (g *fakeGateway) Query(_ context.Context, out string) (Trade, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.trades[out]
	if !ok {
		return Trade{}, ErrTradeNotFound
	}
	return *t, nil
}

func (g *fakeGateway) Close(_ context.Context, out string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t, ok := g.trades[out]; ok {
		if t.State == TradePaid {
			return ErrTradePaid
		}
		t.State = TradeClosed
	}
	g.closed[out] = true
	return nil
}

func (g *fakeGateway) Refund(_ context.Context, r RefundRequest) (RefundResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if res, ok := g.refunds[r.OutRefundNo]; ok {
		return *res, nil
	}
	res := &RefundResult{OutTradeNo: r.OutTradeNo, OutRefundNo: r.OutRefundNo, RefundID: "RID" + r.OutRefundNo, Amount: r.Amount, State: RefundSuccess, SettledAt: g.now()}
	g.refunds[r.OutRefundNo] = res
	return *res, nil
}

func (g *fakeGateway) QueryRefund(_ context.Context, _, outRefundNo string) (RefundResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if res, ok := g.refunds[outRefundNo]; ok {
		return *res, nil
	}
	return RefundResult{}, ErrRefundNotFound
}

func (g *fakeGateway) ParseNotify(_ context.Context, n InboundNotify) (Notification, error) {
	var v struct {
		Trade Trade  `json:"trade"`
		Sig   string `json:"sig"`
	}
	if err := json.Unmarshal(n.Body, &v); err != nil || v.Sig != "valid" {
		return Notification{}, ErrForgedNotify
	}
	return Notification{Kind: NotifyPaid, Trade: v.Trade, ID: v.Trade.TransactionID}, nil
}

func (g *fakeGateway) Ack(ok bool) ([]byte, string) {
	if ok {
		return []byte("success"), "text/plain"
	}
	return []byte("fail"), "text/plain"
}

func (g *fakeGateway) Bill(_ context.Context, day time.Time) ([]BillLine, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []BillLine
	for _, t := range g.trades {
		if t.State == TradePaid && sameDay(t.PaidAt, day) {
			out = append(out, BillLine{Kind: BillPayment, OutTradeNo: t.OutTradeNo, TransactionID: t.TransactionID, Amount: t.Amount, At: t.PaidAt})
		}
	}
	return append(out, g.extra...), nil
}

func sameDay(a, b time.Time) bool {
	return a.In(shanghai).Format("2006-01-02") == b.In(shanghai).Format("2006-01-02")
}

// fakeTreasury is an in-memory non-tax platform.
type fakeTreasury struct {
	mu       sync.Mutex
	notices  map[string]*Notice
	confirms []Confirmation
	refunds  map[string]RefundRegistration
	down     bool
}

func (f *fakeTreasury) Notice(_ context.Context, code string) (Notice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return Notice{}, fmt.Errorf("down")
	}
	n, ok := f.notices[code]
	if !ok {
		return Notice{}, ErrNoticeNotFound
	}
	return *n, nil
}

func (f *fakeTreasury) NoticesOf(_ context.Context, payer string) ([]Notice, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Notice
	for _, n := range f.notices {
		if n.PayerID == payer {
			out = append(out, *n)
		}
	}
	return out, nil
}

func (f *fakeTreasury) ConfirmPaid(_ context.Context, c Confirmation) (Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.notices[c.PaymentCode]
	if n.Status == NoticePaid && n.Receipt != nil {
		for _, old := range f.confirms {
			if old.PaymentCode == c.PaymentCode && old.TransactionID != c.TransactionID {
				return Receipt{}, ErrNoticeNotPayable
			}
		}
		return *n.Receipt, nil
	}
	n.Status = NoticePaid
	n.Receipt = &Receipt{Number: fmt.Sprintf("%010d", len(f.confirms)+1), Code: "35010125", CheckSum: "ab12cd", URL: "http://receipts/" + c.PaymentCode, IssuedAt: c.PaidAt}
	f.confirms = append(f.confirms, c)
	return *n.Receipt, nil
}

func (f *fakeTreasury) RegisterRefund(_ context.Context, r RefundRegistration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refunds[r.RefundNo] = r
	return nil
}

func (f *fakeTreasury) Confirmations(_ context.Context, day time.Time) ([]Confirmation, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Confirmation
	for _, c := range f.confirms {
		if sameDay(c.PaidAt, day) {
			out = append(out, c)
		}
	}
	return out, nil
}

type fakePeople struct{}

func (fakePeople) Payer(_ context.Context, userID string) (Payer, error) {
	return Payer{IDs: []string{"ID-" + userID}, OpenID: "openid-" + userID}, nil
}

// clock is the injected clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t        testing.TB
	svc      *Service
	store    *MongoStore
	queue    *jobs.Queue
	log      *events.Log
	relay    *events.Relay
	wx, ali  *fakeGateway
	treasury *fakeTreasury
	clock    *clock
	codes    int
}

func newEnv(t testing.TB) *env {
	t.Helper()
	db := testenv.DB(t)
	ctx := context.Background()
	store := NewMongoStore(db)
	if err := store.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	q := jobs.NewQueue(db)
	if err := q.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	log := events.NewLog(db)
	if err := log.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, shanghai)}
	e := &env{t: t, store: store, queue: q, log: log, relay: events.NewRelay(log, OutboxCollections, events.RelayOptions{Logger: testenv.QuietLogger()}), clock: clk,
		wx: newFakeGateway(WeChatPay, clk.Now), ali: newFakeGateway(Alipay, clk.Now),
		treasury: &fakeTreasury{notices: map[string]*Notice{}, refunds: map[string]RefundRegistration{}}}
	e.svc = NewService(Deps{
		Store: store, Treasury: e.treasury, Gateways: []Gateway{e.wx, e.ali}, People: fakePeople{}, Queue: q,
		Index: func(field, v string) string { return field + ":" + v }, Now: clk.Now, Logger: testenv.QuietLogger(),
		Settings: Settings{BusyWait: time.Second},
	})
	return e
}

// notice issues a notice of amount to user's payer id and returns its code.
func (e *env) notice(user string, amount Fen) string {
	e.codes++
	code := fmt.Sprintf("35010026%012d", e.codes)
	e.treasury.mu.Lock()
	e.treasury.notices[code] = &Notice{PaymentCode: code, PayerName: "张三", PayerID: "ID-" + user, Agency: "福州市不动产登记中心",
		Items: []NoticeItem{{Code: "103040101", Name: "不动产登记费", Amount: amount, Quantity: 1}}, Amount: amount,
		IssuedAt: e.clock.Now(), DueAt: e.clock.Now().Add(15 * 24 * time.Hour), Status: NoticeUnpaid}
	e.treasury.mu.Unlock()
	return code
}

func (e *env) pay(user, code string, ch Channel) PayResult {
	e.t.Helper()
	if _, err := e.svc.List(context.Background(), user, ""); err != nil {
		e.t.Fatal(err)
	}
	res, err := e.svc.Pay(context.Background(), PayRequest{UserID: user, PaymentID: code, Channel: ch})
	if err != nil {
		e.t.Fatalf("Pay: %v", err)
	}
	return res
}

// runJob runs the job type+key now, as the runner would.
func (e *env) runJob(typ, key string, h jobs.Handler) error {
	e.t.Helper()
	j, err := e.queue.Get(context.Background(), jobs.JobID(typ, key))
	if err != nil {
		e.t.Fatalf("job %s %s: %v", typ, key, err)
	}
	return h(context.Background(), &j)
}

// eventsOf relays every pending event, then counts the log's events of a
// type about a subject.
func (e *env) eventsOf(typ, subject string) int {
	e.t.Helper()
	if err := e.relay.Sweep(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	evs, err := e.log.ReadSubject(context.Background(), subject, 0, 1000)
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
