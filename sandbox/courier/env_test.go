package courier

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"zwfw/sandbox/fake"
)

// t0 is the tests' start time: a Monday morning in China.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, chinaTime)

// env is a fake on a manual clock behind a real HTTP server, with a
// callback server that records pushes.
type env struct {
	t     *testing.T
	clock *fake.ManualClock
	s     *Server
	srv   *httptest.Server
	cb    *callbacks
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	clock := fake.NewManualClock(t0)
	opts.Now = clock.Now
	if opts.PushRetryDelays == nil {
		opts.PushRetryDelays = []time.Duration{time.Millisecond, time.Millisecond}
	}
	if opts.TickEvery == 0 {
		opts.TickEvery = -1 // tests call Tick
	}
	if opts.Seed == 0 {
		opts.Seed = 42
	}
	s := New(opts)
	srv := httptest.NewServer(s.Handler())
	cb := newCallbacks()
	t.Cleanup(func() { s.Close(); srv.Close(); cb.srv.Close() })
	return &env{t: t, clock: clock, s: s, srv: srv, cb: cb}
}

// callbacks is a push receiver that records what it got and can refuse.
type callbacks struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []url.Values
	// refuse makes the next n pushes fail with a reply other than success.
	refuse int
}

func newCallbacks() *callbacks {
	c := &callbacks{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		c.mu.Lock()
		c.got = append(c.got, r.PostForm)
		refuse := c.refuse > 0
		if refuse {
			c.refuse--
		}
		c.mu.Unlock()
		if refuse {
			_, _ = w.Write([]byte(`{"result":false,"returnCode":"500","message":"失败"}`))
			return
		}
		_, _ = w.Write([]byte(`{"result":true,"returnCode":"200","message":"成功"}`))
	}))
	return c
}

func (c *callbacks) url() string { return c.srv.URL + "/push" }

func (c *callbacks) received() []url.Values {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]url.Values(nil), c.got...)
}

// waitFor polls cond: deliveries run in the background.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// idle waits until no push is queued or retrying.
func (e *env) idle() {
	e.t.Helper()
	waitFor(e.t, "pushes to settle", func() bool {
		for _, p := range e.s.Pushes("") {
			if p.Outcome == OutcomeQueued || p.Outcome == OutcomeRetrying {
				return false
			}
		}
		return true
	})
}

// postForm posts form to path and decodes the JSON reply.
func (e *env) postForm(path string, form url.Values) map[string]any {
	e.t.Helper()
	res, err := http.PostForm(e.srv.URL+path, form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("%s: not JSON: %s", path, b)
	}
	return m
}

// order calls borderapi.do with a correctly signed request.
func (e *env) order(method string, param any) map[string]any {
	e.t.Helper()
	b, _ := json.Marshal(param)
	t := strconv.FormatInt(e.clock.Now().UnixMilli(), 10)
	return e.postForm(BasePath+"/order/borderapi.do", url.Values{
		"method": {method}, "key": {e.s.Key()}, "t": {t}, "param": {string(b)},
		"sign": {OrderSign(string(b), t, e.s.Key(), e.s.Secret())},
	})
}

// query calls query.do with a correctly signed request.
func (e *env) query(param any) map[string]any {
	e.t.Helper()
	b, _ := json.Marshal(param)
	return e.postForm(BasePath+"/poll/query.do", url.Values{
		"customer": {e.s.Customer()}, "param": {string(b)},
		"sign": {QuerySign(string(b), e.s.Key(), e.s.Customer())},
	})
}

// subscribe calls /poll.
func (e *env) subscribe(com, num, phone, salt string) map[string]any {
	e.t.Helper()
	b, _ := json.Marshal(map[string]any{
		"company": com, "number": num, "key": e.s.Key(),
		"parameters": map[string]string{"callbackurl": e.cb.url(), "salt": salt, "phone": phone, "resultv2": "4"},
	})
	return e.postForm(BasePath+"/poll", url.Values{"schema": {"json"}, "param": {string(b)}})
}

// validOrder is a bOrder param that passes every check.
func validOrder(e *env, com string) map[string]string {
	return map[string]string{
		"kuaidicom": com, "sendManName": "张三", "sendManMobile": "13800138000",
		"sendManPrintAddr": "福建省福州市鼓楼区八一七北路68号", "recManName": "鼓楼区政务服务中心",
		"recManMobile": "13900139000", "recManPrintAddr": "福建省厦门市思明区湖滨北路1号",
		"cargo": "申请材料", "weight": "0.5", "callBackUrl": e.cb.url(), "salt": "salt-1",
		"dayType": "明天", "pickupStartTime": "09:00", "pickupEndTime": "11:00",
		"op": "1", "pollCallBackUrl": e.cb.url(), "resultv2": "4",
	}
}

// book places a valid order and returns its data.
func (e *env) book(com, third string) map[string]any {
	e.t.Helper()
	p := validOrder(e, com)
	p["thirdOrderId"] = third
	r := e.order("bOrder", p)
	if r["result"] != true {
		e.t.Fatalf("bOrder: %v", r)
	}
	return r["data"].(map[string]any)
}

func code(r map[string]any) string { s, _ := r["returnCode"].(string); return s }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
