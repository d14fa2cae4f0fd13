package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/invariants"
	"zwfw/platform/mongox"
)

// FailedCollection indexes the failed messages for the admins' list, read
// by _id only. Filtering the messages on state made the embedded FerretDB
// read and decode every message of every user on each page (5 s a page at
// 20,000 messages); a page now reads the same few documents at any size:
//
//	months                      the months that have buckets ({months: ["2026-05", ...]})
//	days:<YYYY-MM>              that month's days that have buckets ({days: ["2026-05-01", ...]})
//	dir:<YYYY-MM-DD>            that day's buckets ({buckets: ["2026-05-01T13:0", ...]})
//	hour:<YYYY-MM-DDTHH>:<k>    up to failedBucketSize entries of that UTC hour ({entries, n})
//	backfill                    the messages failed before the index existed are in it
//
// Every level stays short because the embedded store decodes each array
// element dearly (a month's directory of 720 names took 7 ms to read, a
// message 0.9 ms).
//
// An entry is "<updated_at unix ms, 13 digits>|<public id>|<message _id>":
// the list's sort key, so a page fetches only its own messages, by _id.
//
// Why it cannot lose a failed message or show a wrong one: a message's
// entry is written before the message becomes failed (ReleaseMessage and
// InsertMessage note it first and change nothing when that write fails),
// and each parent (month, day, directory) is registered before the bucket
// under it. A crash between the two writes leaves an entry whose message is not
// failed at that time; the reader re-reads every entry's message by _id
// and shows it only when it is failed with exactly the entry's time and
// public id, so such an entry — or one of a message failed again later, or
// retried and sent — is skipped, never shown. Messages failed by a process
// running older code (during a rolling update) or loaded in bulk are added
// by ReindexFailed: once at start-up and by the daily self-check.
const FailedCollection = "notify_failed"

// failedBucketSize bounds a bucket (about 20 KB): a full one rolls to the
// next number, so a channel outage failing thousands in an hour neither
// rewrites a large document on every failure nor makes a page decode one.
// Buckets are per hour, not per day, for the same outage: a page reads only
// the newest hours' buckets it needs.
var failedBucketSize = 200

// failedIndex writes and reads the index documents.
type failedIndex struct {
	coll *mongox.Collection

	mu   sync.Mutex
	seen map[string]int // registered parents "reg|<doc>|<value>" -> 1; "k|<hour>" -> the current bucket
}

func newFailedIndex(db *mongo.Database) *failedIndex {
	return &failedIndex{coll: mongox.C(db, FailedCollection), seen: map[string]int{}}
}

// failedEntry is one parsed entry.
type failedEntry struct {
	at      int64 // unix ms of the message's updated_at when it failed
	pid, id string
	raw     string
}

func failedEntryOf(id, pid string, at time.Time) string {
	return fmt.Sprintf("%013d|%s|%s", at.UnixMilli(), pid, id)
}

func parseFailedEntry(s string) (failedEntry, bool) {
	ms, rest, ok1 := strings.Cut(s, "|")
	pid, id, ok2 := strings.Cut(rest, "|")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok1 || !ok2 || err != nil || pid == "" || id == "" {
		return failedEntry{}, false
	}
	return failedEntry{at: n, pid: pid, id: id, raw: s}, true
}

// failedHour is the UTC hour an entry at t is bucketed under.
func failedHour(t time.Time) string { return t.UTC().Format("2006-01-02T15") }

// newerFirst orders entries as the list: updated_at, then public id, descending.
func newerFirst(a, b failedEntry) int {
	if c := cmp.Compare(b.at, a.at); c != 0 {
		return c
	}
	return strings.Compare(b.pid, a.pid)
}

// before reports whether e comes after the cursor c (strictly older).
func (e failedEntry) before(c PageCursor) bool {
	if c.At.IsZero() {
		return true
	}
	ms := c.At.UnixMilli()
	return e.at < ms || (e.at == ms && e.pid < c.ID)
}

// note puts a message that is about to become failed at at into the index.
func (x *failedIndex) note(ctx context.Context, id, pid string, at time.Time) error {
	return x.add(ctx, failedHour(at), []string{failedEntryOf(id, pid, at)})
}

// add appends entries (at most failedBucketSize) to hour's current bucket,
// after registering its month, day and name. The write filters on
// _id alone (the only filter the embedded store serves by an index); a
// writer of another replica still sending to a bucket that just filled
// adds once more before it rolls, so a bucket is only ever a little over.
func (x *failedIndex) add(ctx context.Context, hour string, entries []string) error {
	month, day := hour[:7], hour[:10]
	k, err := x.currentBucket(ctx, hour)
	if err != nil {
		return err
	}
	if err := x.register(ctx, "months", "months", month); err != nil {
		return err
	}
	if err := x.register(ctx, "days:"+month, "days", day); err != nil {
		return err
	}
	name := hour + ":" + strconv.Itoa(k)
	if err := x.register(ctx, "dir:"+day, "buckets", name); err != nil {
		return err
	}
	var b struct {
		N int `bson:"n"`
	}
	err = x.coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "hour:" + name}},
		bson.D{{Key: "$push", Value: bson.D{{Key: "entries", Value: bson.D{{Key: "$each", Value: entries}}}}},
			{Key: "$inc", Value: bson.D{{Key: "n", Value: len(entries)}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&b)
	if err != nil {
		return storeErr("index failed message", err)
	}
	if b.N >= failedBucketSize {
		k++
	}
	x.remember("k|"+hour, k)
	return nil
}

// register adds value to the field array of doc once per process, before
// anything is written below it.
func (x *failedIndex) register(ctx context.Context, doc, field, value string) error {
	mark := "reg|" + doc + "|" + value
	x.mu.Lock()
	_, done := x.seen[mark]
	x.mu.Unlock()
	if done {
		return nil
	}
	_, err := x.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: doc}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: field, Value: value}}}}, options.UpdateOne().SetUpsert(true))
	if mongox.IsDuplicateKey(err) { // a concurrent upsert created it: add again
		return x.register(ctx, doc, field, value)
	}
	if err != nil {
		return storeErr("index failed message", err)
	}
	x.remember(mark, 1)
	return nil
}

func (x *failedIndex) remember(mark string, v int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.seen) > 10_000 { // old hours' marks: start over rather than grow
		clear(x.seen)
	}
	x.seen[mark] = v
}

// currentBucket is the bucket appends of hour go to: this process's last,
// or the highest the day's directory names.
func (x *failedIndex) currentBucket(ctx context.Context, hour string) (int, error) {
	x.mu.Lock()
	k, ok := x.seen["k|"+hour]
	x.mu.Unlock()
	if ok {
		return k, nil
	}
	dir, err := x.directory(ctx, hour[:10])
	if err != nil {
		return 0, err
	}
	return slices.Max(append(dir[hour], 0)), nil
}

// names reads the string array field of doc, newest (largest) first.
func (x *failedIndex) names(ctx context.Context, doc, field string) ([]string, error) {
	var d bson.M
	if err := x.coll.FindOne(ctx, bson.D{{Key: "_id", Value: doc}}).Decode(&d); err != nil && !mongox.IsNoDocuments(err) {
		return nil, storeErr("list failed messages", err)
	}
	arr, _ := d[field].(bson.A)
	out := make([]string, 0, len(arr))
	for _, v := range arr {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	slices.Reverse(out)
	return out, nil
}

// directory reads day's bucket numbers by hour.
func (x *failedIndex) directory(ctx context.Context, day string) (map[string][]int, error) {
	buckets, err := x.names(ctx, "dir:"+day, "buckets")
	if err != nil {
		return nil, err
	}
	out := map[string][]int{}
	for _, b := range buckets {
		hour, n, ok := strings.Cut(b, ":")
		k, err := strconv.Atoi(n)
		if ok && err == nil {
			out[hour] = append(out[hour], k)
		}
	}
	return out, nil
}

// hourEntries reads the entries of hour's buckets, each once, newest first.
func (x *failedIndex) hourEntries(ctx context.Context, hour string, buckets []int) ([]failedEntry, error) {
	seen := map[string]bool{}
	var out []failedEntry
	for _, k := range buckets {
		var b struct {
			Entries []string `bson:"entries"`
		}
		err := x.coll.FindOne(ctx, bson.D{{Key: "_id", Value: "hour:" + hour + ":" + strconv.Itoa(k)}}).Decode(&b)
		if err != nil && !mongox.IsNoDocuments(err) { // a name registered before its bucket: nothing in it yet
			return nil, storeErr("list failed messages", err)
		}
		for _, s := range b.Entries {
			if e, ok := parseFailedEntry(s); ok && !seen[s] {
				seen[s] = true
				out = append(out, e)
			}
		}
	}
	slices.SortFunc(out, newerFirst)
	return out, nil
}

// Failed implements Store from the index: months, days, then hours, newest
// first; of each hour the entries after c, newest first, each message read
// by _id and shown only if it is still failed at the entry's time.
func (s *MongoStore) Failed(ctx context.Context, c PageCursor, limit int) ([]Message, error) {
	if limit <= 0 {
		limit = PageSize
	}
	out := []Message{}
	months, err := s.failed.names(ctx, "months", "months")
	if err != nil {
		return nil, err
	}
	cursorHour := ""
	if !c.At.IsZero() {
		cursorHour = failedHour(c.At)
	}
	for _, month := range months {
		if cursorHour != "" && month > cursorHour[:7] {
			continue
		}
		days, err := s.failed.names(ctx, "days:"+month, "days")
		if err != nil {
			return nil, err
		}
		for _, day := range days {
			if cursorHour != "" && day > cursorHour[:10] {
				continue
			}
			dir, err := s.failed.directory(ctx, day)
			if err != nil {
				return nil, err
			}
			hours := slices.Sorted(maps.Keys(dir))
			slices.Reverse(hours)
			for _, hour := range hours {
				if cursorHour != "" && hour > cursorHour {
					continue
				}
				entries, err := s.failed.hourEntries(ctx, hour, dir[hour])
				if err != nil {
					return nil, err
				}
				if out, err = s.failedOf(ctx, entries, c, out, limit); err != nil || len(out) == limit {
					return out, err
				}
			}
		}
	}
	return out, nil
}

// failedOf appends to out, up to limit, the messages of entries (newest
// first) after c that are still failed at their entry's time.
func (s *MongoStore) failedOf(ctx context.Context, entries []failedEntry, c PageCursor, out []Message, limit int) ([]Message, error) {
	for _, e := range entries {
		if !e.before(c) {
			continue
		}
		m, err := s.Message(ctx, e.id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m.State != StateFailed || m.UpdatedAt.UnixMilli() != e.at || m.PublicID != e.pid {
			continue // noted before a failure that did not happen (yet), or no longer failed there
		}
		if out = append(out, *m); len(out) == limit {
			break
		}
	}
	return out, nil
}

// ReindexFailed adds to the index every failed message it does not name
// (messages failed before the index existed or by older code, or loaded in
// bulk), reading the failed messages once. It returns how many it added.
func (s *MongoStore) ReindexFailed(ctx context.Context) (int, error) {
	missing, _, err := s.unindexedFailed(ctx)
	if err != nil {
		return 0, err
	}
	added := 0
	for hour, entries := range missing {
		for chunk := range slices.Chunk(entries, failedBucketSize) {
			if err := s.failed.add(ctx, hour, chunk); err != nil {
				return added, err
			}
			added += len(chunk)
		}
	}
	return added, nil
}

// unindexedFailed returns the entries of failed messages no bucket names,
// by hour, and how many failed messages it examined.
func (s *MongoStore) unindexedFailed(ctx context.Context) (map[string][]string, int, error) {
	cur, err := s.messages.Find(ctx, bson.D{{Key: "state", Value: StateFailed}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "pid", Value: 1}, {Key: "updated_at", Value: 1}}))
	if err != nil {
		return nil, 0, storeErr("reindex failed messages", err)
	}
	defer cur.Close(ctx)
	byHour, examined := map[string][]string{}, 0
	for cur.Next(ctx) {
		var m struct {
			ID        string    `bson:"_id"`
			PID       string    `bson:"pid"`
			UpdatedAt time.Time `bson:"updated_at"`
		}
		if err := cur.Decode(&m); err != nil {
			return nil, 0, storeErr("reindex failed messages", err)
		}
		examined++
		h := failedHour(m.UpdatedAt)
		byHour[h] = append(byHour[h], failedEntryOf(m.ID, m.PID, m.UpdatedAt))
	}
	if err := cur.Err(); err != nil {
		return nil, 0, storeErr("reindex failed messages", err)
	}
	dirs := map[string]map[string][]int{}
	for hour, entries := range byHour {
		dir, ok := dirs[hour[:10]]
		if !ok {
			if dir, err = s.failed.directory(ctx, hour[:10]); err != nil {
				return nil, 0, err
			}
			dirs[hour[:10]] = dir
		}
		have, err := s.failed.hourEntries(ctx, hour, dir[hour])
		if err != nil {
			return nil, 0, err
		}
		named := map[string]bool{}
		for _, e := range have {
			named[e.raw] = true
		}
		entries = slices.DeleteFunc(entries, func(e string) bool { return named[e] })
		if len(entries) == 0 {
			delete(byHour, hour)
			continue
		}
		slices.Sort(entries)
		byHour[hour] = entries
	}
	return byHour, examined, nil
}

// ensureFailedIndex indexes the failed messages of a store from before the
// index, once (then marked).
func (s *MongoStore) ensureFailedIndex(ctx context.Context) error {
	err := s.failed.coll.FindOne(ctx, bson.D{{Key: "_id", Value: "backfill"}}).Err()
	if err == nil {
		return nil
	}
	if !mongox.IsNoDocuments(err) {
		return storeErr("index failed messages", err)
	}
	if _, err := s.ReindexFailed(ctx); err != nil {
		return err
	}
	if _, err := s.failed.coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "backfill"}}); err != nil && !mongox.IsDuplicateKey(err) {
		return storeErr("index failed messages", err)
	}
	return nil
}

// CheckFailedIndex names the self-check that every failed message is in
// the admins' list.
const CheckFailedIndex = "notify.failed_index"

// failedReindexer is the part of a store the self-check needs (the Mongo store).
type failedReindexer interface {
	unindexedFailed(ctx context.Context) (map[string][]string, int, error)
	ReindexFailed(ctx context.Context) (int, error)
}

// Invariants returns notify's self-checks: every failed message is named
// by the index of the admins' list (a message failed by a replica running
// older code during an update, or written behind the store's back, is not).
func (s *Service) Invariants() []invariants.Check {
	x, ok := s.store.(failedReindexer)
	if !ok {
		return nil
	}
	return []invariants.Check{invariants.Func{CheckName: CheckFailedIndex, Fn: func(ctx context.Context, repair bool) (invariants.Result, error) {
		res := invariants.Result{Check: CheckFailedIndex}
		missing, examined, err := x.unindexedFailed(ctx)
		if err != nil {
			return res, err
		}
		res.Examined = examined
		for hour, entries := range missing {
			for _, raw := range entries {
				e, _ := parseFailedEntry(raw)
				res.Findings = append(res.Findings, invariants.Finding{Check: CheckFailedIndex, Subject: "message:" + e.pid,
					Problem: "发送失败的提醒不在失败提醒列表的索引中（" + hour + " 时）", Action: "需补入索引"})
			}
		}
		if repair && len(res.Findings) > 0 {
			if _, err := x.ReindexFailed(ctx); err != nil {
				return res, err
			}
			for i := range res.Findings {
				res.Findings[i].Repaired, res.Findings[i].Action = true, "已补入索引"
			}
		}
		return res, nil
	}}}
}
