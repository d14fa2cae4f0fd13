package workdays

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// CollectionName is the MongoDB collection of overrides.
const CollectionName = "calendar_overrides"

// MongoStore implements OverrideStore on MongoDB. Documents are keyed by the
// date as "YYYY-MM-DD", which sorts like the dates themselves, so date ranges
// are plain _id ranges and no secondary index is needed.
type MongoStore struct {
	coll *mongox.Collection
}

// NewMongoStore uses db's calendar_overrides collection.
func NewMongoStore(db *mongo.Database) *MongoStore {
	return &MongoStore{coll: mongox.C(db, CollectionName)}
}

// overrideDoc is the stored form of an Override.
type overrideDoc struct {
	ID        string    `bson:"_id"` // YYYY-MM-DD
	Kind      string    `bson:"kind"`
	Name      string    `bson:"name"`
	Official  bool      `bson:"official,omitempty"`
	UpdatedBy string    `bson:"updated_by"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// Put implements OverrideStore. Last writer wins: an override is a whole
// decision about one date, not something merged.
func (s *MongoStore) Put(ctx context.Context, o Override) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o = normalize(o, time.Now())
	doc := overrideDoc{
		ID: o.Date.String(), Kind: string(o.Kind), Name: o.Name, Official: o.Official,
		UpdatedBy: o.UpdatedBy, UpdatedAt: o.UpdatedAt,
	}
	_, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: doc.ID}}, doc, options.Replace().SetUpsert(true))
	return err
}

// Delete implements OverrideStore.
func (s *MongoStore) Delete(ctx context.Context, d Date) error {
	res, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: d.String()}})
	if err != nil {
		return err
	}
	if res.DeletedCount == 0 {
		return ErrOverrideNotFound
	}
	return nil
}

// List implements OverrideStore.
func (s *MongoStore) List(ctx context.Context, from, to Date) ([]Override, error) {
	rng := bson.D{}
	if !from.IsZero() {
		rng = append(rng, bson.E{Key: "$gte", Value: from.String()})
	}
	if !to.IsZero() {
		rng = append(rng, bson.E{Key: "$lte", Value: to.String()})
	}
	filter := bson.D{}
	if len(rng) > 0 {
		filter = bson.D{{Key: "_id", Value: rng}}
	}
	cur, err := s.coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []overrideDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]Override, 0, len(docs))
	for _, doc := range docs {
		// A bad document fails the load rather than silently changing
		// deadlines; Put never writes one.
		d, err := ParseDate(doc.ID)
		if err != nil {
			return nil, fmt.Errorf("%s: bad _id %q: %w", CollectionName, doc.ID, err)
		}
		o := Override{
			Date: d, Kind: Kind(doc.Kind), Name: doc.Name, Official: doc.Official,
			UpdatedBy: doc.UpdatedBy, UpdatedAt: doc.UpdatedAt.UTC(),
		}
		if err := o.Validate(); err != nil {
			return nil, fmt.Errorf("%s: bad document %q: %w", CollectionName, doc.ID, err)
		}
		out = append(out, o)
	}
	return out, nil
}
