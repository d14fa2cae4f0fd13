package courier

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	fakecourier "zwfw/sandbox/courier"
)

var ctx = context.Background()

func stateList(t Tracking) []State {
	var out []State
	for _, e := range t.Events {
		out = append(out, e.State)
	}
	return out
}

// Pickup → advance → every push arrives signed and parses; the last one
// says delivered.
func TestPickupToDeliveryByPushes(t *testing.T) {
	e := newEnv(t)
	p := e.pickup("ems", "ship-1")
	if p.Carrier != "ems" || !strings.HasPrefix(p.WaybillNumber, "11") || !strings.Contains(p.OrderID, ":") {
		t.Fatalf("pickup %+v", p)
	}
	orders := e.fake.Orders()
	if len(orders) != 1 || orders[0].Sender.Address != "福建省福州市鼓楼区八一七北路68号" || orders[0].Weight != "0.5" ||
		orders[0].PickupStart.Format("2006-01-02 15:04") != "2026-03-03 09:00" {
		t.Fatalf("order as booked: %+v", orders)
	}
	for i := range 7 {
		e.clock.Advance(2 * time.Hour)
		if _, err := e.fake.Advance(p.WaybillNumber, 1); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	e.settled()
	got := e.rcv.trackings()
	if len(got) != 7 || len(e.rcv.errors) != 0 {
		t.Fatalf("%d pushes parsed, errors %v", len(got), e.rcv.errors)
	}
	var states []State
	for _, tr := range got {
		states = append(states, tr.State)
	}
	want := []State{StatePickedUp, StateInTransit, StateInTransit, StateInTransit, StateInTransit, StateOutForDelivery, StateDelivered}
	if !slices.Equal(states, want) {
		t.Fatalf("states %v, want %v", states, want)
	}
	last := got[6]
	if !last.Checked || last.Carrier != "ems" || last.Number != p.WaybillNumber || last.MonitorStatus != "shutdown" || last.RawState != "3" {
		t.Fatalf("last push %+v", last)
	}
	if !slices.Equal(stateList(last), want) {
		t.Fatalf("event states %v", stateList(last))
	}
	first := last.Events[0]
	if !first.At.Equal(t0.Add(2*time.Hour)) || first.At.Location() != time.UTC || first.Context != "【福州市】EMS 已收取快件" ||
		first.RawStatus != "揽收" || first.StatusCode != "103" || first.AreaName != "福建,福州市" {
		t.Fatalf("first event %+v", first)
	}
	if !strings.Contains(last.Events[5].Context, "正在派送途中") {
		t.Fatalf("out-for-delivery text %q", last.Events[5].Context)
	}
}

func TestForgedPushRefused(t *testing.T) {
	e := newEnv(t)
	p := e.pickup("ems", "ship-f")
	must(e.fake.Advance(p.WaybillNumber, 1))
	e.settled()
	real := e.fake.Pushes(p.WaybillNumber)[0]
	good := signedForm(real.Param, testSalt)
	if _, err := ParsePush(good, testSalt); err != nil {
		t.Fatalf("genuine push: %v", err)
	}
	tampered := strings.Replace(real.Param, `"state":"1"`, `"state":"3"`, 1)
	cases := map[string]struct {
		form map[string][]string
		salt string
	}{
		"tampered param":  {map[string][]string{"param": {tampered}, "sign": {real.Sign}}, testSalt},
		"wrong salt":      {signedForm(real.Param, "other-salt"), testSalt},
		"no sign":         {map[string][]string{"param": {real.Param}}, testSalt},
		"empty salt":      {signedForm(real.Param, ""), ""},
		"sign of nothing": {map[string][]string{"param": {real.Param}, "sign": {md5Upper("", testSalt)}}, testSalt},
	}
	for name, c := range cases {
		if _, err := ParsePush(c.form, c.salt); !errors.Is(err, ErrForgedPush) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ParsePush(signedForm(`{"kuaidicom":"ems","status":"10"}`, testSalt), testSalt); !errors.Is(err, ErrNotTrackingPush) {
		t.Errorf("order callback: %v", err)
	}
	if _, err := ParsePush(signedForm(`not json`, testSalt), testSalt); !errors.Is(err, ErrBadResponse) {
		t.Errorf("garbage: %v", err)
	}
}

func TestPushFaultsAsConfigured(t *testing.T) {
	t.Run("drop", func(t *testing.T) {
		e := newEnv(t)
		p := e.pickup("ems", "d")
		if err := e.fake.SetFault(fakecourier.PushFault{Number: p.WaybillNumber, Mode: fakecourier.FaultDrop, DropRate: 1}); err != nil {
			t.Fatal(err)
		}
		must(e.fake.Advance(p.WaybillNumber, 3))
		e.settled()
		if n := len(e.rcv.trackings()); n != 0 {
			t.Fatalf("%d pushes arrived, all should be lost", n)
		}
		tr, err := e.c.Track(ctx, "ems", p.WaybillNumber, "")
		if err != nil || len(tr.Events) != 3 {
			t.Fatalf("polling after lost pushes: %+v %v", tr, err)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		e := newEnv(t)
		p := e.pickup("ems", "dup")
		if err := e.fake.SetFault(fakecourier.PushFault{Mode: fakecourier.FaultDuplicate}); err != nil {
			t.Fatal(err)
		}
		must(e.fake.Advance(p.WaybillNumber, 1))
		e.settled()
		got := e.rcv.trackings()
		if len(got) != 2 || len(got[0].Events) != 1 || len(got[1].Events) != 1 {
			t.Fatalf("pushes %+v", got)
		}
	})
	t.Run("reorder", func(t *testing.T) {
		e := newEnv(t)
		p := e.pickup("ems", "re")
		if err := e.fake.SetFault(fakecourier.PushFault{Mode: fakecourier.FaultReorder}); err != nil {
			t.Fatal(err)
		}
		must(e.fake.Advance(p.WaybillNumber, 2))
		e.settled()
		got := e.rcv.trackings()
		if len(got) != 2 || len(got[0].Events) != 2 || len(got[1].Events) != 1 || got[1].State != StatePickedUp {
			t.Fatalf("want the later push first: %+v", got)
		}
	})
}

// must is for fake calls whose failure is the test's bug, not the subject.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// With pushes off, polling still shows the parcel moving.
func TestTrackWithPushesOff(t *testing.T) {
	e := newEnv(t)
	p := e.pickup("shunfeng", "sf")
	if _, err := e.c.Track(ctx, "shunfeng", p.WaybillNumber, "9000"); !errors.Is(err, ErrNoTracking) {
		t.Fatalf("before pickup: %v", err)
	}
	if err := e.fake.SetFault(fakecourier.PushFault{Mode: fakecourier.FaultOff}); err != nil {
		t.Fatal(err)
	}
	must(e.fake.Advance(p.WaybillNumber, 6))
	e.settled()
	if n := len(e.rcv.trackings()); n != 0 {
		t.Fatalf("%d pushes with pushes off", n)
	}
	tr, err := e.c.Track(ctx, "shunfeng", p.WaybillNumber, "9000")
	if err != nil {
		t.Fatal(err)
	}
	if tr.State != StateOutForDelivery || tr.Checked || len(tr.Events) != 6 || tr.Events[0].State != StatePickedUp ||
		!strings.Contains(tr.Events[0].Context, "顺丰速运 已收取快件") {
		t.Fatalf("tracking %+v", tr)
	}
	if _, err := e.c.Track(ctx, "shunfeng", p.WaybillNumber, "1111"); !errors.Is(err, ErrPhoneMismatch) {
		t.Fatalf("wrong phone: %v", err)
	}
	if _, err := e.c.Track(ctx, "nope", p.WaybillNumber, ""); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("unknown carrier: %v", err)
	}
}

func TestCancelPickup(t *testing.T) {
	e := newEnv(t)
	p := e.pickup("ems", "c1")
	if err := e.c.CancelPickup(ctx, p.Carrier, p.OrderID, "申请人改为窗口递交"); err != nil {
		t.Fatal(err)
	}
	if err := e.c.CancelPickup(ctx, p.Carrier, p.OrderID, ""); err != nil {
		t.Fatalf("repeated cancel: %v", err)
	}
	if o := e.fake.Orders()[0]; o.Status != "cancelled" || o.CancelMsg != "申请人改为窗口递交" {
		t.Fatalf("order %+v", o)
	}

	p2 := e.pickup("ems", "c2")
	must(e.fake.Advance(p2.WaybillNumber, 1))
	if err := e.c.CancelPickup(ctx, p2.Carrier, p2.OrderID, "不寄了"); !errors.Is(err, ErrAlreadyPickedUp) {
		t.Fatalf("cancel after pickup: %v", err)
	}
	if err := e.c.CancelPickup(ctx, "ems", "ABC:123", "x"); !errors.Is(err, ErrOrderNotFound) {
		t.Fatalf("unknown order: %v", err)
	}
	if err := e.c.CancelPickup(ctx, "ems", "no-separator", "x"); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("malformed reference: %v", err)
	}
}

// A retried pickup with the same idempotency key books one courier.
func TestIdempotentPickup(t *testing.T) {
	e := newEnv(t)
	long := "shipment:" + strings.Repeat("材料", 20)
	a, b := e.pickup("ems", long), e.pickup("ems", long)
	if a != b {
		t.Fatalf("retry booked again: %+v vs %+v", a, b)
	}
	if c := e.pickup("ems", "another"); c.OrderID == a.OrderID {
		t.Fatal("another key answered the first order")
	}
	if n := len(e.fake.Orders()); n != 2 {
		t.Fatalf("%d orders, want 2", n)
	}
	if got := e.fake.Orders()[0].ThirdOrderID; len(got) != 32 {
		t.Fatalf("long key sent as %q", got)
	}
}

func TestSubscribe(t *testing.T) {
	e := newEnv(t)
	p := must(e.fake.AddParcel(fakecourier.ParcelSpec{Com: "ems", From: "福建省福州市鼓楼区", To: "福建省泉州市丰泽区"}))
	for range 2 { // the second is Kuaidi100's 重复订阅: success
		if err := e.c.Subscribe(ctx, "ems", p.Number, "", e.rcv.url(), testSalt); err != nil {
			t.Fatal(err)
		}
	}
	must(e.fake.Advance(p.Number, 1))
	e.settled()
	if got := e.rcv.trackings(); len(got) != 1 || got[0].State != StatePickedUp {
		t.Fatalf("pushes %+v", got)
	}
	if err := e.c.Subscribe(ctx, "shunfeng", "SF1", "", e.rcv.url(), testSalt); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("shunfeng without phone: %v", err)
	}
}

func TestRequestChecks(t *testing.T) {
	e := newEnv(t)
	day := func(d int, from, to string) Window {
		base := time.Date(2026, 3, 2+d, 0, 0, 0, 0, chinaTime)
		f, _ := time.ParseDuration(from)
		g, _ := time.ParseDuration(to)
		return Window{Start: base.Add(f), End: base.Add(g)}
	}
	cases := []struct {
		name   string
		mutate func(r *PickupRequest)
		err    error
	}{
		{"today", func(r *PickupRequest) { r.Window = day(0, "14h", "16h") }, nil},
		{"day after tomorrow", func(r *PickupRequest) { r.Window = day(2, "9h", "9h30m") }, nil},
		{"no window", func(r *PickupRequest) { r.Window = Window{} }, nil},
		{"in three days", func(r *PickupRequest) { r.Window = day(3, "9h", "10h") }, ErrInvalidRequest},
		{"yesterday", func(r *PickupRequest) { r.Window = day(-1, "9h", "10h") }, ErrInvalidRequest},
		{"over midnight", func(r *PickupRequest) { r.Window = day(1, "23h", "25h") }, ErrInvalidRequest},
		{"backwards", func(r *PickupRequest) { r.Window = day(1, "10h", "9h") }, ErrInvalidRequest},
		{"no key", func(r *PickupRequest) { r.IdempotencyKey = "" }, ErrInvalidRequest},
		{"no cargo", func(r *PickupRequest) { r.Cargo = "" }, ErrInvalidRequest},
		{"bad mobile (aggregator)", func(r *PickupRequest) { r.Sender.Phone = "0591-123" }, ErrInvalidRequest},
		{"unknown carrier (aggregator)", func(r *PickupRequest) { r.Carrier = "pigeon" }, ErrInvalidRequest},
		{"shunfeng needs a window (aggregator)", func(r *PickupRequest) { r.Carrier, r.Window = "shunfeng", Window{} }, ErrInvalidRequest},
	}
	for i, c := range cases {
		r := e.request("ems", "k"+string(rune('a'+i)))
		c.mutate(&r)
		_, err := e.c.CreatePickup(ctx, r)
		if (c.err == nil && err != nil) || (c.err != nil && !errors.Is(err, c.err)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
	for g, want := range map[int]string{1: "0.001", 500: "0.5", 1000: "1", 1250: "1.25", 20000: "20"} {
		if got := kilograms(g); got != want {
			t.Errorf("kilograms(%d) = %s, want %s", g, got, want)
		}
	}
}

func TestAuthFailures(t *testing.T) {
	e := newEnv(t)
	bad := New(Config{BaseURL: e.c.base, Customer: e.fake.Customer(), Key: e.fake.Key(), Secret: "wrong", Now: e.clock.Now}, nil)
	if _, err := bad.CreatePickup(ctx, e.request("ems", "x")); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("wrong secret: %v", err)
	}
	bad = New(Config{BaseURL: e.c.base, Customer: e.fake.Customer(), Key: "wrong", Secret: e.fake.Secret()}, nil)
	if _, err := bad.Track(ctx, "ems", "1100000000000", ""); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("wrong key on query: %v", err)
	}
	if err := bad.Subscribe(ctx, "ems", "1100000000000", "", e.rcv.url(), testSalt); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("wrong key on subscribe: %v", err)
	}
	skewed := New(Config{BaseURL: e.c.base, Customer: e.fake.Customer(), Key: e.fake.Key(), Secret: e.fake.Secret(),
		Now: func() time.Time { return e.clock.Now().Add(time.Hour) }}, nil)
	if _, err := skewed.CreatePickup(ctx, e.request("ems", "y")); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("skewed clock: %v", err)
	}
}

func TestTransportFailures(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/down/poll/query.do":
			w.WriteHeader(http.StatusBadGateway)
		case "/garbage/poll/query.do":
			_, _ = w.Write([]byte("<html>维护中</html>"))
		case "/slow/poll/query.do":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	defer srv.Close()
	defer close(release)
	cases := map[string]error{"down": ErrUnavailable, "garbage": ErrBadResponse, "slow": ErrTimeout}
	for path, want := range cases {
		c := New(Config{BaseURL: srv.URL + "/" + path, Customer: "c", Key: "k", Timeout: 50 * time.Millisecond}, nil)
		if _, err := c.Track(ctx, "ems", "1", ""); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", path, err, want)
		}
	}
	c := New(Config{BaseURL: "http://127.0.0.1:1", Customer: "c", Key: "k"}, nil)
	if _, err := c.Track(ctx, "ems", "1", ""); !errors.Is(err, ErrUnavailable) {
		t.Errorf("refused connection: %v", err)
	}
}
