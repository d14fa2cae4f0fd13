package main

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// The goals of issue 20, each checked on the row it is about.
var (
	goalHotRead = &goal{text: "≥ 0.5 of bare, p99 ≤ 10 ms", check: func(r *row) bool { return r.Ratio >= 0.5 && r.P99 <= 10 }}
	goalCase    = &goal{text: "≥ 0.2 of bare", check: func(r *row) bool { return r.Ratio >= 0.2 }}
	goalFlat    = &goal{text: "flat: ≥ 0.8 of the 1,000-case figure", check: func(r *row) bool { return r.Ratio >= 0.8 }}
	goalBook    = &goal{text: "≥ 0.3 of a raw guarded update (≤ 3 store calls: make bench)", check: func(r *row) bool { return r.Ratio >= 0.3 }}
	goalNotify  = &goal{text: "≥ 0.25 of a raw guarded update", check: func(r *row) bool { return r.Ratio >= 0.25 }}
	goalBurst   = &goal{text: "p99 < 2 s (embedded default)", check: func(r *row) bool { return r.P99 < 2000 }}
	goalBurstRd = &goal{text: "(the goal is set for the embedded default)"}
	goalLivez   = &goal{text: "reference: the cheapest route (0.63 in the issue)"}
	goalMixed   = &goal{text: "no goal of its own: the citizen mix at peak"}
)

// world is what seeding made in one mode: people, the hall, cases, and
// the writes prepared for the rounds.
type world struct {
	readers   []*citizen // sign in for /me, /home and their cases
	hotline   *staffToken
	hall      *hallSetup
	guide     string // an item code whose guide is read
	cases     []realCase
	bookings  *bookingPool
	burst     *bookingPool
	notifies  []signedNotify
	notifyAt  atomic.Int64 // next unused notify
	notices   []notice     // looked up, not yet paid (the mix pays them)
	noticeAt  atomic.Int64
	ticketSeq atomic.Int64
}

// staffToken is a staff member signed in, signed in again when the token
// is about to expire (access tokens last 15 minutes).
type staffToken struct {
	username, token string
	at              time.Time
}

func (w *world) takeNotifies(n int) ([]signedNotify, error) {
	k := int(w.notifyAt.Add(int64(n)))
	if k > len(w.notifies) {
		return nil, fmt.Errorf("the notify pool is used up (%d prepared)", len(w.notifies))
	}
	return w.notifies[k-n : k], nil
}

func (w *world) takeNotices(n int) ([]notice, error) {
	k := int(w.noticeAt.Add(int64(n)))
	if k > len(w.notices) {
		return nil, fmt.Errorf("the notice pool is used up (%d prepared)", len(w.notices))
	}
	return w.notices[k-n : k], nil
}

// reads are the hot read rows, all cache hits after the warm-up.
func (h *harness) reads(s *seeder, w *world) []spec {
	api := s.api
	read := func(list ...vegeta.Target) func(int) (shot, error) {
		return func(int) (shot, error) { return shot{targets: targets(list...), ok: status2xx}, nil }
	}
	// Signed-in reads rotate over the readers, signed in again when their
	// tokens are about to expire.
	signedIn := func(path string) func(int) (shot, error) {
		return func(int) (shot, error) {
			if err := s.fresh(context.Background(), w.readers); err != nil {
				return shot{}, err
			}
			var list []vegeta.Target
			for _, c := range w.readers {
				list = append(list, get(api+path, c.token))
			}
			return shot{targets: targets(list...), ok: status2xx}, nil
		}
	}
	slots := fmt.Sprintf("%s/halls/%s/slots?days=7&item_code=%s", api, w.hall.hall, w.hall.items[0])
	return []spec{
		{name: "GET /api/v1/items?q=营业执照", shot: read(get(api+"/items?q="+url.QueryEscape("营业执照"), "")), goal: goalHotRead, profile: "items-search"},
		{name: "GET /api/v1/items/{code}", shot: read(get(api+"/items/"+w.guide, "")), goal: goalHotRead, profile: "guide"},
		{name: "GET /api/v1/me", shot: signedIn("/me"), goal: goalHotRead, profile: "me"},
		{name: "GET /api/v1/home", shot: signedIn("/home"), goal: goalHotRead, profile: "home"},
		{name: "GET /api/v1/halls/{id}/slots?days=7", shot: read(get(slots, "")), goal: goalHotRead, profile: "slots"},
		{name: "GET /livez", shot: read(get(s.z.base+"/livez", "")), goal: goalLivez},
	}
}

// caseReads are the look-ups that must stay flat as the store grows.
func (h *harness) caseReads(s *seeder, w *world, cases int, planned string) []spec {
	size := thousands(cases)
	api := s.api
	detail := func(int) (shot, error) {
		var owners []*citizen
		for _, c := range w.cases {
			owners = append(owners, c.owner)
		}
		if err := s.fresh(context.Background(), owners); err != nil {
			return shot{}, err
		}
		var list []vegeta.Target
		for _, c := range w.cases {
			list = append(list, get(api+"/cases/"+c.id, c.owner.token))
		}
		return shot{targets: targets(list...), ok: status2xx}, nil
	}
	hotline := func(int) (shot, error) {
		tok, err := s.staffFresh(context.Background(), w.hotline)
		if err != nil {
			return shot{}, err
		}
		var list []vegeta.Target
		for _, c := range w.cases {
			list = append(list, get(api+"/hotline/cases?number="+c.number, tok,
				"X-Hotline-Ticket", fmt.Sprintf("LOAD-%08d", w.ticketSeq.Add(1))))
		}
		return shot{targets: targets(list...), ok: status2xx}, nil
	}
	return []spec{
		{name: "GET /api/v1/cases/{id} (" + size + " cases)", shot: detail, goal: goalCase, profile: "case-detail-" + planned},
		{name: "GET /api/v1/hotline/cases?number= (" + size + " cases)", shot: hotline, goal: goalCase, profile: "hotline-" + planned},
	}
}

// bookShot makes n bookings, each by a person who may make it.
func (s *seeder) bookShot(ctx context.Context, pool *bookingPool, hall string, n int) (shot, error) {
	list, err := pool.take(n)
	if err != nil {
		return shot{}, err
	}
	people := make([]*citizen, len(list))
	for i, b := range list {
		people[i] = b.c
	}
	if err := s.fresh(ctx, people); err != nil {
		return shot{}, err
	}
	return shot{count: n, timed: true, ok: status2xx, targets: once(n, func(i int) vegeta.Target {
		b := list[i]
		return postJSON(s.api+"/bookings", b.c.token, uuid.NewString(),
			map[string]string{"hall_id": hall, "item_code": b.item, "slot_start": b.slot})
	})}, nil
}

// notifyShot sends n first notifies (each marks an open order paid).
func notifyShot(w *world, n int) (shot, error) {
	list, err := w.takeNotifies(n)
	if err != nil {
		return shot{}, err
	}
	return shot{count: n, timed: true, ok: status2xx, targets: once(n, func(i int) vegeta.Target {
		return vegeta.Target{Method: "POST", URL: list[i].url, Body: list[i].body, Header: map[string][]string{"Content-Type": {"text/xml"}}}
	})}, nil
}

// writes are a booking and a first payment notify.
func (h *harness) writes(s *seeder, w *world) []spec {
	return []spec{
		{name: "POST /api/v1/bookings", goal: goalBook, profile: "booking", counted: true, long: true,
			shot: func(int) (shot, error) {
				return s.bookShot(context.Background(), w.bookings, w.hall.hall, h.plan.bookCount)
			}},
		{name: "POST /api/v1/callbacks/wechatpay/notify (first)", goal: goalNotify, profile: "notify", counted: true, long: true,
			shot: func(int) (shot, error) { return notifyShot(w, h.plan.notifyCnt) }},
	}
}

// mixKinds are the citizen mix at a peak: mostly reading (the first
// screen, the catalog, a hall's week), some booking, paying, and WeChat
// Pay's notifies of the payments.
var mixKinds = []struct {
	kind   string
	weight int
}{{"home", 25}, {"search", 15}, {"guide", 20}, {"slots", 20}, {"book", 7}, {"pay", 6}, {"notify", 7}}

// mixCounts splits n requests by the weights.
func mixCounts(n int) map[string]int {
	total := 0
	for _, k := range mixKinds {
		total += k.weight
	}
	out, left := map[string]int{}, n
	for i, k := range mixKinds {
		c := n * k.weight / total
		if i == len(mixKinds)-1 {
			c = left
		}
		out[k.kind], left = c, left-c
	}
	return out
}

// mixed interleaves the kinds in their proportions (smooth weighted
// round-robin, so every stretch of the run has the same mix).
func (h *harness) mixed(s *seeder, w *world) spec {
	api := s.api
	return spec{name: "mixed citizen workload", goal: goalMixed, profile: "mixed", counted: true, long: true, shot: func(int) (shot, error) {
		ctx := context.Background()
		n := h.plan.mixedCount
		counts := mixCounts(n)
		books, err := w.bookings.take(counts["book"])
		if err != nil {
			return shot{}, err
		}
		pays, err := w.takeNotices(counts["pay"])
		if err != nil {
			return shot{}, err
		}
		notifies, err := w.takeNotifies(counts["notify"])
		if err != nil {
			return shot{}, err
		}
		people := append([]*citizen(nil), w.readers...)
		for _, b := range books {
			people = append(people, b.c)
		}
		for _, p := range pays {
			people = append(people, p.c)
		}
		if err := s.fresh(ctx, people); err != nil {
			return shot{}, err
		}
		slots := fmt.Sprintf("%s/halls/%s/slots?days=7&item_code=%s", api, w.hall.hall, w.hall.items[0])
		seqKinds := make([]string, 0, n)
		current := make([]int, len(mixKinds))
		left := counts
		for len(seqKinds) < n {
			best, total := -1, 0
			for i, k := range mixKinds {
				if left[k.kind] == 0 {
					continue
				}
				current[i] += k.weight
				total += k.weight
				if best < 0 || current[i] > current[best] {
					best = i
				}
			}
			current[best] -= total
			left[mixKinds[best].kind]--
			seqKinds = append(seqKinds, mixKinds[best].kind)
		}
		var nb, np, nn, nr atomic.Int64
		return shot{count: n, timed: true, ok: status2xx, targets: once(n, func(i int) vegeta.Target {
			reader := w.readers[int(nr.Add(1))%len(w.readers)]
			switch seqKinds[i] {
			case "home":
				return get(api+"/home", reader.token)
			case "search":
				return get(api+"/items?q="+url.QueryEscape("营业执照"), "")
			case "guide":
				return get(api+"/items/"+w.guide, "")
			case "slots":
				return get(slots, "")
			case "book":
				b := books[nb.Add(1)-1]
				return postJSON(api+"/bookings", b.c.token, uuid.NewString(),
					map[string]string{"hall_id": w.hall.hall, "item_code": b.item, "slot_start": b.slot})
			case "pay":
				p := pays[np.Add(1)-1]
				return postJSON(api+"/payments/"+p.code+"/pay", p.c.token, uuid.NewString(), map[string]string{"channel": "wechat_jsapi"})
			default:
				nt := notifies[nn.Add(1)-1]
				return vegeta.Target{Method: "POST", URL: nt.url, Body: nt.body, Header: map[string][]string{"Content-Type": {"text/xml"}}}
			}
		})}, nil
	}}
}

// burst is the 08:00 release: every prepared person books at the same
// moment, one connection each.
func (h *harness) burst(s *seeder, w *world, goal *goal) spec {
	return spec{name: fmt.Sprintf("%d people booking at once", h.plan.burst), goal: goal, counted: true,
		shot: func(int) (shot, error) {
			sh, err := s.bookShot(context.Background(), w.burst, w.hall.hall, h.plan.burst)
			sh.timed = false // every one of them, however long it takes
			return sh, err
		}}
}
