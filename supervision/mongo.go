package supervision

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
	"zwfw/platform/workdays"
)

// The collections of supervision.
const (
	// IndexCollection holds one Entry per case in progress, _id the case id.
	IndexCollection = "supervision_cases"
	// DaysCollection holds one Day per day, _id the date.
	DaysCollection = "supervision_days"
	// MetaCollection holds the index's change count ({_id: "index", changes}).
	MetaCollection = "supervision_meta"
)

// MongoStore implements Store on MongoDB; every write is one by _id.
type MongoStore struct {
	index, days, meta *mongox.Collection
}

// NewMongoStore returns the store of db.
func NewMongoStore(db *mongo.Database) *MongoStore {
	return &MongoStore{index: mongox.C(db, IndexCollection), days: mongox.C(db, DaysCollection), meta: mongox.C(db, MetaCollection)}
}

// Put implements Store.
func (s *MongoStore) Put(ctx context.Context, e Entry) error {
	_, err := s.index.ReplaceOne(ctx, bson.D{{Key: "_id", Value: e.CaseID}}, e, options.Replace().SetUpsert(true))
	if mongox.IsDuplicateKey(err) { // two first upserts raced: the other inserted, replace it
		_, err = s.index.ReplaceOne(ctx, bson.D{{Key: "_id", Value: e.CaseID}}, e)
	}
	return err
}

// Remove implements Store.
func (s *MongoStore) Remove(ctx context.Context, caseID string) error {
	_, err := s.index.DeleteOne(ctx, bson.D{{Key: "_id", Value: caseID}})
	return err
}

// All implements Store: a read of the open cases' small entries, done in
// the background (never per request).
func (s *MongoStore) All(ctx context.Context) ([]Entry, error) {
	cur, err := s.index.Find(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var out []Entry
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// PutDay implements Store.
func (s *MongoStore) PutDay(ctx context.Context, d Day) error {
	_, err := s.days.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.Day}}, d, options.Replace().SetUpsert(true))
	if mongox.IsDuplicateKey(err) {
		_, err = s.days.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.Day}}, d)
	}
	return err
}

// Days implements Store (dates as _id sort as days).
func (s *MongoStore) Days(ctx context.Context, from, to workdays.Date) ([]Day, error) {
	cur, err := s.days.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: from.String()}, {Key: "$lte", Value: to.String()}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var out []Day
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Bump implements Store with one find-and-modify by _id.
func (s *MongoStore) Bump(ctx context.Context) (int64, error) {
	var doc struct {
		Changes int64 `bson:"changes"`
	}
	err := s.meta.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "index"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "changes", Value: int64(1)}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&doc)
	if mongox.IsDuplicateKey(err) { // two first upserts raced: the other created it
		return s.Bump(ctx)
	}
	return doc.Changes, err
}

// Changes implements Store.
func (s *MongoStore) Changes(ctx context.Context) (int64, error) {
	var doc struct {
		Changes int64 `bson:"changes"`
	}
	err := s.meta.FindOne(ctx, bson.D{{Key: "_id", Value: "index"}}).Decode(&doc)
	if mongox.IsNoDocuments(err) {
		return 0, nil
	}
	return doc.Changes, err
}
