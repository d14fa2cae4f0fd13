package home

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/apperr"
	"zwfw/platform/mongox"
)

// IndexCollection holds one Index per person, _id the user id.
const IndexCollection = "home_index"

// MongoIndexStore implements IndexStore on MongoDB.
type MongoIndexStore struct{ c *mongox.Collection }

// NewMongoIndexStore returns the index store of db.
func NewMongoIndexStore(db *mongo.Database) *MongoIndexStore {
	return &MongoIndexStore{c: mongox.C(db, IndexCollection)}
}

// Index implements IndexStore.
func (s *MongoIndexStore) Index(ctx context.Context, userID string) (*Index, error) {
	var idx Index
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: userID}}).Decode(&idx)
	if mongox.IsNoDocuments(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &idx, nil
}

// Add implements IndexStore with one upsert.
func (s *MongoIndexStore) Add(ctx context.Context, userID string, part Part, ids ...string) error {
	if userID == "" || len(ids) == 0 {
		return nil
	}
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: userID}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: string(part), Value: bson.D{{Key: "$each", Value: ids}}}}}},
		options.UpdateOne().SetUpsert(true))
	if mongox.IsDuplicateKey(err) { // two first upserts raced: the other created it, add again
		return s.Add(ctx, userID, part, ids...)
	}
	return err
}

// Remove implements IndexStore.
func (s *MongoIndexStore) Remove(ctx context.Context, userID string, part Part, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: userID}},
		bson.D{{Key: "$pullAll", Value: bson.D{{Key: string(part), Value: ids}}}})
	return err
}

// Rebuilt implements IndexStore with one upsert.
func (s *MongoIndexStore) Rebuilt(ctx context.Context, idx *Index) error {
	each := func(ids []string) bson.D {
		if ids == nil {
			ids = []string{}
		}
		return bson.D{{Key: "$each", Value: ids}}
	}
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: idx.UserID}}, bson.D{
		{Key: "$addToSet", Value: bson.D{{Key: string(PartCases), Value: each(idx.Cases)}, {Key: string(PartBookings), Value: each(idx.Bookings)},
			{Key: string(PartPayments), Value: each(idx.Payments)}, {Key: string(PartShipments), Value: each(idx.Shipments)}}},
		{Key: "$set", Value: bson.D{{Key: "built_at", Value: idx.BuiltAt.UTC()}}},
	}, options.UpdateOne().SetUpsert(true))
	if mongox.IsDuplicateKey(err) {
		return s.Rebuilt(ctx, idx)
	}
	return err
}

// Forget implements IndexStore.
func (s *MongoIndexStore) Forget(ctx context.Context, userID string) error {
	_, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: userID}})
	return err
}

// ReassignUser forgets the indexes of both persons of a merge (a step of
// identity's merge, after the domains moved their records): each is
// rebuilt from the domains at its next screen. Repeating it is harmless.
func (s *MongoIndexStore) ReassignUser(ctx context.Context, from, to string) (int64, error) {
	var n int64
	for _, u := range []string{from, to} { // by _id each: FerretDB reads every document for an $in
		res, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: u}})
		if err != nil {
			return n, err
		}
		n += res.DeletedCount
	}
	return n, nil
}

// ignoreNotFound turns a domain's not-found into nothing to do.
func ignoreNotFound(err error) error {
	if err != nil && apperr.KindOf(err) == apperr.KindNotFound {
		return nil
	}
	return err
}
