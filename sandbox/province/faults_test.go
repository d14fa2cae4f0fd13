package province

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"
)

const hallsPath = "/api/catalog/halls"

func TestFaultErrorWithCount(t *testing.T) {
	e := newEnv(t, Options{})
	if err := e.s.SetFault(Fault{Group: GroupCatalog, Mode: FaultError, Count: 2}); err != nil {
		t.Fatal(err)
	}
	e.do("GET", hallsPath, nil).want(t, http.StatusServiceUnavailable, CodeServiceUnavailable)
	// Other groups are untouched.
	e.do("POST", "/api/identity/realname/verify", map[string]string{"name": "张三", "id_number": zhangSan.IDNumber}).ok(t)
	e.do("GET", hallsPath, nil).want(t, http.StatusServiceUnavailable, CodeServiceUnavailable)
	e.do("GET", hallsPath, nil).ok(t)
	if f := e.s.Faults(); len(f) != 0 {
		t.Fatalf("fault still in force: %+v", f)
	}
	st := e.s.Stats().Endpoints["GET "+hallsPath]
	if st.Calls != 3 || st.Faulted != 2 || st.Refused != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFaultUntilOffAndStatuses(t *testing.T) {
	e := newEnv(t, Options{})
	tests := []struct {
		status int
		code   string
	}{
		{500, CodeInternalError}, {502, CodeBadGateway}, {429, CodeRateLimited}, {504, CodeGatewayTimeout}, {599, CodeUpstreamError},
	}
	for _, tt := range tests {
		if err := e.s.SetFault(Fault{Group: GroupAll, Mode: FaultError, Status: tt.status}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			e.do("GET", hallsPath, nil).want(t, tt.status, tt.code)
		}
	}
	// A group's own fault wins over "*".
	if err := e.s.SetFault(Fault{Group: GroupLicenses, Mode: FaultError, Status: 500, Code: "LICENSE_DB_DOWN"}); err != nil {
		t.Fatal(err)
	}
	e.do("POST", "/api/licenses/query", map[string]string{"holder_type": "citizen", "holder_id": zhangSan.IDNumber}).want(t, 500, "LICENSE_DB_DOWN")
	if err := e.s.SetFault(Fault{Group: GroupAll, Mode: FaultOff}); err != nil {
		t.Fatal(err)
	}
	e.do("GET", hallsPath, nil).ok(t)
	e.do("POST", "/api/licenses/query", map[string]string{"holder_type": "citizen", "holder_id": zhangSan.IDNumber}).ok(t)
	// Injected faults never hit requests the gateway refuses.
	if err := e.s.SetFault(Fault{Group: GroupCatalog, Mode: FaultError, Count: 1}); err != nil {
		t.Fatal(err)
	}
	req, _ := e.newRequest("GET", hallsPath, nil)
	e.send(req).want(t, http.StatusUnauthorized, CodeSignatureMissing)
	e.do("GET", hallsPath, nil).want(t, http.StatusServiceUnavailable, CodeServiceUnavailable)
}

func TestSetFaultValidates(t *testing.T) {
	s := New(Options{})
	for _, f := range []Fault{
		{Group: "weather", Mode: FaultError},
		{Group: GroupCatalog, Mode: "explode"},
		{Group: GroupCatalog, Mode: FaultError, Status: 200},
		{Group: GroupCatalog, Mode: FaultSlow, DelayMS: -1},
		{Group: GroupCatalog, Mode: FaultError, Count: -1},
	} {
		if s.SetFault(f) == nil {
			t.Errorf("SetFault(%+v) accepted", f)
		}
	}
}

func TestFaultTimeoutHoldsUntilTheClientGivesUp(t *testing.T) {
	e := newEnv(t, Options{})
	if err := e.s.SetFault(Fault{Group: GroupCatalog, Mode: FaultTimeout}); err != nil {
		t.Fatal(err)
	}
	// begin is taken before the deadline is set, so the measured wait can
	// only be longer than 150 ms, never a hair shorter.
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	req, _ := e.signed("GET", hallsPath, nil)
	_, err := http.DefaultClient.Do(req.WithContext(ctx))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(begin) < 150*time.Millisecond {
		t.Fatalf("err %v after %s", err, time.Since(begin))
	}
	// With delay_ms the gateway gives up first and answers 504.
	if err := e.s.SetFault(Fault{Group: GroupCatalog, Mode: FaultTimeout, DelayMS: 50}); err != nil {
		t.Fatal(err)
	}
	e.do("GET", hallsPath, nil).want(t, http.StatusGatewayTimeout, CodeGatewayTimeout)
}

func TestFaultSlowThenServes(t *testing.T) {
	e := newEnv(t, Options{})
	if err := e.s.SetFault(Fault{Group: GroupIdentity, Mode: FaultSlow, DelayMS: 120, Count: 1}); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	e.do("POST", "/api/identity/realname/verify", map[string]string{"name": "张三", "id_number": zhangSan.IDNumber}).ok(t)
	if d := time.Since(begin); d < 120*time.Millisecond {
		t.Fatalf("slow fault answered after %s", d)
	}
	e.do("POST", "/api/identity/realname/verify", map[string]string{"name": "张三", "id_number": zhangSan.IDNumber}).ok(t)
	if st := e.s.Stats().Endpoints["POST /api/identity/realname/verify"]; st.Calls != 2 || st.Faulted != 1 {
		t.Fatalf("count 1 hit the second call too: %+v", st)
	}
}

func TestFaultDropConnection(t *testing.T) {
	e := newEnv(t, Options{})
	if err := e.s.SetFault(Fault{Group: GroupCases, Mode: FaultDrop, Count: 1}); err != nil {
		t.Fatal(err)
	}
	req, _ := e.signed("GET", "/api/cases/FZ1", nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("dropped connection answered HTTP %d", res.StatusCode)
	}
	e.do("GET", "/api/cases/FZ1", nil).want(t, http.StatusNotFound, CodeCaseNotFound)
}

// A "lost" answer: the write is done, the client sees a dropped connection,
// and its retry under the same key gets the first answer, not a second case.
func TestFaultLostAnswer(t *testing.T) {
	e := newEnv(t, Options{})
	if err := e.s.SetFault(Fault{Group: GroupCases, Mode: FaultLost, Count: 1}); err != nil {
		t.Fatal(err)
	}
	app := application(itemNamed(t, e.s, shop))
	req, _ := e.signed("POST", "/api/cases", app)
	req.Header.Set(HeaderIdempotencyKey, "lost-1")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("a lost answer arrived: HTTP %d", res.StatusCode)
	}
	if n := len(e.s.Cases()); n != 1 {
		t.Fatalf("the lost request made %d cases, want 1", n)
	}
	var again submitted
	e.post("/api/cases", "lost-1", app).ok(t).into(t, &again)
	if cs := e.s.Cases(); len(cs) != 1 || cs[0].CaseNumber != again.CaseNumber {
		t.Fatalf("the retry made another case: %d cases, answer %s", len(cs), again.CaseNumber)
	}
}

// A "late" answer: the write is booked at once, the answer is held back;
// a client killed while it waits never learns the case number, and its
// retry under the same key gets the first answer.
func TestFaultLateAnswer(t *testing.T) {
	e := newEnv(t, Options{})
	if err := e.s.SetFault(Fault{Group: GroupCases, Mode: FaultLate, DelayMS: 60_000, Count: 1}); err != nil {
		t.Fatal(err)
	}
	app := application(itemNamed(t, e.s, shop))
	req, _ := e.signed("POST", "/api/cases", app)
	req.Header.Set(HeaderIdempotencyKey, "late-1")
	ctx, cancel := context.WithCancel(context.Background())
	answered := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err == nil {
			res.Body.Close()
		}
		answered <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for len(e.s.Cases()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the late fault did not book the case before answering")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-answered:
		t.Fatalf("the answer was not held back (err %v)", err)
	default:
	}
	cancel() // the client dies while it waits
	if err := <-answered; err == nil {
		t.Fatal("a cancelled client got an answer")
	}
	var again submitted
	e.post("/api/cases", "late-1", app).ok(t).into(t, &again)
	if cs := e.s.Cases(); len(cs) != 1 || cs[0].CaseNumber != again.CaseNumber {
		t.Fatalf("the retry made another case: %d cases, answer %s", len(e.s.Cases()), again.CaseNumber)
	}

	// Without a client giving up, the answer comes after the delay.
	if err := e.s.SetFault(Fault{Group: GroupCases, Mode: FaultLate, DelayMS: 50, Count: 1}); err != nil {
		t.Fatal(err)
	}
	var late submitted
	e.post("/api/cases", "late-2", app).ok(t).into(t, &late)
	if late.CaseNumber == "" || late.CaseNumber == again.CaseNumber {
		t.Fatalf("late answer: %+v", late)
	}
}

func TestFaultControlRoutes(t *testing.T) {
	e := newEnv(t, Options{})
	code, body := e.control("POST", "/sandbox/province/faults", map[string]any{"group": "catalog", "mode": "error", "status": 503, "count": 1})
	var faults []Fault
	if err := json.Unmarshal(body, &faults); code != 200 || err != nil || len(faults) != 1 || faults[0].Count != 1 {
		t.Fatalf("HTTP %d %s", code, body)
	}
	e.do("GET", hallsPath, nil).want(t, 503, CodeServiceUnavailable)
	if code, body := e.control("POST", "/sandbox/province/faults", map[string]any{"group": "nope", "mode": "error"}); code != 400 {
		t.Fatalf("bad group: HTTP %d %s", code, body)
	}
	e.control("POST", "/sandbox/province/faults", map[string]any{"group": "*", "mode": "slow", "delay_ms": 1})
	if _, body := e.control("GET", "/sandbox/province/faults", nil); string(body) == "[]\n" {
		t.Fatal("GET faults shows none")
	}
	e.control("POST", "/sandbox/province/faults", map[string]any{"group": "*", "mode": "off"})
	if _, body := e.control("GET", "/sandbox/province/faults", nil); string(body) != "[]\n" {
		t.Fatalf("faults after off: %s", body)
	}
}

func TestStatsCountCalls(t *testing.T) {
	e := newEnv(t, Options{})
	g := e.s.Items()[0]
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := e.signed("GET", "/api/catalog/items/"+g.Code, nil)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	if n := e.s.Calls("GET /api/catalog/items/{code}"); n != 10 {
		t.Fatalf("Calls = %d", n)
	}
	if n := e.s.PathCalls("GET", "/api/catalog/items/"+g.Code); n != 10 {
		t.Fatalf("PathCalls = %d", n)
	}
	e.do("GET", "/api/catalog/items?q=x", nil).ok(t)
	if n := e.s.PathCalls("GET", "/api/catalog/items?q=x"); n != 1 {
		t.Fatalf("PathCalls with query = %d", n)
	}
	code, body := e.control("GET", "/sandbox/province/stats", nil)
	var st Stats
	if err := json.Unmarshal(body, &st); code != 200 || err != nil || st.Endpoints["GET /api/catalog/items/{code}"].Calls != 10 {
		t.Fatalf("HTTP %d %s", code, body)
	}
	if code, _ := e.control("DELETE", "/sandbox/province/stats", nil); code != 204 || e.s.Calls("GET /api/catalog/items/{code}") != 0 {
		t.Fatal("stats not reset")
	}
}

func TestControlListings(t *testing.T) {
	e := newEnv(t, Options{})
	e.do("POST", "/api/identity/realname/verify", map[string]string{"name": "欧阳娜娜", "id_number": unregistered}).ok(t)
	var people []map[string]any
	_, body := e.control("GET", "/sandbox/province/people", nil)
	if err := json.Unmarshal(body, &people); err != nil || len(people) != len(DemoPeople)+1 || people[len(people)-1]["source"] != "sandbox" {
		t.Fatalf("people %s", body)
	}
	var companies []Company
	_, body = e.control("GET", "/sandbox/province/companies", nil)
	if err := json.Unmarshal(body, &companies); err != nil || len(companies) != len(DemoCompanies) {
		t.Fatalf("companies %s", body)
	}
	var lic []LicenseRecord
	_, body = e.control("GET", "/sandbox/province/licenses?holder_id="+zhangSan.IDNumber, nil)
	if err := json.Unmarshal(body, &lic); err != nil || len(lic) < 2 || lic[0].Number != zhangSan.IDNumber {
		t.Fatalf("licences %s", body)
	}
	n := e.submit(t, shop, "k").CaseNumber
	var cases []Case
	_, body = e.control("GET", "/sandbox/province/cases", nil)
	if err := json.Unmarshal(body, &cases); err != nil || len(cases) != 1 || cases[0].CaseNumber != n || cases[0].QueryPassword == "" {
		t.Fatalf("cases %s", body)
	}
	if code, _ := e.control("GET", "/sandbox/province/cases/"+n, nil); code != 200 {
		t.Fatalf("one case: HTTP %d", code)
	}
	if code, _ := e.control("POST", "/sandbox/province/callback", map[string]string{"url": "ftp://x"}); code != 400 {
		t.Fatalf("bad callback url: HTTP %d", code)
	}
	d := e.s.Describe()
	if d.Name != "province" || len(d.API) != 14 || len(d.Controls) == 0 || d.Info["app_key"] != e.s.AppKey() {
		t.Fatalf("describe %+v", d)
	}
	for _, v := range d.Info {
		if v == e.s.AppSecret() {
			t.Fatal("Describe shows the secret")
		}
	}
}
