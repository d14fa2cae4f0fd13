package cases

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// MongoStore implements Store on MongoDB (collections cases and case_keys).
type MongoStore struct {
	cases *mongox.Collection
	keys  *mongox.Collection
}

// NewMongoStore uses db's case collections.
func NewMongoStore(db *mongo.Database) *MongoStore {
	return &MongoStore{cases: mongox.C(db, "cases"), keys: mongox.C(db, "case_keys")}
}

// EnsureIndexes creates the secondary indexes.
func (s *MongoStore) EnsureIndexes(ctx context.Context) error {
	return s.cases.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "owner_id", Value: 1}, {Key: "_id", Value: -1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "synced_at", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "status", Value: 1}, {Key: "updated_at", Value: 1}}},
	)
}

// Create implements Store.
func (s *MongoStore) Create(ctx context.Context, c *Case) error {
	_, err := s.cases.InsertOne(ctx, c)
	return err
}

// Get implements Store.
func (s *MongoStore) Get(ctx context.Context, id string) (*Case, error) {
	var c Case
	if err := s.cases.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&c); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return &c, nil
}

// Save implements Store.
func (s *MongoStore) Save(ctx context.Context, next *Case, prevVersion int64) error {
	return s.cases.ReplaceIfVersion(ctx, next.ID, prevVersion, next)
}

// ListByOwner implements Store.
func (s *MongoStore) ListByOwner(ctx context.Context, ownerID string, status Status, before string, limit int) ([]*Case, error) {
	filter := bson.D{{Key: "owner_id", Value: ownerID}}
	if status != "" {
		filter = append(filter, bson.E{Key: "status", Value: string(status)})
	}
	if before != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	cur, err := s.cases.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	var out []*Case
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

type caseKey struct {
	ID          string     `bson:"_id"`
	CaseID      string     `bson:"case_id,omitempty"`
	CaseIDs     []string   `bson:"case_ids,omitempty"`
	Failures    int        `bson:"failures,omitempty"`
	LockedUntil *time.Time `bson:"locked_until,omitempty"`
}

// BindNumber implements Store; binding the same number again is harmless.
func (s *MongoStore) BindNumber(ctx context.Context, number, caseID string) error {
	_, err := s.keys.UpdateOne(ctx, bson.D{{Key: "_id", Value: "no:" + number}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "case_id", Value: caseID}}}}, options.UpdateOne().SetUpsert(true))
	if mongox.IsDuplicateKey(err) {
		return nil
	}
	return err
}

// ByNumber implements Store with two look-ups by _id.
func (s *MongoStore) ByNumber(ctx context.Context, number string) (*Case, error) {
	var k caseKey
	if err := s.keys.FindOne(ctx, bson.D{{Key: "_id", Value: "no:" + number}}).Decode(&k); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	return s.Get(ctx, k.CaseID)
}

// Unsynced implements Store.
func (s *MongoStore) Unsynced(ctx context.Context, before time.Time, limit int) ([]*Case, error) {
	open := []string{string(StatusSubmitted), string(StatusAccepted), string(StatusSupplementRequested), string(StatusResubmitted)}
	filter := bson.D{
		{Key: "status", Value: bson.D{{Key: "$in", Value: open}}},
		{Key: "synced_at", Value: bson.D{{Key: "$lt", Value: before}}},
	}
	return s.find(ctx, filter, options.Find().SetSort(bson.D{{Key: "synced_at", Value: 1}}).SetLimit(int64(limit)))
}

// FinishedSince implements Store.
func (s *MongoStore) FinishedSince(ctx context.Context, since time.Time, limit int) ([]*Case, error) {
	final := []string{string(StatusRejectedAtIntake), string(StatusCompletedApproved), string(StatusCompletedDenied), string(StatusWithdrawn)}
	filter := bson.D{
		{Key: "status", Value: bson.D{{Key: "$in", Value: final}}},
		{Key: "updated_at", Value: bson.D{{Key: "$gte", Value: since}}},
	}
	return s.find(ctx, filter, options.Find().SetSort(bson.D{{Key: "updated_at", Value: 1}}).SetLimit(int64(limit)))
}

func (s *MongoStore) find(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]*Case, error) {
	cur, err := s.cases.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	var out []*Case
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// IndexCase implements Store.
func (s *MongoStore) IndexCase(ctx context.Context, caseID string, keys []string) error {
	for _, k := range keys {
		_, err := s.keys.UpdateOne(ctx, bson.D{{Key: "_id", Value: "ix:" + k}},
			bson.D{{Key: "$addToSet", Value: bson.D{{Key: "case_ids", Value: caseID}}}}, options.UpdateOne().SetUpsert(true))
		if err != nil && !mongox.IsDuplicateKey(err) {
			return err
		}
	}
	return nil
}

// UnindexCase implements Store.
func (s *MongoStore) UnindexCase(ctx context.Context, caseID string, keys []string) error {
	for _, k := range keys {
		_, err := s.keys.UpdateOne(ctx, bson.D{{Key: "_id", Value: "ix:" + k}},
			bson.D{{Key: "$pull", Value: bson.D{{Key: "case_ids", Value: caseID}}}})
		if err != nil {
			return err
		}
	}
	return nil
}

// ByKey implements Store.
func (s *MongoStore) ByKey(ctx context.Context, key string, limit int) ([]*Case, error) {
	var k caseKey
	if err := s.keys.FindOne(ctx, bson.D{{Key: "_id", Value: "ix:" + key}}).Decode(&k); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, nil
		}
		return nil, err
	}
	ids := k.CaseIDs
	// Ids are time-ordered: the newest are at the end.
	if len(ids) > limit {
		ids = ids[len(ids)-limit:]
	}
	out := make([]*Case, 0, len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		c, err := s.Get(ctx, ids[i])
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				continue
			}
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// PasswordFailure implements Store.
func (s *MongoStore) PasswordFailure(ctx context.Context, number string, max int, lockFor time.Duration, at time.Time) (time.Time, error) {
	var k caseKey
	err := s.keys.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "no:" + number}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "failures", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&k)
	if err != nil {
		if mongox.IsNoDocuments(err) {
			return time.Time{}, nil
		}
		return time.Time{}, err
	}
	if k.Failures < max {
		return time.Time{}, nil
	}
	until := at.Add(lockFor)
	_, err = s.keys.UpdateOne(ctx, bson.D{{Key: "_id", Value: "no:" + number}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "locked_until", Value: until}, {Key: "failures", Value: 0}}}})
	return until, err
}

// PasswordLock implements Store.
func (s *MongoStore) PasswordLock(ctx context.Context, number string) (time.Time, error) {
	var k caseKey
	if err := s.keys.FindOne(ctx, bson.D{{Key: "_id", Value: "no:" + number}}).Decode(&k); err != nil {
		if mongox.IsNoDocuments(err) {
			return time.Time{}, nil
		}
		return time.Time{}, err
	}
	if k.LockedUntil == nil {
		return time.Time{}, nil
	}
	return *k.LockedUntil, nil
}

// PasswordSuccess implements Store.
func (s *MongoStore) PasswordSuccess(ctx context.Context, number string) error {
	_, err := s.keys.UpdateOne(ctx, bson.D{{Key: "_id", Value: "no:" + number}, {Key: "failures", Value: bson.D{{Key: "$gt", Value: 0}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "failures", Value: 0}}}})
	return err
}
