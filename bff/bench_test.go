package bff_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/bff"
	"zwfw/identity"
	sbprovince "zwfw/sandbox/province"
)

// loadBench drives zwfw and a bare Fiber handler over loopback HTTP with
// keep-alive clients, so each route's throughput is reported as a ratio of
// the bare handler measured on the same machine in the same run.
type loadBench struct {
	b      *testing.B
	s      *server
	bare   string
	client *http.Client
}

const benchWorkers = 8

func newLoadBench(b *testing.B) *loadBench {
	// Limits high enough never to trip, so the limiter's cost is measured but not its refusals.
	s := start(b, func(c *bff.Config) {
		c.RatePerIP, c.RatePerUser = 100_000_000, 100_000_000
		if os.Getenv("ZWFW_BENCH_REDIS") == "embedded" {
			c.RedisURL = "" // the embedded default: zwfw starts its own miniredis
		}
	})
	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Get("/hello", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"ok": true}) })
	bare.Post("/hello", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"ok": len(c.Body()) > 0}) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = bare.Listener(ln) }()
	transport := &http.Transport{MaxIdleConnsPerHost: benchWorkers}
	b.Cleanup(func() {
		transport.CloseIdleConnections()
		_ = bare.ShutdownWithTimeout(2 * time.Second)
	})
	return &loadBench{b: b, s: s, bare: "http://" + ln.Addr().String() + "/hello",
		client: &http.Client{Transport: transport, Timeout: 10 * time.Second}}
}

// benchRouteLimit bounds one route's run: at -benchtime 3000x a route the
// embedded store answers a few dozen times a second would take minutes per
// round, and the rate over this long is the same figure (make bench stays
// bounded).
const benchRouteLimit = 8 * time.Second

// run sends n GETs (or as many as benchRouteLimit allows) with
// benchWorkers concurrent clients and returns requests/second.
func (l *loadBench) run(target, token string, n int, headers ...string) float64 {
	var next, done, failed, lastStatus atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	deadline := begin.Add(benchRouteLimit)
	for w := 0; w < benchWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && time.Now().Before(deadline) {
				done.Add(1)
				req, _ := http.NewRequest("GET", target, nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				for i := 0; i+1 < len(headers); i += 2 {
					req.Header.Set(headers[i], headers[i+1])
				}
				res, err := l.client.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					failed.Add(1)
					lastStatus.Store(int64(res.StatusCode))
				}
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		l.b.Fatal(fmt.Sprintf("%d of %d requests to %s failed (last status %d)", f, done.Load(), target, lastStatus.Load()))
	}
	return float64(done.Load()) / time.Since(begin).Seconds()
}

// benchRoute is one zwfw request to measure.
type benchRoute struct {
	path    string
	token   string
	headers []string
}

// compare measures the bare handler and each named zwfw route in turn and
// reports requests/second of each and each route's ratio to the bare one.
func (l *loadBench) compare(token string, routes map[string]string) {
	rs := map[string]benchRoute{}
	for name, path := range routes {
		rs[name] = benchRoute{path: path, token: token}
	}
	l.compareRoutes(rs)
}

func (l *loadBench) compareRoutes(routes map[string]benchRoute) {
	l.run(l.bare, "", 200) // warm connections and caches
	for _, r := range routes {
		l.run(l.s.base+r.path, r.token, 200, r.headers...)
	}
	l.b.ResetTimer()
	bare := l.run(l.bare, "", l.b.N)
	results := map[string]float64{}
	for name, r := range routes {
		results[name] = l.run(l.s.base+r.path, r.token, l.b.N, r.headers...)
	}
	l.b.StopTimer()
	l.b.ReportMetric(bare, "bare_req/s")
	for name, rps := range results {
		l.b.ReportMetric(rps, name+"_req/s")
		l.b.ReportMetric(rps/bare, name+"/bare")
	}
}

// BenchmarkGetMe: GET /api/v1/me is a token check, a revocation check and one
// cached user read, through every middleware (request id, log, metrics,
// CORS, two rate limits).
func BenchmarkGetMe(b *testing.B) {
	l := newLoadBench(b)
	me := l.s.loginWeChat("bench")
	l.compare(me.Access, map[string]string{"me": "/api/v1/me"})
}

// BenchmarkCatalog: catalog search and guide reads served from the Redis
// cache (the province is asked once, while warming).
func BenchmarkCatalog(b *testing.B) {
	l := newLoadBench(b)
	code := l.s.app.Sandbox().ProvinceServer().Items()[0].Code
	l.compare("", map[string]string{
		"search": "/api/v1/items?q=" + url.QueryEscape("营业执照"),
		"guide":  "/api/v1/items/" + code,
	})
}

// BenchmarkCases: a case's detail (owner) and 12345 look-ups by case number
// and by phone, with 10,000 cases in the store.
func BenchmarkCases(b *testing.B) {
	l := newLoadBench(b)
	me, id, number := l.s.submittedCase("bench")
	seedCases(b, l.s, id, 10_000)
	if _, err := l.s.app.Identity().CreateStaff(b.Context(), "hotline99", "坐席", "Bench-pass-2026", []identity.Role{identity.RoleHotline}); err != nil {
		b.Fatal(err)
	}
	op := l.s.loginStaff("hotline99", "Bench-pass-2026")
	ticket := []string{"X-Hotline-Ticket", "T2026BENCH01"}
	l.compareRoutes(map[string]benchRoute{
		"case_detail":    {path: "/api/v1/cases/" + id, token: me.Access},
		"hotline_number": {path: "/api/v1/hotline/cases?number=" + number, token: op, headers: ticket},
		"hotline_phone":  {path: "/api/v1/hotline/cases?phone=" + sbprovince.DemoPeople[0].Phone, token: op, headers: ticket},
	})
}

// seedCases stores n more cases like the template one, straight into
// MongoDB (through the API it would take minutes on the embedded store).
func seedCases(b *testing.B, s *server, templateID string, n int) {
	ctx := b.Context()
	coll := s.app.DB().Collection("cases")
	var tmpl bson.M
	if err := coll.FindOne(ctx, bson.M{"_id": templateID}).Decode(&tmpl); err != nil {
		b.Fatal(err)
	}
	batch := make([]any, 0, 500)
	for i := 0; i < n; i++ {
		d := bson.M{}
		for k, v := range tmpl {
			d[k] = v
		}
		d["_id"] = fmt.Sprintf("c_%012x%012x", time.Now().UnixMilli()-int64(n-i), i)
		d["owner_id"] = fmt.Sprintf("u_seed%06d", i%2000)
		d["case_number"] = fmt.Sprintf("FZ20260101%08d", i)
		batch = append(batch, d)
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := coll.InsertMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// BenchmarkSlots: a week of slot availability for one hall and item (the
// Redis availability cache in front of MongoDB's counters).
func BenchmarkSlots(b *testing.B) {
	l := newLoadBench(b)
	item := bookableItem(b, l.s.app.Sandbox().ProvinceServer(), "fz-gl")
	l.s.configureHall(l.s.admin(), "fz-gl", item, 4)
	l.compare("", map[string]string{
		"slots_week": "/api/v1/halls/fz-gl/slots?item_code=" + item + "&days=7",
	})
}
