package province

import (
	"context"
	"testing"
)

// BenchmarkGetItemCacheHit measures a fresh catalog hit: one Redis GET and
// the decoding of a full guide.
func BenchmarkGetItemCacheHit(b *testing.B) {
	f := newFakeProvince(b, &testClock{})
	c := newTestClient(b, f, withRedis(b))
	ctx := context.Background()
	if _, err := c.GetItem(ctx, testItemCode); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			g, err := c.GetItem(ctx, testItemCode)
			if err != nil || g.Stale {
				b.Fatal(err)
			}
		}
	})
	b.StopTimer()
	if n := f.totalHits(); n != 1 {
		b.Fatalf("cache hits reached the province %d times", n-1)
	}
}

// BenchmarkSearchItemsCacheHit measures a fresh search hit.
func BenchmarkSearchItemsCacheHit(b *testing.B) {
	f := newFakeProvince(b, &testClock{})
	c := newTestClient(b, f, withRedis(b))
	ctx := context.Background()
	q := ItemQuery{Q: "营业执照", Audience: AudienceCitizen, PageSize: 20}
	if _, err := c.SearchItems(ctx, q); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := c.SearchItems(ctx, q)
			if err != nil || len(p.Items) != 1 {
				b.Fatal(err)
			}
		}
	})
	b.StopTimer()
	if n := f.totalHits(); n != 1 {
		b.Fatalf("cache hits reached the province %d times", n-1)
	}
}
