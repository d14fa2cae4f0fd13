package cases

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

	"zwfw/platform/mongox"
)

// Operator is the 12345 operator making a look-up.
type Operator struct {
	ID   string
	Name string
	IP   string
}

// AuditEntry is one hotline look-up: who, when, why (the call's ticket),
// what was asked (masked) and which cases were shown. The staff console
// also writes the opening of a case (query type "open", the case number)
// and the reveal of one personal datum ("reveal", the field's key, with the
// operator's reason; never the value).
type AuditEntry struct {
	ID           string    `bson:"_id"`
	At           time.Time `bson:"at"`
	OperatorID   string    `bson:"operator_id"`
	OperatorName string    `bson:"operator_name,omitempty"`
	Ticket       string    `bson:"ticket"`
	QueryType    string    `bson:"query_type"` // number | phone | id_number | uscc | open | reveal
	Query        string    `bson:"query"`      // masked
	CaseIDs      []string  `bson:"case_ids"`
	IP           string    `bson:"ip,omitempty"`
	Reason       string    `bson:"reason,omitempty"` // why a field was revealed
}

// AuditFilter selects audit entries for admins.
type AuditFilter struct {
	OperatorID string
	From, To   time.Time
	Before     string // cursor: entries with ids below it
	Limit      int
}

// AuditLog is the append-only log of hotline look-ups.
type AuditLog interface {
	Append(ctx context.Context, e *AuditEntry) error
	List(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// MongoAuditLog implements AuditLog: the entries in audit_log, read by _id
// only through day buckets in audit_index. It only ever inserts entries:
// there is no update or delete path for them in code.
//
// Why buckets: on the embedded store only _id look-ups are indexed, so a
// filter on operator and time scanned and sorted the whole log (1.2 s at
// 10,000 entries). Now a page costs the same at any size of the log:
//
//	y:<key>                 the years that have entries ({years: ["2026"]})
//	d:<key>:<YYYY>          that year's buckets ({buckets: ["2026-12-07:0", ...]})
//	b:<key>:<YYYY-MM-DD>:<k> up to bucketSize entry ids of that UTC day ({ids, n})
//
// where key is "all" or "op:<operator id>". A reader walks years, days and
// buckets newest first and fetches only the page's entries, each by _id.
// A writer registers parents before children (year, bucket, then the id,
// then the entry), so a crash between any two leaves only a name pointing at
// nothing (the reader skips it), never an entry no bucket names.
type MongoAuditLog struct {
	coll  *mongox.Collection // entries
	index *mongox.Collection // years, year directories and day buckets

	mu   sync.Mutex
	seen map[string]int // what this process registered: "y:key:YYYY", "d:key:day:k" -> 1; "k:key:day" -> current bucket

	// Entries never change once stored, so the pages views read again
	// (the newest, most of all) come from memory: the last cacheSize read.
	cached map[string]AuditEntry
	order  []string // ring of cached ids, oldest at next
	next   int
}

// cacheSize bounds the entries kept in memory (a few MB).
const cacheSize = 20_000

// bucketSize bounds a day bucket (about 3.6 KB of ids; the embedded store
// rewrites a whole bucket on every append, 14–23 ms at 500 ids under load):
// a full one rolls to the next number (see add).
var bucketSize = 100

// NewMongoAuditLog uses db's audit_log and audit_index collections.
func NewMongoAuditLog(db *mongo.Database) *MongoAuditLog {
	return &MongoAuditLog{coll: mongox.C(db, "audit_log"), index: mongox.C(db, "audit_index"), seen: map[string]int{},
		cached: map[string]AuditEntry{}}
}

// backfillMark records that the entries written before the buckets existed are in them.
const backfillMark = "m:backfill"

// EnsureIndexes makes the log readable: a log from before the day buckets
// is indexed once (Reindex), then marked. Only _id is ever queried, so the
// log needs no secondary index.
func (l *MongoAuditLog) EnsureIndexes(ctx context.Context) error {
	err := l.index.FindOne(ctx, bson.D{{Key: "_id", Value: backfillMark}}).Err()
	if err == nil {
		return nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return err
	}
	if _, err := l.Reindex(ctx); err != nil {
		return err
	}
	if _, err := l.index.InsertOne(ctx, bson.D{{Key: "_id", Value: backfillMark}}); err != nil && !mongox.IsDuplicateKey(err) {
		return err
	}
	return nil
}

// Append implements AuditLog; the id is time-ordered for cursor paging. The
// id goes into its buckets before the entry is stored.
func (l *MongoAuditLog) Append(ctx context.Context, e *AuditEntry) error {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	e.ID = fmt.Sprintf("a_%012x%s", e.At.UnixMilli(), hex.EncodeToString(b))
	if e.CaseIDs == nil {
		e.CaseIDs = []string{}
	}
	day := e.At.UTC().Format(time.DateOnly)
	for _, key := range auditKeys(e.OperatorID) {
		if err := l.add(ctx, key, day, []string{e.ID}); err != nil {
			return err
		}
	}
	_, err := l.coll.InsertOne(ctx, e)
	return err
}

func auditKeys(operatorID string) []string {
	if operatorID == "" {
		return []string{"all"}
	}
	return []string{"all", "op:" + operatorID}
}

// add puts ids (at most bucketSize) into key's current bucket of day; a
// bucket that reaches bucketSize sends the next ids to the next bucket. The
// write filters on _id alone, the only filter FerretDB serves by an index
// (a filter on the bucket's count too made it read every bucket). So a
// writer of another replica still sending to a bucket that just filled adds
// its ids there once more before it rolls: a bucket holds a few ids more
// than bucketSize at most (twice as many after a Reindex's chunk).
func (l *MongoAuditLog) add(ctx context.Context, key, day string, ids []string) error {
	year := day[:4]
	k, err := l.currentBucket(ctx, key, day)
	if err != nil {
		return err
	}
	if err := l.register(ctx, "y:"+key+":"+year, "y:"+key, "years", year); err != nil {
		return err
	}
	name := day + ":" + strconv.Itoa(k)
	if err := l.register(ctx, "d:"+key+":"+name, "d:"+key+":"+year, "buckets", name); err != nil {
		return err
	}
	var b struct {
		N int `bson:"n"`
	}
	err = l.index.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "b:" + key + ":" + name}},
		bson.D{{Key: "$push", Value: bson.D{{Key: "ids", Value: bson.D{{Key: "$each", Value: ids}}}}},
			{Key: "$inc", Value: bson.D{{Key: "n", Value: len(ids)}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&b) // FerretDB: no projection here
	if err != nil {
		return err
	}
	if b.N >= bucketSize {
		k++
	}
	l.remember("k:"+key+":"+day, k)
	return nil
}

// register adds value to the field array of the parent document once per
// process (mark), before anything is written below it.
func (l *MongoAuditLog) register(ctx context.Context, mark, parent, field, value string) error {
	l.mu.Lock()
	_, done := l.seen[mark]
	l.mu.Unlock()
	if done {
		return nil
	}
	if _, err := l.index.UpdateOne(ctx, bson.D{{Key: "_id", Value: parent}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: field, Value: value}}}}, options.UpdateOne().SetUpsert(true)); err != nil {
		if !mongox.IsDuplicateKey(err) { // a concurrent upsert created it: the next write adds
			return err
		}
		return l.register(ctx, mark, parent, field, value)
	}
	l.remember(mark, 1)
	return nil
}

func (l *MongoAuditLog) remember(mark string, v int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) > 20_000 { // old days' marks: start over rather than grow
		clear(l.seen)
	}
	l.seen[mark] = v
}

// currentBucket is the bucket number appends of key on day go to: this
// process's last, or the highest the year's directory names.
func (l *MongoAuditLog) currentBucket(ctx context.Context, key, day string) (int, error) {
	l.mu.Lock()
	k, ok := l.seen["k:"+key+":"+day]
	l.mu.Unlock()
	if ok {
		return k, nil
	}
	dir, err := l.directory(ctx, key, day[:4])
	if err != nil {
		return 0, err
	}
	return slices.Max(append(dir[day], 0)), nil
}

// directory reads key's buckets of year by day.
func (l *MongoAuditLog) directory(ctx context.Context, key, year string) (map[string][]int, error) {
	var d struct {
		Buckets []string `bson:"buckets"`
	}
	if err := l.index.FindOne(ctx, bson.D{{Key: "_id", Value: "d:" + key + ":" + year}}).Decode(&d); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, err
	}
	out := map[string][]int{}
	for _, b := range d.Buckets {
		day, n, ok := strings.Cut(b, ":")
		k, err := strconv.Atoi(n)
		if !ok || err != nil {
			continue
		}
		out[day] = append(out[day], k)
	}
	return out, nil
}

// List implements AuditLog, newest first: years, then days, then the
// entries of a day's buckets below the cursor, each fetched by _id.
func (l *MongoAuditLog) List(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	key := auditKeys(f.OperatorID)[len(auditKeys(f.OperatorID))-1]
	// The id starts with its time, so the time range is a range of ids.
	lo, hi := "", f.Before
	if !f.From.IsZero() {
		lo = auditIDAt(f.From)
	}
	if !f.To.IsZero() && (hi == "" || auditIDAt(f.To) < hi) {
		hi = auditIDAt(f.To)
	}
	loDay, hiDay := auditDay(lo), auditDay(hi)
	var y struct {
		Years []string `bson:"years"`
	}
	if err := l.index.FindOne(ctx, bson.D{{Key: "_id", Value: "y:" + key}}).Decode(&y); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, err
	}
	slices.Sort(y.Years)
	slices.Reverse(y.Years)
	out := []AuditEntry{}
	for _, year := range y.Years {
		if (hiDay != "" && year > hiDay[:4]) || (loDay != "" && year < loDay[:4]) {
			continue
		}
		dir, err := l.directory(ctx, key, year)
		if err != nil {
			return nil, err
		}
		days := slices.Collect(maps.Keys(dir))
		slices.Sort(days)
		slices.Reverse(days)
		for _, day := range days {
			if (hiDay != "" && day > hiDay) || (loDay != "" && day < loDay) {
				continue
			}
			ids, err := l.dayIDs(ctx, key, day, dir[day], lo, hi)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				e, ok, err := l.entry(ctx, id)
				if err != nil {
					return nil, err
				}
				if !ok {
					continue // named before it was stored: being written, or its writer crashed
				}
				out = append(out, e)
				if len(out) == f.Limit {
					return out, nil
				}
			}
		}
	}
	return out, nil
}

// entry reads one entry by _id, from memory when it was read before.
func (l *MongoAuditLog) entry(ctx context.Context, id string) (AuditEntry, bool, error) {
	l.mu.Lock()
	e, ok := l.cached[id]
	l.mu.Unlock()
	if ok {
		return e, true, nil
	}
	err := l.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&e)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return e, false, nil // not cached: it may be stored yet
	}
	if err != nil {
		return e, false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, dup := l.cached[id]; !dup {
		if len(l.order) < cacheSize {
			l.order = append(l.order, id)
		} else {
			delete(l.cached, l.order[l.next])
			l.order[l.next] = id
			l.next = (l.next + 1) % cacheSize
		}
		l.cached[id] = e
	}
	return e, true, nil
}

// dayIDs reads a day's buckets and returns their ids in [lo, hi) ("" is
// open), newest first, each once.
func (l *MongoAuditLog) dayIDs(ctx context.Context, key, day string, buckets []int, lo, hi string) ([]string, error) {
	var ids []string
	for _, k := range buckets {
		var b struct {
			IDs []string `bson:"ids"`
		}
		err := l.index.FindOne(ctx, bson.D{{Key: "_id", Value: "b:" + key + ":" + day + ":" + strconv.Itoa(k)}}).Decode(&b)
		if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, err
		}
		for _, id := range b.IDs {
			if (lo == "" || id >= lo) && (hi == "" || id < hi) {
				ids = append(ids, id)
			}
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	slices.Reverse(ids)
	return ids, nil
}

// auditIDAt is the smallest entry id at t.
func auditIDAt(t time.Time) string { return fmt.Sprintf("a_%012x", t.UnixMilli()) }

// auditDay is the UTC day of an entry id (or of a bound made by auditIDAt); "" for "".
func auditDay(id string) string {
	if len(id) < 14 {
		return ""
	}
	ms, err := strconv.ParseInt(id[2:14], 16, 64)
	if err != nil {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(time.DateOnly)
}

// Reindex puts into the day buckets every entry none of its buckets names
// (a log written before the buckets existed, or entries loaded in bulk),
// reading the log once in _id order. It returns how many ids it added.
func (l *MongoAuditLog) Reindex(ctx context.Context) (int, error) {
	cur, err := l.coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).
		SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "operator_id", Value: 1}}))
	if err != nil {
		return 0, err
	}
	defer cur.Close(ctx)
	added, day := 0, ""
	pending := map[string][]string{} // key -> ids of day
	flush := func() error {
		for key, ids := range pending {
			dir, err := l.directory(ctx, key, day[:4])
			if err != nil {
				return err
			}
			have, err := l.dayIDs(ctx, key, day, dir[day], "", "")
			if err != nil {
				return err
			}
			ids = slices.DeleteFunc(ids, func(id string) bool { _, found := slices.BinarySearchFunc(have, id, descending); return found })
			for chunk := range slices.Chunk(ids, bucketSize) {
				if err := l.add(ctx, key, day, chunk); err != nil {
					return err
				}
				added += len(chunk)
			}
		}
		clear(pending)
		return nil
	}
	for cur.Next(ctx) {
		var e struct {
			ID         string `bson:"_id"`
			OperatorID string `bson:"operator_id"`
		}
		if err := cur.Decode(&e); err != nil {
			return added, err
		}
		d := auditDay(e.ID)
		if d == "" {
			continue
		}
		if d != day && day != "" {
			if err := flush(); err != nil {
				return added, err
			}
		}
		day = d
		for _, key := range auditKeys(e.OperatorID) {
			pending[key] = append(pending[key], e.ID)
		}
	}
	if err := cur.Err(); err != nil {
		return added, err
	}
	if day != "" {
		return added, flush()
	}
	return added, nil
}

func descending(a, b string) int { return strings.Compare(b, a) }
