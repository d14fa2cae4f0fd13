package console_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/bff"
	"zwfw/booking"
	"zwfw/identity"
	"zwfw/platform/workdays"
)

const benchWorkers = 8

// BenchmarkHallPage: the hall clerk's screen of a busy day — 400 bookings
// at the clerk's hall that day among 10,000 in the store — through the
// whole stack (session read, account read, hall configuration, the day's
// bookings from the day cache, item names, the template), next to a bare
// Fiber handler measured in the same run: requests per second of each,
// their ratio, the 90th-percentile latency of each, and the time of a cold
// page (the day read from the store). Nothing here asserts on speed.
func BenchmarkHallPage(b *testing.B) {
	z := start(b, func(c *bff.Config) { c.RatePerIP, c.RatePerUser = 100_000_000, 100_000_000 })
	item := z.bookableItem("fz-gl")
	z.configureHall("fz-gl", item)
	day := z.hallWorkday("fz-gl", item)
	seedBookings(b, z, item, day, 400, 10_000)
	z.staff("hall99", "Window-pass-2026", identity.RoleStaff, "fz-gl")
	clerk := z.browserless()
	if p := clerk.login("hall99", "Window-pass-2026"); p.Status != 200 {
		b.Fatalf("login: %d", p.Status)
	}
	session := clerk.session(b)
	if p := clerk.get("/console/hall"); p.Status != 200 || !strings.Contains(p.Body, "YYBENCH00000399") {
		b.Fatalf("hall page: %d (the seeded day is not on it)", p.Status)
	}

	client, bareHost := bareBench(b)
	bareURL, hallURL := "http://"+bareHost+"/hello", z.base+"/console/hall"

	// A cold page: the day read from the store (on the embedded MongoDB a
	// scan of every booking), as after the cached day expired.
	var cold time.Duration
	for range 3 {
		z.dropHallDay("fz-gl", day)
		t0 := time.Now()
		load(b, client, hallURL, session, 1)
		cold += time.Since(t0) / 3
	}
	load(b, client, bareURL, "", 200) // warm connections and caches
	load(b, client, hallURL, session, 200)
	b.ResetTimer()
	bareRate, bareP90 := load(b, client, bareURL, "", b.N)
	hallRate, hallP90 := load(b, client, hallURL, session, b.N)
	b.StopTimer()
	b.ReportMetric(bareRate, "bare_req/s")
	b.ReportMetric(hallRate, "hall_req/s")
	b.ReportMetric(hallRate/bareRate, "hall/bare")
	b.ReportMetric(float64(bareP90.Microseconds())/1000, "bare_p90_ms")
	b.ReportMetric(float64(hallP90.Microseconds())/1000, "hall_p90_ms")
	b.ReportMetric(float64(cold.Microseconds())/1000, "hall_cold_ms")
}

// load sends n GETs with benchWorkers keep-alive clients (with the session
// cookie when given) and returns requests per second and the 90th
// percentile latency. Any answer but 200 fails the benchmark.
func load(b *testing.B, client *http.Client, target, session string, n int) (float64, time.Duration) {
	rate, latencies := loadEach(b, client, benchWorkers, n, func() *http.Request {
		req, _ := http.NewRequest("GET", target, nil)
		if session != "" {
			req.AddCookie(&http.Cookie{Name: "zwfw_console", Value: session})
		}
		return req
	})
	return rate, latencies[n*9/10]
}

// loadEach sends n requests made by newReq with workers keep-alive clients
// and returns requests per second and the latencies, sorted. Any answer
// but 200 fails the benchmark.
func loadEach(b *testing.B, client *http.Client, workers, n int, newReq func() *http.Request) (float64, []time.Duration) {
	var next, failed, lastStatus atomic.Int64
	var target atomic.Value
	latencies := make([]time.Duration, n)
	var wg sync.WaitGroup
	begin := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				req := newReq()
				t0 := time.Now()
				res, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					target.Store(req.Method + " " + req.URL.Path)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				latencies[i] = time.Since(t0)
				if res.StatusCode != 200 {
					failed.Add(1)
					lastStatus.Store(int64(res.StatusCode))
					target.Store(req.Method + " " + req.URL.Path)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d requests (%v) failed (last status %d)", f, n, target.Load(), lastStatus.Load())
	}
	slices.Sort(latencies)
	return float64(n) / elapsed.Seconds(), latencies
}

// seedBookings stores total bookings straight into MongoDB (through the
// API it would take minutes on the embedded store): onDay of them at
// fz-gl on day across its sessions in every status, the rest on other days.
func seedBookings(b *testing.B, z *zwfw, item string, day workdays.Date, onDay, total int) {
	ctx := b.Context()
	coll := z.app.DB().Collection(booking.BookingsCollection)
	statuses := []booking.Status{booking.StatusConfirmed, booking.StatusCheckedIn, booking.StatusCheckedIn, booking.StatusCancelled, booking.StatusNoShow}
	slots := []string{"09:00", "09:30", "10:00", "10:30", "11:00", "13:30", "14:00", "14:30", "15:00", "15:30", "16:00", "16:30"}
	batch := make([]any, 0, 500)
	now := time.Now().UTC()
	for i := range total {
		d := day
		if i >= onDay {
			d = day.AddDays(1 + i%60) // other days (some on weekends: no matter, they are not shown)
		}
		start, _ := time.ParseInLocation("15:04", slots[i%len(slots)], workdays.Location)
		slotStart := d.Start().Add(time.Duration(start.Hour())*time.Hour + time.Duration(start.Minute())*time.Minute)
		bk := booking.Booking{ID: fmt.Sprintf("b_%012x%012x", now.UnixMilli(), i), Number: fmt.Sprintf("YYBENCH%08d", i),
			UserID: fmt.Sprintf("u_bench%05d", i), HallID: "fz-gl", ItemCode: item, SlotStart: slotStart.UTC(),
			SlotEnd: slotStart.Add(30 * time.Minute).UTC(), Status: statuses[i%len(statuses)],
			CheckInCode: fmt.Sprintf("BENCH%027d", i), Version: 1, CreatedAt: now, UpdatedAt: now}
		if bk.Status == booking.StatusCheckedIn {
			bk.QueueNumber = i + 1
			at := slotStart.UTC()
			bk.CheckedInAt = &at
		}
		batch = append(batch, bk)
		if len(batch) == cap(batch) || i == total-1 {
			if _, err := coll.InsertMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// bareBench starts the bare Fiber handler every console benchmark compares
// with, and the keep-alive client both are measured through.
func bareBench(b *testing.B) (*http.Client, string) {
	bare := fiber.New(fiber.Config{DisableStartupMessage: true})
	bare.Get("/hello", func(c *fiber.Ctx) error { return c.SendString("<!doctype html><p>ok</p>") })
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
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return client, ln.Addr().String()
}

// session is the console session cookie's value of a signed-in browserless client.
func (bl *browserless) session(b *testing.B) string {
	base, _ := url.Parse(bl.z.base + "/console/")
	for _, c := range bl.http.Jar.Cookies(base) {
		if c.Name == "zwfw_console" {
			return c.Value
		}
	}
	b.Fatal("no console session cookie")
	return ""
}
