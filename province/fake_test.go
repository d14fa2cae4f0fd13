package province

// A small fake of the provincial gateway for this package's tests. It is
// written from docs/province-gateway.md independently of sign.go: its own
// canonical query (url.QueryEscape based), its own HMAC wiring, its own
// replay and skew checks. It serves canned catalog, identity, licence and
// case data and can be told to fail, hang, block or answer unsigned.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"zwfw/pii"
)

const (
	testAppKey   = "zwfw-test-app"
	testSecret   = "s3cr3t-应用密钥"
	testItemCode = "11350100MB0123456X00001"
	testName     = "张三"
	testIDNumber = "11010519491231002X" // the GB 11643 example number
	testCase     = "FZ20260000001"
)

// testClock is a clock tests can move forward; client and fake share it.
type testClock struct{ off atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *testClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

type seenRequest struct {
	Method, Path, Query, Correlation, IdemKey string
	Body                                      []byte
}

type fakeProvince struct {
	t      testing.TB
	srv    *httptest.Server
	prefix string
	clock  *testClock

	mu       sync.Mutex
	nonces   map[string]bool
	hits     map[string]int // "METHOD path" -> requests that passed authentication
	total    int
	seen     []seenRequest
	idem     map[string]map[string]any
	cases    int
	down     bool          // answer every request 503 (signed)
	failNext int           // answer the next n requests 503
	hangNext int           // hold the next n requests until the client gives up
	gate     chan struct{} // when set, hold requests until it is closed
	mode     string        // response signing: "", "unsigned", "wrong-secret", "tampered", "unbound"
	override func(method, path string, body []byte) (int, map[string]any, bool)
}

func newFakeProvince(t testing.TB, clock *testClock) *fakeProvince {
	f := &fakeProvince{t: t, prefix: "/province", clock: clock,
		nonces: map[string]bool{}, hits: map[string]int{}, idem: map[string]map[string]any{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeProvince) baseURL() string { return f.srv.URL + f.prefix }

func (f *fakeProvince) set(fn func(f *fakeProvince)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeProvince) totalHits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

func (f *fakeProvince) hitsOf(methodPath string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[methodPath]
}

func (f *fakeProvince) requests() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seenRequest(nil), f.seen...)
}

// --- independent signing ------------------------------------------------

func fakeHashFunc(method string) func() hash.Hash {
	switch method {
	case "HMAC-SM3":
		return sm3.New
	case "HMAC-SHA256":
		return sha256.New
	}
	return nil
}

func fakeDigest(method string, b []byte) string {
	if method == "HMAC-SM3" {
		s := sm3.Sum(b)
		return hex.EncodeToString(s[:])
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func fakeMAC(method, secret, msg string) string {
	m := hmac.New(fakeHashFunc(method), []byte(secret))
	io.WriteString(m, msg)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func fakeEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func fakeCanonicalQuery(raw string) string {
	q, _ := url.ParseQuery(raw)
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, kv{k, v})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = fakeEscape(p.k) + "=" + fakeEscape(p.v)
	}
	return strings.Join(parts, "&")
}

// fakeSignRequest signs a request the way the contract says (used for
// callbacks, where the province is the signer).
func fakeSignRequest(r *http.Request, body []byte, method, appKey, secret string, at time.Time, nonce string) {
	ts := strconv.FormatInt(at.UnixMilli(), 10)
	sts := strings.Join([]string{r.Method, r.URL.EscapedPath(), fakeCanonicalQuery(r.URL.RawQuery),
		fakeDigest(method, body), appKey, ts, nonce}, "\n")
	r.Header.Set("X-Gw-App-Key", appKey)
	r.Header.Set("X-Gw-Timestamp", ts)
	r.Header.Set("X-Gw-Nonce", nonce)
	r.Header.Set("X-Gw-Sign-Method", method)
	r.Header.Set("X-Gw-Signature", fakeMAC(method, secret, sts))
}

// authenticate checks a request's signature; it returns a GW_* code or "".
func (f *fakeProvince) authenticate(r *http.Request, path string, body []byte) string {
	h := r.Header
	method := h.Get("X-Gw-Sign-Method")
	if h.Get("X-Gw-App-Key") == "" || h.Get("X-Gw-Timestamp") == "" || h.Get("X-Gw-Nonce") == "" || h.Get("X-Gw-Signature") == "" || method == "" {
		return "GW_SIGNATURE_MISSING"
	}
	if h.Get("X-Gw-App-Key") != testAppKey {
		return "GW_APP_KEY_UNKNOWN"
	}
	if fakeHashFunc(method) == nil {
		return "GW_SIGNATURE_INVALID"
	}
	ms, err := strconv.ParseInt(h.Get("X-Gw-Timestamp"), 10, 64)
	if err != nil || absDuration(f.clock.Now().Sub(time.UnixMilli(ms))) > 300*time.Second {
		return "GW_TIMESTAMP_SKEW"
	}
	nonce := h.Get("X-Gw-Nonce")
	if len(nonce) != 32 || strings.Trim(nonce, "0123456789abcdef") != "" {
		return "GW_SIGNATURE_INVALID"
	}
	sts := strings.Join([]string{r.Method, path, fakeCanonicalQuery(r.URL.RawQuery), fakeDigest(method, body),
		testAppKey, h.Get("X-Gw-Timestamp"), nonce}, "\n")
	want, _ := base64.StdEncoding.DecodeString(fakeMAC(method, testSecret, sts))
	got, _ := base64.StdEncoding.DecodeString(h.Get("X-Gw-Signature"))
	if !hmac.Equal(want, got) {
		return "GW_SIGNATURE_INVALID"
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nonces[nonce] {
		return "GW_NONCE_REPLAYED"
	}
	f.nonces[nonce] = true
	return ""
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func (f *fakeProvince) write(w http.ResponseWriter, r *http.Request, status int, env map[string]any, mode string) {
	env["request_id"] = "req-" + r.Header.Get("X-Gw-Nonce")[:8]
	body, _ := json.Marshal(env)
	method := r.Header.Get("X-Gw-Sign-Method")
	if fakeHashFunc(method) == nil {
		method = "HMAC-SM3"
	}
	ts := strconv.FormatInt(f.clock.Now().UnixMilli(), 10)
	nonce := "ffffeeeeddddccccbbbbaaaa99998888"
	reqNonce := r.Header.Get("X-Gw-Nonce")
	secret := testSecret
	switch mode {
	case "wrong-secret":
		secret = "not-the-secret"
	case "unbound":
		reqNonce = "00000000000000000000000000000000"
	}
	sig := fakeMAC(method, secret, strings.Join([]string{strconv.Itoa(status), fakeDigest(method, body), ts, nonce, reqNonce}, "\n"))
	if mode == "tampered" {
		body = append(body, ' ') // still JSON, no longer what was signed
	}
	w.Header().Set("Content-Type", "application/json")
	if mode != "unsigned" {
		w.Header().Set("X-Gw-Timestamp", ts)
		w.Header().Set("X-Gw-Nonce", nonce)
		w.Header().Set("X-Gw-Signature", sig)
	}
	if c := r.Header.Get("X-Gw-Correlation-Id"); c != "" {
		w.Header().Set("X-Gw-Correlation-Id", c)
	}
	w.WriteHeader(status)
	w.Write(body)
}

func okEnv(data any) map[string]any {
	return map[string]any{"code": "0", "message": "成功", "data": data}
}
func errEnv(code, msg string) map[string]any {
	return map[string]any{"code": code, "message": msg, "data": nil}
}

func (f *fakeProvince) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.EscapedPath(), f.prefix)
	if code := f.authenticate(r, path, body); code != "" {
		f.write(w, r, http.StatusUnauthorized, errEnv(code, "签名校验失败"), "")
		return
	}
	f.mu.Lock()
	f.hits[r.Method+" "+path]++
	f.total++
	f.seen = append(f.seen, seenRequest{Method: r.Method, Path: path, Query: r.URL.RawQuery,
		Correlation: r.Header.Get("X-Gw-Correlation-Id"), IdemKey: r.Header.Get("Idempotency-Key"), Body: body})
	gate, mode, down, override := f.gate, f.mode, f.down, f.override
	hang, fail := f.hangNext > 0, f.failNext > 0
	if hang {
		f.hangNext--
	} else if fail {
		f.failNext--
	}
	f.mu.Unlock()

	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	if hang {
		<-r.Context().Done()
		return
	}
	if down || fail {
		f.write(w, r, http.StatusServiceUnavailable, errEnv("SERVICE_UNAVAILABLE", "系统维护中"), mode)
		return
	}
	if override != nil {
		if status, env, ok := override(r.Method, path, body); ok {
			f.write(w, r, status, env, mode)
			return
		}
	}
	status, env := f.route(r, path, body)
	f.write(w, r, status, env, mode)
}

// --- canned data ----------------------------------------------------------

func testGuide() map[string]any {
	return map[string]any{
		"code": testItemCode, "name": "个体工商户设立登记", "dept": "福州市市场监督管理局", "dept_code": "scjg",
		"category": "行政许可", "audience": []string{"citizen", "business"}, "keywords": []string{"营业执照", "个体户", "开店"},
		"legal_basis": []string{"《促进个体工商户发展条例》第八条"}, "conditions": []string{"具有经营能力的自然人"},
		"materials": []map[string]any{{"id": "m1", "name": "个体工商户登记（备案）申请书", "form": "original", "copies": 1,
			"required": true, "elicense_type": "", "blank_form_url": "https://example.gov.cn/m1.docx", "sample_url": "", "note": ""}},
		"form_fields":    []map[string]any{{"name": "business_name", "label": "个体工商户名称", "type": "string", "required": true, "max_length": 50}},
		"statutory_days": 15, "promised_days": 1, "fees": []any{}, "steps": []string{"申请", "受理", "审核", "办结"},
		"halls":        []map[string]any{testHall()},
		"online_apply": true, "bookable": true, "mail_materials": true, "mail_result": true, "max_trips": 0,
		"updated_at": "2026-11-01T09:00:00+08:00",
	}
}

func testHall() map[string]any {
	return map[string]any{"id": "fz-gl", "name": "鼓楼区政务服务中心", "address": "福州市鼓楼区",
		"lat": 26.08, "lng": 119.30, "phone": "0591-12345678", "hours": "周一至周五 9:00-12:00 13:30-17:00"}
}

func testSummaries() []map[string]any {
	return []map[string]any{
		{"code": testItemCode, "name": "个体工商户设立登记", "dept": "福州市市场监督管理局", "audience": []string{"citizen", "business"},
			"keywords": []string{"营业执照", "个体户"}, "online_apply": true, "bookable": true, "max_trips": 0},
		{"code": "11350100MB0123456X00002", "name": "户口迁移", "dept": "福州市公安局", "audience": []string{"citizen"},
			"keywords": []string{"户籍"}, "online_apply": false, "bookable": true, "max_trips": 1},
	}
}

// validID returns a valid resident ID number built from first17.
func validID(first17 string) string {
	c, ok := pii.IDNumberCheckChar(first17)
	if !ok {
		panic(first17)
	}
	return first17 + string(c)
}

// validUSCC returns a valid USCC built from first17.
func validUSCC(first17 string) string {
	c, ok := pii.USCCCheckChar(first17)
	if !ok {
		panic(first17)
	}
	return first17 + string(c)
}

var (
	provinceRejectedID = validID("35010219800101123") // valid locally, refused by the fake
	knownUSCC          = validUSCC("91350100MA0000001")
)

func (f *fakeProvince) route(r *http.Request, path string, body []byte) (int, map[string]any) {
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	switch {
	case r.Method == http.MethodGet && path == "/api/catalog/items":
		q := r.URL.Query().Get("q")
		var items []map[string]any
		for _, it := range testSummaries() {
			b, _ := json.Marshal(it)
			if q == "" || strings.Contains(string(b), q) {
				items = append(items, it)
			}
		}
		return 200, okEnv(map[string]any{"items": items, "next_page_token": ""})
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/api/catalog/items/"):
		if strings.TrimPrefix(path, "/api/catalog/items/") != testItemCode {
			return 404, errEnv("ITEM_NOT_FOUND", "事项不存在")
		}
		return 200, okEnv(testGuide())
	case r.Method == http.MethodGet && path == "/api/catalog/halls":
		return 200, okEnv(map[string]any{"halls": []map[string]any{testHall()}})
	case r.Method == http.MethodPost && path == "/api/identity/realname/verify":
		if in["id_number"] == provinceRejectedID {
			return 400, errEnv("ID_NUMBER_INVALID", "身份证号码无效")
		}
		return 200, okEnv(map[string]any{"match": in["name"] == testName && in["id_number"] == testIDNumber, "verify_id": "RN-1"})
	case r.Method == http.MethodPost && path == "/api/identity/company/verify":
		if in["uscc"] != knownUSCC {
			return 404, errEnv("COMPANY_NOT_FOUND", "企业不存在")
		}
		return 200, okEnv(map[string]any{"match": in["operator_id_number"] == testIDNumber, "company_name": "福州测试有限公司", "role": "legal_representative"})
	case r.Method == http.MethodPost && path == "/api/licenses/query":
		return 200, okEnv(map[string]any{"licenses": []map[string]any{{"id": "lic-1", "type": "id_card", "name": "居民身份证",
			"number_masked": "110***********002X", "holder_name_masked": "张*", "issuer": "北京市公安局朝阳分局",
			"issued_on": "2020-01-01", "expires_on": "2040-01-01", "status": "valid"}}})
	case r.Method == http.MethodPost && strings.HasPrefix(path, "/api/licenses/") && strings.HasSuffix(path, "/verify-code"):
		return 200, okEnv(map[string]any{"code": "483920", "expires_at": "2026-11-01T09:05:00+08:00"})
	case r.Method == http.MethodGet && path == "/api/licenses/verify":
		return 200, okEnv(map[string]any{"valid": r.URL.Query().Get("code") == "483920", "license": map[string]any{"id": "lic-1", "status": "valid"}})
	case r.Method == http.MethodPost && path == "/api/cases":
		key := r.Header.Get("Idempotency-Key")
		f.mu.Lock()
		defer f.mu.Unlock()
		if rec, ok := f.idem[key]; ok {
			return 200, okEnv(rec)
		}
		f.cases++
		rec := map[string]any{"case_number": fmt.Sprintf("FZ2026%07d", f.cases), "query_password": "a1b2c3", "status": "submitted"}
		f.idem[key] = rec
		return 200, okEnv(rec)
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/api/cases/"):
		if strings.TrimPrefix(path, "/api/cases/") != testCase {
			return 404, errEnv("CASE_NOT_FOUND", "办件不存在")
		}
		return 200, okEnv(map[string]any{"case_number": testCase, "status": "accepted", "history": []map[string]any{
			{"status": "submitted", "at": "2026-11-01T09:00:00+08:00", "note": ""},
			{"status": "accepted", "at": "2026-11-01T10:00:00+08:00", "note": "已受理"}}})
	}
	return 404, errEnv("NOT_FOUND", "接口不存在")
}
