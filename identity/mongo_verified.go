package identity

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// VerifiedUserIDs lists the ids of real-name-verified persons (not merged
// into another), in id order after the id after ("" = from the first), at
// most limit: the licence sync walks them in bounded pages.
func (s *MongoStore) VerifiedUserIDs(ctx context.Context, after string, limit int) ([]string, error) {
	filter := bson.D{
		{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}},
		{Key: "real_name_verified", Value: true},
		{Key: "merged_into", Value: bson.D{{Key: "$exists", Value: false}}},
	}
	cur, err := s.users.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)).
		SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	return ids, nil
}
