package bff_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/bff"
)

// BenchmarkGetMe measures GET /api/v1/me (token check, revocation check and
// one cached user read, through every middleware) against a bare Fiber
// handler on the same machine in the same run, both over loopback HTTP with
// keep-alive clients. It reports requests/second of each and their ratio.
func BenchmarkGetMe(b *testing.B) {
	// Limits high enough never to trip, so the limiter's cost is measured but not its refusals.
	s := start(b, func(c *bff.Config) { c.RatePerIP, c.RatePerUser = 100_000_000, 100_000_000 })
	me := s.loginWeChat("bench")

	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Get("/hello", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"ok": true}) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() { _ = bare.Listener(ln) }()
	const workers = 8
	transport := &http.Transport{MaxIdleConnsPerHost: workers}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	defer func() {
		transport.CloseIdleConnections()
		_ = bare.ShutdownWithTimeout(2 * time.Second)
	}()
	run := func(url, token string, n int) float64 {
		var next atomic.Int64
		var failed, lastStatus atomic.Int64
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
						lastStatus.Store(int64(res.StatusCode))
					}
				}
			}()
		}
		wg.Wait()
		if f := failed.Load(); f > 0 {
			b.Fatal(fmt.Sprintf("%d of %d requests to %s failed (last status %d)", f, n, url, lastStatus.Load()))
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
