package province

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/testenv"
)

// Every call leaves one row per HTTP exchange in province_exchanges, with
// the route template, the caller and the correlation id — and no personal
// data anywhere in the stored documents.
func TestExchangeLog(t *testing.T) {
	f := newFakeProvince(t, &testClock{})
	db := testenv.DB(t)
	c := newTestClient(t, f, func(_ *Config, d *Deps) { d.DB = db }, withConfig(func(c *Config) {
		c.Breaker = BreakerSettings{ConsecutiveFailures: 1, OpenTimeout: time.Hour}
	}))
	ctx := WithCorrelationID(WithCaller(context.Background(), "user-42"), "corr-1")

	if _, err := c.GetItem(ctx, testItemCode); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VerifyRealName(ctx, testName, testIDNumber); err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueryLicenses(ctx, HolderCitizen, testIDNumber); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.LicenseVerifyCode(ctx, "lic-1", testIDNumber); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubmitCase(ctx, "idem-x", CaseSubmission{ItemCode: testItemCode,
		Applicant: map[string]any{"name": testName, "id_number": testIDNumber}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCase(ctx, testCase); err != nil {
		t.Fatal(err)
	}
	_, err := c.GetItem(context.Background(), "NOPE")
	wantCode(t, err, "ITEM_NOT_FOUND")
	// A failure opens the identity breaker; the next call is refused unsent.
	f.set(func(f *fakeProvince) { f.down = true })
	_, _ = c.VerifyCompany(ctx, knownUSCC, testName, testIDNumber)
	_, err = c.VerifyCompany(ctx, knownUSCC, testName, testIDNumber)
	wantCode(t, err, "PROVINCE_UNAVAILABLE")

	closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Close(closeCtx); err != nil {
		t.Fatal(err)
	}

	cur, err := db.Collection(ExchangesCollection).Find(closeCtx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var raws []bson.Raw
	if err := cur.All(closeCtx, &raws); err != nil {
		t.Fatal(err)
	}
	byEndpoint := map[string][]Exchange{}
	for _, raw := range raws {
		text := raw.String()
		for _, secret := range []string{testIDNumber, "19491231", testName, "李四", knownUSCC, "lic-1", testCase, "张记"} {
			if strings.Contains(text, secret) {
				t.Errorf("exchange log holds %q: %s", secret, text)
			}
		}
		var x Exchange
		if err := bson.Unmarshal(raw, &x); err != nil {
			t.Fatal(err)
		}
		byEndpoint[x.Method+" "+x.Endpoint] = append(byEndpoint[x.Method+" "+x.Endpoint], x)
	}
	want := map[string]int{
		"GET /api/catalog/items/{code}":       2,
		"POST /api/identity/realname/verify":  1,
		"POST /api/licenses/query":            1,
		"POST /api/licenses/{id}/verify-code": 1,
		"POST /api/cases":                     1,
		"GET /api/cases/{case_number}":        1,
		"POST /api/identity/company/verify":   2,
	}
	for ep, n := range want {
		if len(byEndpoint[ep]) != n {
			t.Errorf("%s: %d rows, want %d", ep, len(byEndpoint[ep]), n)
		}
	}
	if len(raws) != 9 {
		t.Errorf("%d rows, want 9", len(raws))
	}

	rn := byEndpoint["POST /api/identity/realname/verify"][0]
	if rn.Caller != "user-42" || rn.CorrelationID != "corr-1" || rn.Group != "identity" || rn.Status != 200 ||
		rn.Result != ResultOK || rn.At.IsZero() || rn.LatencyMS < 0 || rn.Attempt != 1 || rn.RequestID == "" || rn.ID.IsZero() {
		t.Errorf("realname row: %+v", rn)
	}
	for _, x := range byEndpoint["GET /api/catalog/items/{code}"] {
		if x.Status == 404 && (x.Caller != CallerSystem || x.Result != ResultError || x.ErrorCode != "ITEM_NOT_FOUND" || x.ProvinceCode != "ITEM_NOT_FOUND") {
			t.Errorf("not-found row: %+v", x)
		}
	}
	results := map[string]bool{}
	for _, x := range byEndpoint["POST /api/identity/company/verify"] {
		results[x.Result] = true
		if x.Result == ResultBreakerOpen && (x.Status != 0 || x.ErrorCode != "PROVINCE_UNAVAILABLE") {
			t.Errorf("breaker row: %+v", x)
		}
	}
	if !results[ResultError] || !results[ResultBreakerOpen] {
		t.Errorf("company rows: %v", results)
	}
}

// A full buffer drops rows (counted) instead of slowing calls down.
func TestExchangeLogDropsWhenFull(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg)
	// No writer drains this log: the buffer stays full, as behind a stuck MongoDB.
	e := &exchangeLog{m: m, ch: make(chan Exchange, 2), done: make(chan struct{})}
	for range 5 {
		e.record(Exchange{})
	}
	if got := metricValue(t, reg, "zwfw_province_exchange_log_dropped_total", nil); got != 3 {
		t.Fatalf("dropped %v, want 3", got)
	}
	close(e.done) // no writer in this test
	if err := e.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.record(Exchange{})
	if got := metricValue(t, reg, "zwfw_province_exchange_log_dropped_total", nil); got != 4 {
		t.Fatalf("record after close: dropped %v, want 4", got)
	}
}

func TestPurgeExchanges(t *testing.T) {
	db := testenv.DB(t)
	coll := db.Collection(ExchangesCollection)
	ctx := context.Background()
	old := time.Now().Add(-200 * 24 * time.Hour).UTC()
	for i, at := range []time.Time{old, old, time.Now().UTC()} {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: fmt.Sprint("x", i)}, {Key: "at", Value: at}}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(Config{BaseURL: "http://127.0.0.1:1", AppKey: "k", AppSecret: "s"}, Deps{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	n, err := c.PurgeExchanges(ctx, time.Now().Add(-180*24*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PurgeExchanges = %d, %v; want the 2 old rows", n, err)
	}
}
