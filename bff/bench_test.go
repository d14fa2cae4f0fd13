package bff_test

import (
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
)

// BenchmarkGetMe measures GET /api/v1/me (token check, revocation check and
// one cached user read, through every middleware) against a bare Fiber
// handler on the same machine in the same run, both over loopback HTTP with
// keep-alive clients. It reports requests/second of each and their ratio.
func BenchmarkGetMe(b *testing.B) {
	s := start(b)
	me := s.loginWeChat("bench")

	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Get("/hello", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"ok": true}) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = bare.Listener(ln) }()
	defer bare.Shutdown()

	const workers = 8
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 10 * time.Second}
	run := func(url, token string, n int) float64 {
		var next atomic.Int64
		var failed atomic.Int64
		var wg sync.WaitGroup
		begin := time.Now()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(n) {
					req, _ := http.NewRequest("GET", url, nil)
					if token != "" {
						req.Header.Set("Authorization", "Bearer "+token)
					}
					res, err := client.Do(req)
					if err != nil {
						failed.Add(1)
						continue
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if f := failed.Load(); f > 0 {
			b.Fatalf("%d of %d requests to %s failed", f, n, url)
		}
		return float64(n) / time.Since(begin).Seconds()
	}
	// Warm both paths (connections, user cache) before measuring.
	run("http://"+ln.Addr().String()+"/hello", "", 200)
	run(s.base+"/api/v1/me", me.Access, 200)

	b.ResetTimer()
	bareRPS := run("http://"+ln.Addr().String()+"/hello", "", b.N)
	meRPS := run(s.base+"/api/v1/me", me.Access, b.N)
	b.StopTimer()
	b.ReportMetric(bareRPS, "bare_req/s")
	b.ReportMetric(meRPS, "me_req/s")
	b.ReportMetric(meRPS/bareRPS, "me/bare")
}
