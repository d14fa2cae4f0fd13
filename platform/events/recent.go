package events

import (
	"context"
	"sort"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/platform/mongox"
)

// The embedded FerretDB answers a range read of the log ({_id: {$gt: n}},
// what every consumer does after every append) by reading and decoding
// every event ever written, and looks nothing up by an integer _id. It also
// only ever serves the process that embeds it, so on it every event is
// appended by this process: the log keeps the events appended here in
// memory (one window per database, shared by every Log of the process) and
// serves a consumer's read from it when the window covers the range. On
// MongoDB the window is off and every read goes to the store.

// recentWindowSize bounds the window: a consumer further behind reads the store.
const recentWindowSize = 20000

type recentKey struct {
	client *mongo.Client
	db     string
}

var recentWindows sync.Map // recentKey -> *recentWindow

// recentWindow holds, from `from` on, every event appended in this process
// whose insert succeeded, in Seq order.
type recentWindow struct {
	mu     sync.Mutex
	active bool
	off    bool // the store is MongoDB
	from   int64
	evs    []Event
}

func recentFor(db *mongo.Database) *recentWindow {
	v, _ := recentWindows.LoadOrStore(recentKey{db.Client(), db.Name()}, &recentWindow{})
	return v.(*recentWindow)
}

// start opens the window at the log's head, once: every event with a
// greater Seq is appended after this (by this process) and is kept. The
// lock is held across the read of the head, so an append that finishes
// meanwhile waits and is then kept, or was counted in the head.
func (w *recentWindow) start(ctx context.Context, l *Log) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.active || w.off {
		return
	}
	if !mongox.IsFerretDB(ctx, l.db) {
		w.off = true
		return
	}
	head, err := l.Head(ctx)
	if err != nil {
		return // tried again at the next read
	}
	w.from, w.active = head+1, true
}

// add keeps an appended event (a copy as the store returns it).
func (w *recentWindow) add(e Event) {
	raw, err := bson.Marshal(e)
	var cp Event
	if err == nil {
		err = bson.Unmarshal(raw, &cp)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.active || e.Seq < w.from {
		return
	}
	if err != nil {
		// Cannot keep it as stored: reads of its range go to the store.
		w.evs, w.from = nil, e.Seq+1
		return
	}
	i := sort.Search(len(w.evs), func(i int) bool { return w.evs[i].Seq >= cp.Seq })
	w.evs = append(w.evs, Event{})
	copy(w.evs[i+1:], w.evs[i:])
	w.evs[i] = cp
	if over := len(w.evs) - recentWindowSize; over > 0 {
		w.from = w.evs[over-1].Seq + 1
		w.evs = append([]Event(nil), w.evs[over:]...)
	}
}

// readAfter returns what the store would for ReadAfter, or false when the
// window does not cover afterSeq.
func (w *recentWindow) readAfter(afterSeq int64, limit int) ([]Event, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.active || afterSeq+1 < w.from {
		return nil, false
	}
	i := sort.Search(len(w.evs), func(i int) bool { return w.evs[i].Seq > afterSeq })
	n := min(limit, len(w.evs)-i)
	out := make([]Event, n)
	copy(out, w.evs[i:i+n])
	return out, true
}
