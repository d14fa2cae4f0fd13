package rectify

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// Collections of the package (the rectifications carry an outbox: the
// relay must sweep Collection).
const (
	Collection      = "rectifications"
	TallyCollection = "evaluation_tally"
)

// tallyID is the one counts document.
const tallyID = "all"

// MongoStore implements Store and Tallies; every write goes through mongox.
type MongoStore struct {
	rects, tally *mongox.Collection
}

// NewMongoStore uses db's rectifications and evaluation_tally collections.
func NewMongoStore(db *mongo.Database) *MongoStore {
	return &MongoStore{rects: mongox.C(db, Collection), tally: mongox.C(db, TallyCollection)}
}

// EnsureIndexes creates the list's index (open first, by due date).
func (s *MongoStore) EnsureIndexes(ctx context.Context) error {
	return s.rects.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "rank", Value: 1}, {Key: "due_on", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "state", Value: 1}, {Key: "due_on", Value: 1}}},
	)
}

// Insert implements Store.
func (s *MongoStore) Insert(ctx context.Context, r *Rectification) (bool, error) {
	_, err := s.rects.InsertOne(ctx, r)
	if mongox.IsDuplicateKey(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("rectify: insert %s: %w", r.ID, err)
	}
	return true, nil
}

// Get implements Store.
func (s *MongoStore) Get(ctx context.Context, id string) (*Rectification, error) {
	var r Rectification
	err := s.rects.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&r)
	if mongox.IsNoDocuments(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("rectify: get %s: %w", id, err)
	}
	return &r, nil
}

// Save implements Store.
func (s *MongoStore) Save(ctx context.Context, r *Rectification, prevVersion int64) error {
	return s.rects.ReplaceIfVersion(ctx, r.ID, prevVersion, r)
}

// listFields are what the list shows of a rectification.
var listFields = bson.D{{Key: "case_id", Value: 1}, {Key: "case_number", Value: 1}, {Key: "item_code", Value: 1},
	{Key: "item_name", Value: 1}, {Key: "dept", Value: 1}, {Key: "evaluation.level", Value: 1}, {Key: "state", Value: 1},
	{Key: "rank", Value: 1}, {Key: "owner.name", Value: 1}, {Key: "opened_at", Value: 1}, {Key: "due_on", Value: 1},
	{Key: "closed_at", Value: 1}, {Key: "version", Value: 1}}

// List implements Store. It sorts in Go: the embedded store sorts a few
// thousand documents several times slower than it reads them (measured
// 1.1 s against 0.3 s for 1,500), and the list is cached in front
// (ListCache), so the read is rare.
func (s *MongoStore) List(ctx context.Context, f Filter) ([]*Rectification, error) {
	filter := bson.D{}
	if f.State != "" {
		filter = append(filter, bson.E{Key: "state", Value: string(f.State)})
	}
	if !f.DueBefore.IsZero() {
		filter = append(filter, bson.E{Key: "rank", Value: 0}, bson.E{Key: "due_on", Value: bson.D{{Key: "$lt", Value: f.DueBefore}}})
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	cur, err := s.rects.Find(ctx, filter, options.Find().SetProjection(listFields))
	if err != nil {
		return nil, fmt.Errorf("rectify: list: %w", err)
	}
	var out []*Rectification
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("rectify: list: %w", err)
	}
	slices.SortFunc(out, func(a, b *Rectification) int {
		return cmp.Or(cmp.Compare(a.Rank, b.Rank), a.DueOn.Compare(b.DueOn), strings.Compare(a.ID, b.ID))
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// KeyOf is a department name or item code as a key of the counts document
// (field names take neither dots nor a leading $).
func KeyOf(s string) string {
	if s == "" {
		return "-"
	}
	return strings.NewReplacer(".", "·", "$", "＄").Replace(s)
}

// Count implements Tallies: one upsert guarded by the event-log position,
// so a replayed event (its seq at or below the stored one) changes nothing.
func (s *MongoStore) Count(ctx context.Context, seq int64, level int, dept, item, itemName string) error {
	l := strconv.Itoa(level)
	dk, ik := KeyOf(dept), KeyOf(item)
	_, err := s.tally.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: tallyID}, {Key: "seq", Value: bson.D{{Key: "$lt", Value: seq}}}},
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "seq", Value: seq}, {Key: "dept_names." + dk, Value: dept}, {Key: "item_names." + ik, Value: itemName}}},
			{Key: "$inc", Value: bson.D{{Key: "levels." + l, Value: int64(1)}, {Key: "depts." + dk + "." + l, Value: int64(1)},
				{Key: "items." + ik + "." + l, Value: int64(1)}}},
		},
		options.UpdateOne().SetUpsert(true))
	if mongox.IsDuplicateKey(err) {
		return nil // the document is at seq or beyond: counted before
	}
	if err != nil {
		return fmt.Errorf("rectify: count evaluation at %d: %w", seq, err)
	}
	return nil
}

// Tally implements Tallies.
func (s *MongoStore) Tally(ctx context.Context) (*Tally, error) {
	var t Tally
	err := s.tally.FindOne(ctx, bson.D{{Key: "_id", Value: tallyID}}).Decode(&t)
	if err != nil && !mongox.IsNoDocuments(err) {
		return nil, fmt.Errorf("rectify: tally: %w", err)
	}
	return &t, nil
}
