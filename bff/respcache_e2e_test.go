package bff_test

import (
	"testing"

	"zwfw/platform/testenv"
	"zwfw/platform/workdays"
)

// A week of slots is kept ready in each replica's memory; a change of the
// hall on one replica is seen at once there and, through Redis, on the
// others (two replicas on one store and one Redis).
func TestSlotWeekAnswersFollowChangesAcrossReplicas(t *testing.T) {
	cfg := testConfig(t)
	a, b := launch(t, cfg), launch(t, cfg)
	item := bookableItem(t, a.app.Sandbox().ProvinceServer(), "fz-gl")
	admin := a.admin()
	from := workdays.Today().AddDays(1).String()
	capacityOn := func(s *server) int {
		for _, sl := range s.slots("fz-gl", item, from, 7) {
			return sl.Capacity
		}
		t.Fatal("no slots")
		return 0
	}
	a.configureHall(admin, "fz-gl", item, 4)
	if got := capacityOn(a); got != 4 {
		t.Fatalf("capacity on a: %d", got)
	}
	if got := capacityOn(b); got != 4 {
		t.Fatalf("capacity on b: %d", got)
	}
	r := a.request("PUT", "/api/v1/admin/halls/fz-gl/config", admin, map[string]any{"version": 1,
		"name": "鼓楼区政务服务中心", "windows": []map[string]any{{"id": "w1", "name": "1号窗口", "item_codes": []string{item}, "per_slot_capacity": 6}},
	})
	if r.Status != 200 {
		t.Fatalf("hall config again: %d %s", r.Status, r.Body)
	}
	if got := capacityOn(a); got != 6 {
		t.Fatalf("a changed the hall and still answers capacity %d", got)
	}
	testenv.WaitFor(t, "replica b to drop its ready answer", func() bool { return capacityOn(b) == 6 })
}

// A guide served from memory keeps its ETag, and a conditional GET of it
// is answered 304.
func TestCachedGuideKeepsItsETag(t *testing.T) {
	s := start(t)
	code := s.app.Sandbox().ProvinceServer().Items()[0].Code
	first := s.request("GET", "/api/v1/items/"+code, "", nil)
	second := s.request("GET", "/api/v1/items/"+code, "", nil)
	etag := first.Header.Get("ETag")
	if first.Status != 200 || second.Status != 200 || etag == "" || second.Header.Get("ETag") != etag ||
		string(first.Body) != string(second.Body) || second.Header.Get("Cache-Control") == "" {
		t.Fatalf("guide twice: %d %v / %d %v", first.Status, first.Header, second.Status, second.Header)
	}
	r := s.request("GET", "/api/v1/items/"+code, "", nil, "If-None-Match", etag)
	if r.Status != 304 || len(r.Body) != 0 || r.Header.Get("ETag") != etag {
		t.Fatalf("conditional GET of a cached guide: %d %v %q", r.Status, r.Header, r.Body)
	}
}
