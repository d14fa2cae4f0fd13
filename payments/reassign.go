package payments

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ReassignUser gives from's payments to to, when a merge of persons made
// them one (identity calls it through bff): to joins the users who may see
// and pay each notice from could (user_ids), then from leaves them, and
// the channel orders from opened become to's. Two updates on the notices
// because one update cannot both add to and take from one array; each is a
// filter on from, so a run stopped in between, run again, adds nothing
// twice and finishes the removal. No version goes up: every payment write
// sets its own fields, none rewrites user_ids. Returns how many notices
// and orders moved.
func (s *MongoStore) ReassignUser(ctx context.Context, from, to string) (int64, error) {
	if _, err := s.payments.UpdateMany(ctx, bson.D{{Key: "user_ids", Value: from}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "user_ids", Value: to}}}}); err != nil {
		return 0, fmt.Errorf("payments: reassign notices: %w", err)
	}
	notices, err := s.payments.UpdateMany(ctx, bson.D{{Key: "user_ids", Value: from}},
		bson.D{{Key: "$pull", Value: bson.D{{Key: "user_ids", Value: from}}}})
	if err != nil {
		return 0, fmt.Errorf("payments: reassign notices: %w", err)
	}
	orders, err := s.orders.UpdateMany(ctx, bson.D{{Key: "user_id", Value: from}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "user_id", Value: to}}}})
	if err != nil {
		return notices.ModifiedCount, fmt.Errorf("payments: reassign orders: %w", err)
	}
	return notices.ModifiedCount + orders.ModifiedCount, nil
}
