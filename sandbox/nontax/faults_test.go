package nontax

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"zwfw/sandbox/province"
)

func TestFaultErrorCountsDown(t *testing.T) {
	e := newEnv(t, Options{})
	code := e.s.Notices("", "")[0].PaymentCode
	if err := e.s.SetFault(Fault{Group: GroupNotices, Mode: FaultError, Count: 2}); err != nil {
		t.Fatal(err)
	}
	e.get(apiNotices+code).want(t, 503, province.CodeServiceUnavailable)
	e.get(apiNotices+code).want(t, 503, province.CodeServiceUnavailable)
	e.get(apiNotices + code).ok(t)
	// Another group's fault leaves notices alone; "*" reaches them.
	_ = e.s.SetFault(Fault{Group: GroupPayments, Mode: FaultError, Status: 500})
	e.get(apiNotices + code).ok(t)
	_ = e.s.SetFault(Fault{Group: GroupAll, Mode: FaultError, Status: 429})
	e.get(apiNotices+code).want(t, 429, province.CodeRateLimited)
	e.s.ClearFaults()
	e.get(apiNotices + code).ok(t)
	// Refused requests do not use a fault up.
	_ = e.s.SetFault(Fault{Group: GroupNotices, Mode: FaultError, Count: 1})
	e.do(request{method: "GET", path: apiNotices + code, secret: "bad"}).want(t, 401, province.CodeSignatureInvalid)
	if f := e.s.Faults(); len(f) != 1 || f[0].Count != 1 || f[0].Hits != 0 {
		t.Fatalf("faults %+v", f)
	}
	st := e.s.Stats().Endpoints["GET /api/v1/notices/{payment_code}"]
	if st.Calls != 7 || st.Faulted != 3 || st.Refused != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFaultRateIsEven(t *testing.T) {
	e := newEnv(t, Options{})
	code := e.s.Notices("", "")[0].PaymentCode
	_ = e.s.SetFault(Fault{Group: GroupNotices, Mode: FaultError, Rate: 0.25})
	var failed []int
	for i := 1; i <= 12; i++ {
		if a := e.get(apiNotices + code); a.Status != 200 {
			failed = append(failed, i)
		}
	}
	if len(failed) != 3 || failed[0] != 4 || failed[1] != 8 || failed[2] != 12 {
		t.Fatalf("failed requests %v, want every 4th", failed)
	}
}

// The "down" fault is the front proxy's unsigned HTML page.
func TestFaultDown(t *testing.T) {
	e := newEnv(t, Options{})
	code := e.s.Notices("", "")[0].PaymentCode
	_ = e.s.SetFault(Fault{Group: GroupNotices, Mode: FaultDown, Status: 502})
	req, _ := http.NewRequest("GET", e.srv.URL+BasePath+apiNotices+code, nil)
	e.sign(req, request{method: "GET", path: apiNotices + code})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 502 || resp.Header.Get(province.HeaderSignature) != "" || !strings.Contains(string(body), "502 Bad Gateway") {
		t.Fatalf("down: HTTP %d %q", resp.StatusCode, body)
	}
}

// "lost" books the write and drops the answer; the retry with the same
// Idempotency-Key learns the result, and nothing is booked twice.
func TestFaultLostThenRetry(t *testing.T) {
	e := newEnv(t, Options{NoDemoData: true})
	n := e.issue(itemsOf("103040100101")...)
	_ = e.s.SetFault(Fault{Group: GroupPayments, Mode: FaultLost, Count: 1})
	body, _ := json.Marshal(payment("T1", n.Amount, start))
	path := apiNotices + n.PaymentCode + "/payments"
	req, _ := http.NewRequest("POST", e.srv.URL+BasePath+path, bytes.NewReader(body))
	req.Header.Set(province.HeaderIdempotencyKey, "k")
	e.sign(req, request{method: "POST", path: path, body: body})
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("lost answer arrived: HTTP %d", resp.StatusCode)
	}
	if got, _ := e.s.NoticeByCode(n.PaymentCode); got.Status != StatusPaid {
		t.Fatalf("the write was not booked: %+v", got)
	}
	var res ConfirmResult
	e.post(path, "k", payment("T1", n.Amount, start)).ok(t).into(t, &res)
	if res.Confirmation.TransactionID != "T1" || len(e.s.Confirmations(start)) != 1 {
		t.Fatalf("retry %+v", res)
	}
}

func TestFaultDropAndSlow(t *testing.T) {
	e := newEnv(t, Options{})
	code := e.s.Notices("", "")[0].PaymentCode
	_ = e.s.SetFault(Fault{Group: GroupNotices, Mode: FaultDrop, Count: 1})
	req, _ := http.NewRequest("GET", e.srv.URL+BasePath+apiNotices+code, nil)
	e.sign(req, request{method: "GET", path: apiNotices + code})
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("dropped request answered")
	}
	_ = e.s.SetFault(Fault{Group: GroupNotices, Mode: FaultSlow, DelayMS: 1, Count: 1})
	e.get(apiNotices + code).ok(t)
}

func TestSetFaultValidates(t *testing.T) {
	e := newEnv(t, Options{})
	for _, f := range []Fault{
		{Group: "cases", Mode: FaultError},
		{Group: GroupNotices, Mode: "explode"},
		{Group: GroupNotices, Mode: FaultError, Status: 200},
		{Group: GroupNotices, Mode: FaultError, Rate: 1.5},
		{Group: GroupNotices, Mode: FaultSlow, DelayMS: -1},
	} {
		if err := e.s.SetFault(f); err == nil {
			t.Errorf("SetFault(%+v) accepted", f)
		}
	}
	var faults []Fault
	if st := e.control("POST", "/sandbox/nontax/faults", map[string]any{"group": "refunds", "mode": "error", "status": 500, "count": 2}, &faults); st != 200 ||
		len(faults) != 1 || faults[0].Code != province.CodeInternalError {
		t.Fatalf("fault control: %d %+v", st, faults)
	}
	var fail map[string]string
	if st := e.control("POST", "/sandbox/nontax/faults", map[string]any{"group": "x", "mode": "error"}, &fail); st != 400 || fail["error"] == "" {
		t.Fatalf("bad fault control: %d %v", st, fail)
	}
	e.control("POST", "/sandbox/nontax/faults", map[string]any{"group": "*", "mode": "off"}, &faults)
	if len(faults) != 0 {
		t.Fatalf("faults after off %+v", faults)
	}
	e.get(APIPrefix + "/confirmations?date=2026-03-02").ok(t)
	var stats Stats
	e.control("GET", "/sandbox/nontax/stats", nil, &stats)
	if stats.Paths["GET /api/v1/confirmations?date=2026-03-02"] != 1 {
		t.Fatalf("stats %+v", stats)
	}
	if e.control("DELETE", "/sandbox/nontax/stats", nil, nil) != 204 || e.s.Calls("GET /api/v1/confirmations") != 0 {
		t.Fatal("stats not reset")
	}
}

func TestErrorIsAnError(t *testing.T) {
	var err error = errorf(409, CodeAmountMismatch, "x")
	var e *Error
	if !errors.As(err, &e) || e.Error() != "AMOUNT_MISMATCH: x" {
		t.Fatal(err)
	}
}
