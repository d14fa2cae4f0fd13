package cases

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ReassignOwner gives every case of from to to, when a merge of persons
// made them one (identity calls it through bff). One update by owner; each
// case's version goes up, so a change read before the move and saved after
// it conflicts and is made again on the moved case instead of writing the
// old owner back. Running it again moves only what is left. Returns how
// many cases moved.
func (s *MongoStore) ReassignOwner(ctx context.Context, from, to string) (int64, error) {
	res, err := s.cases.UpdateMany(ctx, bson.D{{Key: "owner_id", Value: from}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "owner_id", Value: to}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	})
	if err != nil {
		return 0, err
	}
	return res.ModifiedCount, nil
}
