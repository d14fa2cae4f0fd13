package province

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"zwfw/apperr"
)

func TestNewRejectsBadConfig(t *testing.T) {
	ok := Config{BaseURL: "http://127.0.0.1:1/province", AppKey: "k", AppSecret: "s"}
	cases := []struct {
		name string
		edit func(*Config)
	}{
		{"relative URL", func(c *Config) { c.BaseURL = "/province" }},
		{"ftp URL", func(c *Config) { c.BaseURL = "ftp://x/y" }},
		{"no app key", func(c *Config) { c.AppKey = "" }},
		{"no secret", func(c *Config) { c.AppSecret = "" }},
		{"unknown sign method", func(c *Config) { c.SignMethod = "MD5" }},
	}
	for _, tc := range cases {
		cfg := ok
		tc.edit(&cfg)
		if _, err := New(cfg, Deps{}); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	c, err := New(ok, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close(context.Background())
}

// Every endpoint, under both sign methods, passes the fake's independent
// signature check and the client accepts the fake's signed answers.
func TestEndpointsBothSignMethods(t *testing.T) {
	for _, method := range []string{SignHMACSM3, SignHMACSHA256} {
		t.Run(method, func(t *testing.T) {
			f := newFakeProvince(t, &testClock{})
			c := newTestClient(t, f, withConfig(func(c *Config) { c.SignMethod = method }))
			ctx := context.Background()

			page, err := c.SearchItems(ctx, ItemQuery{Q: "营业执照", Audience: AudienceCitizen, PageSize: 20})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 1 || page.Items[0].Code != testItemCode || page.Stale {
				t.Fatalf("search: %+v", page)
			}
			g, err := c.GetItem(ctx, testItemCode)
			if err != nil {
				t.Fatal(err)
			}
			if g.Guide.Name != "个体工商户设立登记" || len(g.Guide.Materials) != 1 || g.Guide.PromisedDays != 1 ||
				g.Guide.UpdatedAt.IsZero() || len(g.Guide.Halls) != 1 {
				t.Fatalf("guide: %+v", g.Guide)
			}
			halls, err := c.ListHalls(ctx, testItemCode)
			if err != nil || len(halls.Halls) != 1 || halls.Halls[0].ID != "fz-gl" {
				t.Fatalf("halls: %+v %v", halls, err)
			}
			rn, err := c.VerifyRealName(ctx, testName, testIDNumber)
			if err != nil || !rn.Match || rn.VerifyID != "RN-1" {
				t.Fatalf("realname: %+v %v", rn, err)
			}
			rn, err = c.VerifyRealName(ctx, "李四", testIDNumber)
			if err != nil || rn.Match {
				t.Fatalf("realname mismatch: %+v %v", rn, err)
			}
			co, err := c.VerifyCompany(ctx, knownUSCC, testName, testIDNumber)
			if err != nil || !co.Match || co.Role != RoleLegalRepresentative {
				t.Fatalf("company: %+v %v", co, err)
			}
			lics, err := c.QueryLicenses(ctx, HolderCitizen, testIDNumber)
			if err != nil || len(lics) != 1 || lics[0].HolderNameMasked != "张*" {
				t.Fatalf("licenses: %+v %v", lics, err)
			}
			code, exp, err := c.LicenseVerifyCode(ctx, "lic-1", testIDNumber)
			if err != nil || code != "483920" || exp.IsZero() {
				t.Fatalf("verify code: %q %v %v", code, exp, err)
			}
			chk, err := c.CheckLicenseCode(ctx, code)
			if err != nil || !chk.Valid {
				t.Fatalf("check code: %+v %v", chk, err)
			}
			rec, err := c.SubmitCase(ctx, "idem-1", CaseSubmission{ItemCode: testItemCode,
				Applicant: map[string]any{"name": testName}, Form: map[string]any{"business_name": "张记小吃"}})
			if err != nil || rec.CaseNumber == "" || rec.Status != CaseSubmitted {
				t.Fatalf("submit: %+v %v", rec, err)
			}
			cs, err := c.GetCase(ctx, testCase)
			if err != nil || cs.Status != CaseAccepted || len(cs.History) != 2 {
				t.Fatalf("case: %+v %v", cs, err)
			}
			if err := c.Health(ctx); err != nil {
				t.Fatalf("health: %v", err)
			}
		})
	}
}

// A response that is unsigned, signed with another key, altered after
// signing, or signed for another request is refused.
func TestBadResponseSignatureRejected(t *testing.T) {
	for _, mode := range []string{"unsigned", "wrong-secret", "tampered", "unbound"} {
		t.Run(mode, func(t *testing.T) {
			f := newFakeProvince(t, &testClock{})
			f.set(func(f *fakeProvince) { f.mode = mode })
			reg := prometheus.NewRegistry()
			c := newTestClient(t, f, withRegistry(reg))
			_, err := c.GetItem(context.Background(), testItemCode)
			wantCode(t, err, "PROVINCE_BAD_RESPONSE")
			_, err = c.VerifyRealName(context.Background(), testName, testIDNumber)
			wantCode(t, err, "PROVINCE_BAD_RESPONSE")
			if got := metricValue(t, reg, "zwfw_province_calls_total", map[string]string{"result": ResultBadResponse}); got != 2 {
				t.Fatalf("bad_response calls = %v", got)
			}
			// Not the province failing: no retry, no breaker failure.
			if n := f.hitsOf("GET /api/catalog/items/" + testItemCode); n != 1 {
				t.Fatalf("bad response retried: %d hits", n)
			}
		})
	}
}

func TestProvinceErrorMapping(t *testing.T) {
	f := newFakeProvince(t, &testClock{})
	f.set(func(f *fakeProvince) {
		f.override = func(method, path string, body []byte) (int, map[string]any, bool) {
			switch {
			case path == "/api/cases" && strings.Contains(string(body), "CONFLICT"):
				return 409, errEnv("CASE_DUPLICATE", "该事项已有办理中的办件"), true
			case path == "/api/cases" && strings.Contains(string(body), "BAD"):
				return 400, errEnv("FORM_FIELD_MISSING", "缺少必填项：个体工商户名称"), true
			case path == "/api/cases" && strings.Contains(string(body), "SLOW"):
				return 429, errEnv("RATE_LIMITED", "请求过于频繁"), true
			}
			return 0, nil, false
		}
	})
	c := newTestClient(t, f)
	ctx := context.Background()

	_, err := c.GetItem(ctx, "11350100MB0123456X99999")
	e := wantCode(t, err, "ITEM_NOT_FOUND")
	if !errors.Is(err, ErrItemNotFound) || e.Kind != apperr.KindNotFound {
		t.Fatalf("item not found: %+v", e)
	}
	_, err = c.VerifyCompany(ctx, validUSCC("91350100MA0000002"), testName, testIDNumber)
	wantCode(t, err, "COMPANY_NOT_FOUND")
	_, err = c.VerifyRealName(ctx, testName, provinceRejectedID)
	wantCode(t, err, "ID_NUMBER_INVALID")
	_, err = c.GetCase(ctx, "FZ-NOPE")
	wantCode(t, err, "PROVINCE_CASE_NOT_FOUND")

	_, err = c.SubmitCase(ctx, "k-409", CaseSubmission{ItemCode: testItemCode, Form: map[string]any{"x": "CONFLICT"}})
	e = wantCode(t, err, "PROVINCE_CONFLICT")
	if e.Details["province_code"] != "CASE_DUPLICATE" || e.Message != "该事项已有办理中的办件" {
		t.Fatalf("conflict: %+v", e)
	}
	_, err = c.SubmitCase(ctx, "k-400", CaseSubmission{ItemCode: testItemCode, Form: map[string]any{"x": "BAD"}})
	e = wantCode(t, err, "PROVINCE_INVALID_REQUEST")
	if e.Kind != apperr.KindInvalid || e.Message != "缺少必填项：个体工商户名称" {
		t.Fatalf("invalid: %+v", e)
	}
	_, err = c.SubmitCase(ctx, "k-429", CaseSubmission{ItemCode: testItemCode, Form: map[string]any{"x": "SLOW"}})
	e = wantCode(t, err, "PROVINCE_RATE_LIMITED")
	if e.Details["retry_after"] == nil {
		t.Fatalf("rate limited without retry_after: %+v", e)
	}

	// The gateway refusing zwfw's own signature (wrong secret on our side):
	// the gateway's answer is signed with the real secret, so the client
	// cannot trust it either, and says so.
	bad := newTestClient(t, f, withConfig(func(c *Config) { c.AppSecret = "wrong" }))
	_, err = bad.GetItem(ctx, testItemCode)
	wantCode(t, err, "PROVINCE_BAD_RESPONSE")
}

// Malformed input is refused before anything is sent.
func TestLocalValidation(t *testing.T) {
	f := newFakeProvince(t, &testClock{})
	c := newTestClient(t, f)
	ctx := context.Background()
	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"bad ID number", func() error { _, err := c.VerifyRealName(ctx, testName, "110105194912310021"); return err }, "ID_NUMBER_INVALID"},
		{"empty name", func() error { _, err := c.VerifyRealName(ctx, " ", testIDNumber); return err }, "REQUEST_INVALID"},
		{"bad USCC", func() error { _, err := c.VerifyCompany(ctx, "91350100MA00000010", testName, testIDNumber); return err }, "USCC_INVALID"},
		{"bad holder type", func() error { _, err := c.QueryLicenses(ctx, "alien", testIDNumber); return err }, "REQUEST_INVALID"},
		{"bad holder id", func() error { _, err := c.QueryLicenses(ctx, HolderBusiness, testIDNumber); return err }, "USCC_INVALID"},
		{"bad verify-code holder", func() error { _, _, err := c.LicenseVerifyCode(ctx, "lic-1", "nope"); return err }, "ID_NUMBER_INVALID"},
		{"empty item code", func() error { _, err := c.GetItem(ctx, ""); return err }, "ITEM_NOT_FOUND"},
		{"bad audience", func() error { _, err := c.SearchItems(ctx, ItemQuery{Audience: "alien"}); return err }, "REQUEST_INVALID"},
		{"page too large", func() error { _, err := c.SearchItems(ctx, ItemQuery{PageSize: 51}); return err }, "REQUEST_INVALID"},
		{"no idempotency key", func() error { _, err := c.SubmitCase(ctx, "", CaseSubmission{ItemCode: testItemCode}); return err }, "INTERNAL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}
	if n := f.totalHits(); n != 0 {
		t.Fatalf("%d requests reached the province", n)
	}
}

// GETs are retried after 503s and timeouts; writes and POST reads are not.
func TestRetries(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name     string
		retries  int
		failNext int
		hangNext int
		call     func(c *Client) error
		wantHits int
		wantCode string
	}{
		{"GET 503 twice then ok", 2, 2, 0, func(c *Client) error { _, err := c.GetItem(ctx, testItemCode); return err }, 3, ""},
		{"GET 503 always", 2, 99, 0, func(c *Client) error { _, err := c.GetItem(ctx, testItemCode); return err }, 3, "PROVINCE_UNAVAILABLE"},
		{"GET timeout then ok", 2, 0, 1, func(c *Client) error { _, err := c.SearchItems(ctx, ItemQuery{}); return err }, 2, ""},
		{"GET timeouts exhaust", 1, 0, 9, func(c *Client) error { _, err := c.CheckLicenseCode(ctx, "483920"); return err }, 2, "PROVINCE_TIMEOUT"},
		{"GET retries disabled", -1, 1, 0, func(c *Client) error { _, err := c.GetCase(ctx, testCase); return err }, 1, "PROVINCE_UNAVAILABLE"},
		{"GET 404 not retried", 2, 0, 0, func(c *Client) error { _, err := c.GetItem(ctx, "NOPE"); return err }, 1, "ITEM_NOT_FOUND"},
		{"write 503 not retried", 2, 1, 0, func(c *Client) error {
			_, err := c.SubmitCase(ctx, "idem-r", CaseSubmission{ItemCode: testItemCode})
			return err
		}, 1, "PROVINCE_UNAVAILABLE"},
		{"write timeout not retried", 2, 0, 1, func(c *Client) error {
			_, err := c.SubmitCase(ctx, "idem-t", CaseSubmission{ItemCode: testItemCode})
			return err
		}, 1, "PROVINCE_TIMEOUT"},
		{"POST read 503 not retried", 2, 1, 0, func(c *Client) error { _, err := c.VerifyRealName(ctx, testName, testIDNumber); return err }, 1, "PROVINCE_UNAVAILABLE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeProvince(t, &testClock{})
			f.set(func(f *fakeProvince) { f.failNext, f.hangNext = tc.failNext, tc.hangNext })
			reg := prometheus.NewRegistry()
			c := newTestClient(t, f, withRegistry(reg), withConfig(func(c *Config) {
				c.Retries = tc.retries
				c.Timeouts = Timeouts{Catalog: 150 * time.Millisecond, Licenses: 150 * time.Millisecond, Cases: 150 * time.Millisecond}
			}))
			err := tc.call(c)
			if tc.wantCode == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tc.wantCode != "" {
				wantCode(t, err, tc.wantCode)
			}
			if got := f.totalHits(); got != tc.wantHits {
				t.Fatalf("province hit %d times, want %d", got, tc.wantHits)
			}
			if got := metricValue(t, reg, "zwfw_province_retries_total", nil); int(got) != max(tc.wantHits-1, 0) && tc.wantCode != "ITEM_NOT_FOUND" {
				t.Fatalf("retries metric %v", got)
			}
		})
	}
}

// The same Idempotency-Key travels with every submission of one case, and
// the province answers a repeat with the first receipt.
func TestSubmitCaseSendsIdempotencyKey(t *testing.T) {
	f := newFakeProvince(t, &testClock{})
	c := newTestClient(t, f)
	ctx := context.Background()
	sub := CaseSubmission{ItemCode: testItemCode, Form: map[string]any{"business_name": "张记小吃"}}
	a, err := c.SubmitCase(ctx, "case-draft-42", sub)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.SubmitCase(ctx, "case-draft-42", sub)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("repeat gave another receipt: %+v vs %+v", a, b)
	}
	for _, r := range f.requests() {
		if r.IdemKey != "case-draft-42" {
			t.Fatalf("Idempotency-Key %q", r.IdemKey)
		}
	}
}

// With Redis unreachable the catalog still works, straight from the province.
func TestRedisDownCallsStillWork(t *testing.T) {
	f := newFakeProvince(t, &testClock{})
	dead := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:1"}, MaxRetries: -1})
	t.Cleanup(func() { _ = dead.Close() })
	reg := prometheus.NewRegistry()
	c := newTestClient(t, f, withRegistry(reg), func(_ *Config, d *Deps) { d.Redis, d.Keys = dead, "zwfwtest:dead:" })
	ctx := context.Background()
	for i := range 3 {
		g, err := c.GetItem(ctx, testItemCode)
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if g.Stale || g.Guide.Code != testItemCode {
			t.Fatalf("call %d: %+v", i, g)
		}
		if _, err := c.SearchItems(ctx, ItemQuery{Q: "户口"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.hitsOf("GET /api/catalog/items/" + testItemCode); n != 3 {
		t.Fatalf("uncached calls hit the province %d times, want 3", n)
	}
	if metricValue(t, reg, "zwfw_province_cache_requests_total", map[string]string{"result": "bypass"}) == 0 {
		t.Fatal("no bypass counted")
	}
}

func TestHealth(t *testing.T) {
	f := newFakeProvince(t, &testClock{})
	c := newTestClient(t, f, withConfig(func(c *Config) {
		c.Retries = -1
		c.Breaker = BreakerSettings{ConsecutiveFailures: 1, OpenTimeout: time.Hour}
	}))
	ctx := context.Background()
	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	f.set(func(f *fakeProvince) { f.down = true })
	wantCode(t, c.Health(ctx), "PROVINCE_UNAVAILABLE") // the probe fails and opens the catalog breaker
	hits := f.totalHits()
	err := c.Health(ctx)
	wantCode(t, err, "PROVINCE_UNAVAILABLE")
	if !strings.Contains(err.Error(), "catalog") || f.totalHits() != hits {
		t.Fatalf("open breaker not reported without a call: %v", err)
	}
}

// The correlation id from the context is sent and echoed; without one each
// call gets a fresh id.
func TestCorrelationID(t *testing.T) {
	f := newFakeProvince(t, &testClock{})
	c := newTestClient(t, f)
	ctx := WithCorrelationID(context.Background(), "req-abc-123")
	if _, err := c.VerifyRealName(ctx, testName, testIDNumber); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyRealName(WithCorrelationID(context.Background(), "bad\r\nheader"), testName, testIDNumber); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if reqs[0].Correlation != "req-abc-123" {
		t.Fatalf("correlation %q", reqs[0].Correlation)
	}
	if !isNonce(reqs[1].Correlation) {
		t.Fatalf("unsafe correlation id not replaced: %q", reqs[1].Correlation)
	}
}

// Transport errors do not carry the request URL (which may hold a case
// number or a licence code) into error text or logs.
func TestTransportErrorHidesURL(t *testing.T) {
	f := newFakeProvince(t, &testClock{})
	c := newTestClient(t, f, withConfig(func(c *Config) { c.Retries = -1 }))
	f.srv.Close()
	_, err := c.GetCase(context.Background(), "FZ2026SECRET1")
	wantCode(t, err, "PROVINCE_UNAVAILABLE")
	if strings.Contains(err.Error(), "FZ2026SECRET1") {
		t.Fatalf("error text holds the path: %v", err)
	}
}
