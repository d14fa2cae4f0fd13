package mongox

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/apperr"
)

// ReplaceIfVersion replaces the document id with doc if its stored version
// is still prevVersion: the optimistic-concurrency write every domain store
// uses for state changes. It returns apperr.Conflict when another change won.
func ReplaceIfVersion(ctx context.Context, coll *mongo.Collection, id string, prevVersion int64, doc any) error {
	var matched int64
	err := Guarded(ctx, coll, func() error {
		res, err := coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: prevVersion}}, doc)
		if err != nil {
			return err
		}
		matched = res.MatchedCount
		return nil
	})
	if err != nil {
		return err
	}
	if matched == 0 {
		return apperr.Conflict
	}
	return nil
}
