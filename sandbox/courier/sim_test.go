package courier

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func states(p Parcel) []string {
	var out []string
	for _, e := range p.Events {
		out = append(out, e.State)
	}
	return out
}

func TestScenarios(t *testing.T) {
	cases := []struct {
		scenario, to string
		want         []string
	}{
		{ScenarioNormal, "福建省厦门市思明区湖滨北路1号", []string{"1", "0", "0", "0", "0", "5", "3"}},
		{ScenarioNormal, "福建省福州市台江区江滨路1号", []string{"1", "0", "0", "5", "3"}},
		{ScenarioException, "福建省厦门市思明区", []string{"1", "0", "0", "0", "0", "5", "2", "5", "3"}},
		{ScenarioReturned, "北京市朝阳区建国路1号", []string{"1", "0", "0", "0", "0", "5", "14", "6", "6", "4"}},
	}
	for _, c := range cases {
		t.Run(c.scenario+" to "+c.to, func(t *testing.T) {
			e := newEnv(t, Options{})
			p := must(e.s.AddParcel(ParcelSpec{Com: "ems", From: "福建省福州市鼓楼区八一七北路68号", To: c.to, Scenario: c.scenario}))
			p = must(e.s.Advance(p.Number, 100))
			if got := states(p); !slices.Equal(got, c.want) {
				t.Fatalf("states %v, want %v", got, c.want)
			}
			if !p.Checked {
				t.Fatal("journey ended without ischeck")
			}
			if _, err := e.s.Advance(p.Number, 1); err != ErrParcelFinal {
				t.Fatalf("advance after the end: %v", err)
			}
		})
	}
}

func TestScenarioChange(t *testing.T) {
	e := newEnv(t, Options{})
	p := must(e.s.AddParcel(ParcelSpec{Com: "ems", From: "福建省福州市鼓楼区", To: "福建省厦门市思明区"}))
	must(e.s.Advance(p.Number, 6)) // out for delivery: the scenarios part here
	if _, err := e.s.SetScenario(p.Number, ScenarioReturned); err != nil {
		t.Fatal(err)
	}
	must(e.s.Advance(p.Number, 1))
	if _, err := e.s.SetScenario(p.Number, ScenarioNormal); err != ErrScenarioTooLate {
		t.Fatalf("scenario change after refusal: %v", err)
	}
	if _, err := e.s.SetScenario(p.Number, "lost"); err != ErrBadScenario {
		t.Fatal(err)
	}
}

func TestTickOnFakeClock(t *testing.T) {
	e := newEnv(t, Options{AutoAdvance: time.Hour})
	p := must(e.s.AddParcel(ParcelSpec{Com: "ems", From: "福建省福州市鼓楼区", To: "福建省福州市台江区"}))
	e.clock.Advance(59 * time.Minute)
	if n := e.s.Tick(); n != 0 {
		t.Fatalf("%d steps before an hour passed", n)
	}
	e.clock.Advance(2*time.Hour + time.Minute) // 3 h since creation: three steps
	if n := e.s.Tick(); n != 3 {
		t.Fatalf("%d steps after 3 hours, want 3", n)
	}
	got, _ := e.s.ParcelByNumber(p.Number)
	for i, ev := range got.Events {
		if want := t0.Add(time.Duration(i+1) * time.Hour); !ev.Time.Equal(want) {
			t.Errorf("step %d at %v, want %v", i, ev.Time, want)
		}
	}
}

// pushed decodes the pushes the callback got: lastResult state and entries.
func pushed(t *testing.T, e *env) (st []string, n []int) {
	t.Helper()
	for _, f := range e.cb.received() {
		var b pushBody
		if err := json.Unmarshal([]byte(f.Get("param")), &b); err != nil {
			t.Fatal(err)
		}
		st = append(st, b.LastResult.State)
		n = append(n, len(b.LastResult.Data))
	}
	return st, n
}

// subscribed adds a parcel subscribed with salt "s".
func subscribed(t *testing.T, e *env) string {
	t.Helper()
	p := must(e.s.AddParcel(ParcelSpec{Com: "ems", From: "福建省福州市鼓楼区", To: "福建省福州市台江区"}))
	if r := e.subscribe("ems", p.Number, "", "s"); r["result"] != true {
		t.Fatal(r)
	}
	return p.Number
}

func TestPushFaults(t *testing.T) {
	t.Run("none", func(t *testing.T) {
		e := newEnv(t, Options{})
		num := subscribed(t, e)
		must(e.s.Advance(num, 5))
		e.idle()
		if _, n := pushed(t, e); !slices.Equal(n, []int{1, 2, 3, 4, 5}) {
			t.Fatalf("pushes carried %v entries", n)
		}
		if ps := e.s.Pushes(num); ps[4].Outcome != OutcomeDelivered || ps[4].State != StateSigned {
			t.Fatalf("last push %+v", ps[4])
		}
	})
	t.Run("off", func(t *testing.T) {
		e := newEnv(t, Options{})
		num := subscribed(t, e)
		if err := e.s.SetFault(PushFault{Mode: FaultOff}); err != nil {
			t.Fatal(err)
		}
		must(e.s.Advance(num, 2))
		e.idle()
		if got := len(e.cb.received()); got != 0 {
			t.Fatalf("%d pushes with pushes off", got)
		}
		if r := e.query(map[string]string{"com": "ems", "num": num}); r["state"] != StateInTransit {
			t.Fatalf("query with pushes off: %v", r)
		}
		if ps := e.s.Pushes(num); len(ps) != 2 || ps[0].Outcome != OutcomeOff {
			t.Fatalf("push log %+v", ps)
		}
	})
	t.Run("drop all for one waybill", func(t *testing.T) {
		e := newEnv(t, Options{})
		num, other := subscribed(t, e), subscribed(t, e)
		if err := e.s.SetFault(PushFault{Number: num, Mode: FaultDrop, DropRate: 1}); err != nil {
			t.Fatal(err)
		}
		must(e.s.Advance(num, 2))
		must(e.s.Advance(other, 1))
		e.idle()
		if got := len(e.cb.received()); got != 1 {
			t.Fatalf("%d pushes, want only the other waybill's", got)
		}
		for _, p := range e.s.Pushes(num) {
			if p.Outcome != OutcomeDropped {
				t.Fatalf("push %+v not dropped", p)
			}
		}
	})
	t.Run("drop half", func(t *testing.T) {
		e := newEnv(t, Options{})
		if err := e.s.SetFault(PushFault{Mode: FaultDrop}); err != nil {
			t.Fatal(err)
		}
		dropped := 0
		for range 20 {
			num := subscribed(t, e)
			must(e.s.Advance(num, 5))
		}
		for _, p := range e.s.Pushes("") {
			if p.Outcome == OutcomeDropped {
				dropped++
			}
		}
		if dropped == 0 || dropped == 100 {
			t.Fatalf("%d of 100 pushes dropped at rate 0.5", dropped)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		e := newEnv(t, Options{})
		num := subscribed(t, e)
		if err := e.s.SetFault(PushFault{Number: num, Mode: FaultDuplicate}); err != nil {
			t.Fatal(err)
		}
		must(e.s.Advance(num, 2))
		e.idle()
		got := e.cb.received()
		if len(got) != 4 || got[0].Get("param") != got[1].Get("param") || got[2].Get("param") != got[3].Get("param") {
			t.Fatalf("pushes %v", got)
		}
	})
	t.Run("reorder", func(t *testing.T) {
		e := newEnv(t, Options{})
		num := subscribed(t, e)
		if err := e.s.SetFault(PushFault{Mode: FaultReorder}); err != nil {
			t.Fatal(err)
		}
		must(e.s.Advance(num, 1))
		if ps := e.s.Pushes(num); ps[0].Outcome != OutcomeHeld {
			t.Fatalf("first push %+v not held", ps[0])
		}
		must(e.s.Advance(num, 4)) // ends with the signed-for push, which releases the last held one
		e.idle()
		if _, n := pushed(t, e); !slices.Equal(n, []int{2, 1, 4, 3, 5}) {
			t.Fatalf("pushes carried %v entries, want later ones first", n)
		}
	})
}

func TestPushRetries(t *testing.T) {
	e := newEnv(t, Options{PushRetryDelays: []time.Duration{time.Millisecond, time.Millisecond}})
	num := subscribed(t, e)
	e.cb.mu.Lock()
	e.cb.refuse = 2
	e.cb.mu.Unlock()
	must(e.s.Advance(num, 1))
	e.idle()
	p := e.s.Pushes(num)[0]
	if p.Outcome != OutcomeDelivered || p.Attempts != 3 {
		t.Fatalf("push %+v", p)
	}
	e.cb.mu.Lock()
	e.cb.refuse = 3
	e.cb.mu.Unlock()
	must(e.s.Advance(num, 1))
	e.idle()
	if p := e.s.Pushes(num)[1]; p.Outcome != OutcomeGaveUp || p.Attempts != 3 || p.LastReply == "" {
		t.Fatalf("push %+v", p)
	}
}

// Close stops retries that are waiting.
func TestCloseStopsRetries(t *testing.T) {
	e := newEnv(t, Options{PushRetryDelays: []time.Duration{time.Hour}})
	num := subscribed(t, e)
	e.cb.mu.Lock()
	e.cb.refuse = 1
	e.cb.mu.Unlock()
	must(e.s.Advance(num, 1))
	waitFor(t, "the first attempt", func() bool { return e.s.Pushes(num)[0].Outcome == OutcomeRetrying })
	e.s.Close() // returns although a retry was an hour away
	if got := len(e.cb.received()); got != 1 {
		t.Fatalf("%d attempts", got)
	}
}

func TestParsePlace(t *testing.T) {
	cases := []struct {
		addr string
		want place
	}{
		{"福建省福州市鼓楼区八一七北路68号", place{"福建省", "福州市", "鼓楼区"}},
		{"广东深圳市南山区金蝶软件园", place{"广东省", "深圳市", "南山区"}},
		{"北京市朝阳区建国路1号", place{"北京市", "北京市", "朝阳区"}},
		{"上海市上海市浦东新区世纪大道1号", place{"上海市", "上海市", "浦东新区"}},
		{"福建省福州市福清市音西街道", place{"福建省", "福州市", "福清市"}},
		{"新疆维吾尔自治区乌鲁木齐市天山区", place{"新疆维吾尔自治区", "乌鲁木齐市", "天山区"}},
		{"某地某处", place{}},
	}
	for _, c := range cases {
		if got := parsePlace(c.addr); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.addr, got, c.want)
		}
	}
	if n := (place{"福建省", "福州市", "鼓楼区"}).areaName(); n != "福建,福州市" {
		t.Error(n)
	}
	if n := (place{"北京市", "北京市", "朝阳区"}).areaName(); n != "北京" {
		t.Error(n)
	}
}
