package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/platform/mongox"
)

// sample is what one measured attack gave.
type sample struct {
	RPS      float64        `json:"rps"` // answers as wanted, per second
	P50      float64        `json:"p50_ms"`
	P99      float64        `json:"p99_ms"`
	Requests int            `json:"requests"`
	Failed   int            `json:"failed"`
	Failures map[string]int `json:"failures,omitempty"` // "409 BOOKING_SLOT_FULL" -> count
	Elapsed  time.Duration  `json:"elapsed_ns"`
}

// shot is one kind of request a row sends: a targeter for vegeta (called
// from many workers at once, so goroutine-safe) and the statuses that count
// as answered. Writes use up what was prepared for them (people's places,
// open orders, notifies): count is how many were prepared. A timed shot
// runs for the round's duration (or until its count is used up); an
// untimed one with a count sends all of them however long it takes (the
// burst).
type shot struct {
	targets vegeta.Targeter
	count   int
	timed   bool
	ok      func(status int) bool
}

// requestTimeout is how long the generator waits for one answer: a phone
// gives up sooner, and a round ends only when its last answer is in.
const requestTimeout = 30 * time.Second

func status2xx(s int) bool { return s >= 200 && s < 300 }

// attack drives the shot with conns workers, each on its own keep-alive
// connection, closed loop (a worker sends its next request when the last
// is answered: wrk's model). The attack's rate is the server's.
func attack(ctx context.Context, s shot, conns int, dur time.Duration) sample {
	atk := vegeta.NewAttacker(
		vegeta.Workers(uint64(conns)), vegeta.MaxWorkers(uint64(conns)),
		vegeta.Connections(conns), vegeta.MaxConnections(conns),
		vegeta.KeepAlive(true), vegeta.Timeout(requestTimeout),
		vegeta.MaxBody(4096), vegeta.Redirects(vegeta.NoFollow))
	timed := s.count == 0 || s.timed
	limit := dur
	if !timed {
		limit = 5 * time.Minute // a bound, not a plan: the targets run out first
	}
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	var lat []time.Duration
	var okEnds []time.Time
	out := sample{Failures: map[string]int{}}
	var first, last time.Time
	ranOut := false
	for res := range atk.Attack(s.targets, vegeta.Rate{Freq: 0}, limit, "") {
		if res.Code == 0 && res.Error == vegeta.ErrNoTargets.Error() {
			ranOut = true // the prepared requests are used up
			continue
		}
		if first.IsZero() || res.Timestamp.Before(first) {
			first = res.Timestamp
		}
		end := res.Timestamp.Add(res.Latency)
		if end.After(last) {
			last = end
		}
		lat = append(lat, res.Latency)
		out.Requests++
		if res.Code != 0 && s.ok(int(res.Code)) {
			okEnds = append(okEnds, end)
			continue
		}
		out.Failed++
		out.Failures[failureKey(res)]++
	}
	if out.Requests == 0 {
		return out
	}
	out.Elapsed = last.Sub(first)
	out.RPS = float64(len(okEnds)) / out.Elapsed.Seconds()
	out.P50, out.P99 = quantileMS(lat, 0.50), quantileMS(lat, 0.99)
	if timed && !ranOut && out.Elapsed > dur && out.P50 < dur.Seconds()*1000/4 {
		// Closed loop, a timed round's rate is what completed within its
		// window: what is still in flight when it closes belongs to the
		// next window, and waiting for it would count idle time. (When
		// answers take a good part of the window, the window says little:
		// then everything answered over the whole round counts.)
		closed, n := first.Add(dur), 0
		for _, t := range okEnds {
			if !t.After(closed) {
				n++
			}
		}
		out.RPS = float64(n) / dur.Seconds()
	}
	return out
}

// failureKey files a failed answer: "409 BOOKING_SLOT_FULL", or the
// transport error.
func failureKey(res *vegeta.Result) string {
	if res.Code == 0 {
		e := res.Error
		if i := strings.LastIndex(e, ": "); i >= 0 {
			e = e[i+2:]
		}
		return e
	}
	var body struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(res.Body, &body)
	if body.Code != "" {
		return fmt.Sprintf("%d %s", res.Code, body.Code)
	}
	return fmt.Sprint(res.Code)
}

func quantileMS(lat []time.Duration, q float64) float64 {
	s := slices.Clone(lat)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}

// rawGuarded is the writes' baseline: one guarded findOneAndUpdate ($inc
// on one document) through mongox, as every store write goes, on zwfw's
// own embedded store, from conns goroutines for dur.
func rawGuarded(ctx context.Context, db *mongo.Database, conns int, dur time.Duration) sample {
	coll := mongox.C(db, "load_raw_guarded")
	id := bson.D{{Key: "_id", Value: "raw"}}
	inc := bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}
	_, _ = coll.UpdateOne(ctx, id, inc, mongoUpsert)
	var mu sync.Mutex
	var lat []time.Duration
	var failed atomic.Int64
	failures := map[string]int{}
	deadline := time.Now().Add(dur)
	begin := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				err := coll.FindOneAndUpdate(ctx, id, inc).Err()
				mine = append(mine, time.Since(t0))
				if err != nil {
					failed.Add(1)
					mu.Lock()
					failures[err.Error()]++
					mu.Unlock()
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	out := sample{Requests: len(lat), Failed: int(failed.Load()), Failures: failures, Elapsed: elapsed}
	if len(lat) > 0 {
		out.RPS = float64(out.Requests-out.Failed) / elapsed.Seconds()
		out.P50, out.P99 = quantileMS(lat, 0.50), quantileMS(lat, 0.99)
	}
	return out
}

// targets round-robins over a fixed list (reads).
func targets(list ...vegeta.Target) vegeta.Targeter {
	var i atomic.Uint64
	return func(t *vegeta.Target) error {
		*t = list[(i.Add(1)-1)%uint64(len(list))]
		return nil
	}
}

// once hands out each target of make(i) for i < n once, then runs out
// (writes that use something up: a user's place, an open order).
func once(n int, make func(i int) vegeta.Target) vegeta.Targeter {
	var i atomic.Int64
	return func(t *vegeta.Target) error {
		k := int(i.Add(1) - 1)
		if k >= n {
			return vegeta.ErrNoTargets
		}
		*t = make(k)
		return nil
	}
}

func get(url, token string, hdr ...string) vegeta.Target {
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	return vegeta.Target{Method: "GET", URL: url, Header: h}
}

func postJSON(url, token, key string, body any) vegeta.Target {
	b, _ := json.Marshal(body)
	h := http.Header{"Content-Type": {"application/json"}}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
	return vegeta.Target{Method: "POST", URL: url, Body: b, Header: h}
}

// median of the values.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
