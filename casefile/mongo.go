package casefile

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// IndexCollection holds the cases' indexes: "case:<case id>" and
// "no:<case number>" documents, and "meta:since" (Since).
const IndexCollection = "casefile_index"

const sinceKey = "meta:since"

// MongoIndexStore implements IndexStore on MongoDB.
type MongoIndexStore struct{ c *mongox.Collection }

// NewMongoIndexStore returns the index store of db.
func NewMongoIndexStore(db *mongo.Database) *MongoIndexStore {
	return &MongoIndexStore{c: mongox.C(db, IndexCollection)}
}

func byID(key string) bson.D { return bson.D{{Key: "_id", Value: key}} }

// Index implements IndexStore.
func (s *MongoIndexStore) Index(ctx context.Context, key string) (*Index, error) {
	var idx Index
	err := s.c.FindOne(ctx, byID(key)).Decode(&idx)
	if mongox.IsNoDocuments(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &idx, nil
}

// Add implements IndexStore with one upsert.
func (s *MongoIndexStore) Add(ctx context.Context, key string, part Part, ids ...string) error {
	if key == "" || len(ids) == 0 {
		return nil
	}
	_, err := s.c.UpdateOne(ctx, byID(key),
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: string(part), Value: bson.D{{Key: "$each", Value: ids}}}}}},
		options.UpdateOne().SetUpsert(true))
	if mongox.IsDuplicateKey(err) { // two first upserts raced: the other created it, add again
		return s.Add(ctx, key, part, ids...)
	}
	return err
}

// Rebuilt implements IndexStore with one upsert.
func (s *MongoIndexStore) Rebuilt(ctx context.Context, idx *Index) error {
	add := bson.D{}
	for part, ids := range map[Part][]string{PartBookings: idx.Bookings, PartShipments: idx.Shipments, PartPayments: idx.Payments} {
		if len(ids) > 0 {
			add = append(add, bson.E{Key: string(part), Value: bson.D{{Key: "$each", Value: ids}}})
		}
	}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "built_at", Value: idx.BuiltAt.UTC()}}}}
	if len(add) > 0 {
		update = append(update, bson.E{Key: "$addToSet", Value: add})
	}
	_, err := s.c.UpdateOne(ctx, byID(idx.Key), update, options.UpdateOne().SetUpsert(true))
	if mongox.IsDuplicateKey(err) {
		return s.Rebuilt(ctx, idx)
	}
	return err
}

// Since implements IndexStore: an insert of the mark that only the first
// caller wins, then a read of it.
func (s *MongoIndexStore) Since(ctx context.Context, now time.Time) (time.Time, error) {
	_, err := s.c.InsertOne(ctx, bson.D{{Key: "_id", Value: sinceKey}, {Key: "at", Value: now.UTC()}})
	if err != nil && !mongox.IsDuplicateKey(err) {
		return time.Time{}, err
	}
	var mark struct {
		At time.Time `bson:"at"`
	}
	if err := s.c.FindOne(ctx, byID(sinceKey)).Decode(&mark); err != nil {
		return time.Time{}, err
	}
	return mark.At, nil
}
