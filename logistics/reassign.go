package logistics

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ReassignUser gives every shipment of from to to, when a merge of persons
// made them one (identity calls it through bff). One update by owner; each
// shipment's version goes up, so a change read before the move and saved
// after it conflicts and is made again on the moved shipment. Running it
// again moves only what is left. Returns how many shipments moved.
func (s *MongoStore) ReassignUser(ctx context.Context, from, to string) (int64, error) {
	res, err := s.shipments.UpdateMany(ctx, bson.D{{Key: "user_id", Value: from}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "user_id", Value: to}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	})
	if err != nil {
		return 0, fmt.Errorf("logistics: reassign shipments: %w", err)
	}
	return res.ModifiedCount, nil
}
