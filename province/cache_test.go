package province

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func refreshesInFlight(c *Client) int {
	n := 0
	c.refreshing.Range(func(_, _ any) bool { n++; return true })
	return n
}

// Fresh hits come from Redis; past the fresh age a copy is served at once,
// marked stale, while a background refresh runs; while the province is down
// the stale copy is what callers get; a miss then is an error.
func TestCatalogStaleWhileRevalidate(t *testing.T) {
	clock := &testClock{}
	f := newFakeProvince(t, clock)
	reg := prometheus.NewRegistry()
	sharedRedis := withRedis(t)
	c := newTestClient(t, f, sharedRedis, withRegistry(reg), withConfig(func(c *Config) {
		c.Retries = -1
		c.Breaker = BreakerSettings{ConsecutiveFailures: 2, OpenTimeout: time.Hour}
	}))
	ctx := context.Background()
	itemPath := "GET /api/catalog/items/" + testItemCode

	first, err := c.GetItem(ctx, testItemCode)
	if err != nil || first.Stale {
		t.Fatalf("first: %+v %v", first, err)
	}
	page, err := c.SearchItems(ctx, ItemQuery{Q: "营业执照"})
	if err != nil || page.Stale || len(page.Items) != 1 {
		t.Fatalf("search: %+v %v", page, err)
	}
	halls, err := c.ListHalls(ctx, "")
	if err != nil || halls.Stale {
		t.Fatalf("halls: %+v %v", halls, err)
	}
	again, err := c.GetItem(ctx, testItemCode)
	if err != nil || again.Stale || !again.FetchedAt.Equal(first.FetchedAt) {
		t.Fatalf("fresh hit: %+v %v", again, err)
	}
	if _, err := c.SearchItems(ctx, ItemQuery{Q: "营业执照"}); err != nil {
		t.Fatal(err)
	}
	if n := f.totalHits(); n != 3 {
		t.Fatalf("fresh hits reached the province: %d requests", n)
	}

	// Past the fresh age, province down: served stale, refreshed (and failing) in the background.
	clock.Advance(10 * time.Minute)
	f.set(func(f *fakeProvince) { f.down = true })
	for i := range 3 {
		g, err := c.GetItem(ctx, testItemCode)
		if err != nil {
			t.Fatalf("stale read %d: %v", i, err)
		}
		if !g.Stale || g.FetchedAt.UnixMilli() != first.FetchedAt.UnixMilli() || g.Guide.Code != testItemCode {
			t.Fatalf("stale read %d: %+v", i, g)
		}
		p, err := c.SearchItems(ctx, ItemQuery{Q: "营业执照"})
		if err != nil || !p.Stale || len(p.Items) != 1 {
			t.Fatalf("stale search %d: %+v %v", i, p, err)
		}
		eventually(t, "background refreshes", func() bool { return refreshesInFlight(c) == 0 })
	}
	// The failing refreshes opened the catalog breaker; stale copies are still served.
	if c.breakers[groupCatalog].state().String() != "open" {
		t.Fatalf("catalog breaker %s", c.breakers[groupCatalog].state())
	}
	if g, err := c.GetItem(ctx, testItemCode); err != nil || !g.Stale {
		t.Fatalf("stale with breaker open: %+v %v", g, err)
	}
	// Nothing cached for this query: the caller gets the outage.
	_, err = c.SearchItems(ctx, ItemQuery{Q: "没有缓存的查询"})
	e := wantCode(t, err, "PROVINCE_UNAVAILABLE")
	if e.Details["retry_after"] == nil {
		t.Fatalf("no retry_after: %+v", e)
	}
	if metricValue(t, reg, "zwfw_province_cache_requests_total", map[string]string{"result": "stale"}) < 3 {
		t.Fatal("stale hits not counted")
	}

	// Province back (another replica: closed breaker, same Redis): the stale
	// copy is served once more, the refresh succeeds, then the answer is fresh.
	f.set(func(f *fakeProvince) { f.down = false })
	c = newTestClient(t, f, sharedRedis)
	if g, err := c.GetItem(ctx, testItemCode); err != nil || !g.Stale {
		t.Fatalf("stale before refresh: %+v %v", g, err)
	}
	eventually(t, "refresh", func() bool { return refreshesInFlight(c) == 0 })
	g, err := c.GetItem(ctx, testItemCode)
	if err != nil || g.Stale || !g.FetchedAt.After(first.FetchedAt) {
		t.Fatalf("after refresh: %+v %v", g, err)
	}
	before := f.hitsOf(itemPath)
	if _, err := c.GetItem(ctx, testItemCode); err != nil || f.hitsOf(itemPath) != before {
		t.Fatalf("refreshed copy not used: %v", err)
	}

	// Older than MaxStale: not served.
	clock.Advance(25 * time.Hour)
	f.set(func(f *fakeProvince) { f.down = true })
	_, err = c.GetItem(ctx, testItemCode)
	wantCode(t, err, "PROVINCE_UNAVAILABLE")
}

// An item the province deleted disappears from the cache at the next refresh.
func TestCatalogRefreshDropsDeletedItem(t *testing.T) {
	clock := &testClock{}
	f := newFakeProvince(t, clock)
	c := newTestClient(t, f, withRedis(t))
	ctx := context.Background()
	if _, err := c.GetItem(ctx, testItemCode); err != nil {
		t.Fatal(err)
	}
	f.set(func(f *fakeProvince) {
		f.override = func(method, path string, _ []byte) (int, map[string]any, bool) {
			return 404, errEnv("ITEM_NOT_FOUND", "事项已取消"), true
		}
	})
	clock.Advance(10 * time.Minute)
	if g, err := c.GetItem(ctx, testItemCode); err != nil || !g.Stale {
		t.Fatalf("stale: %+v %v", g, err)
	}
	eventually(t, "refresh", func() bool { return refreshesInFlight(c) == 0 })
	_, err := c.GetItem(ctx, testItemCode)
	wantCode(t, err, "ITEM_NOT_FOUND")
}

// Twenty identical concurrent GetItem calls with a slow province make one
// request, with the Redis cache and without it.
func TestConcurrentIdenticalReadsCoalesce(t *testing.T) {
	for _, cached := range []bool{true, false} {
		name := map[bool]string{true: "with Redis", false: "without Redis"}[cached]
		t.Run(name, func(t *testing.T) {
			f := newFakeProvince(t, &testClock{})
			gate := make(chan struct{})
			f.set(func(f *fakeProvince) { f.gate = gate })
			reg := prometheus.NewRegistry()
			opts := []testOpt{withRegistry(reg)}
			result := "bypass"
			if cached {
				opts = append(opts, withRedis(t))
				result = "miss"
			}
			c := newTestClient(t, f, opts...)
			const n = 20
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for range n {
				wg.Go(func() {
					g, err := c.GetItem(context.Background(), testItemCode)
					if err == nil && g.Guide.Code != testItemCode {
						t.Errorf("wrong guide %+v", g.Guide)
					}
					errs <- err
				})
			}
			// Hold the province until every caller has asked, then let it answer.
			eventually(t, "callers to arrive", func() bool {
				return metricValue(t, reg, "zwfw_province_cache_requests_total", map[string]string{"result": result}) == n
			})
			eventually(t, "the first request", func() bool { return f.totalHits() >= 1 })
			time.Sleep(20 * time.Millisecond) // let the last callers join the flight
			close(gate)
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := f.totalHits(); got != 1 {
				t.Fatalf("%d identical reads made %d requests, want 1", n, got)
			}
		})
	}
}

// A caller that gives up does not cancel the shared fetch of the others.
func TestCoalescedReadSurvivesFirstCallerCancel(t *testing.T) {
	f := newFakeProvince(t, &testClock{})
	gate := make(chan struct{})
	f.set(func(f *fakeProvince) { f.gate = gate })
	c := newTestClient(t, f)
	ctx1, cancel := context.WithCancel(context.Background())
	done1 := make(chan error, 1)
	go func() { _, err := c.GetItem(ctx1, testItemCode); done1 <- err }()
	eventually(t, "the first request", func() bool { return f.totalHits() == 1 })
	done2 := make(chan error, 1)
	go func() { _, err := c.GetItem(context.Background(), testItemCode); done2 <- err }()
	time.Sleep(20 * time.Millisecond)
	cancel()
	wantCode(t, <-done1, "PROVINCE_TIMEOUT")
	close(gate)
	if err := <-done2; err != nil {
		t.Fatalf("second caller: %v", err)
	}
	if n := f.totalHits(); n != 1 {
		t.Fatalf("%d requests", n)
	}
}
