package mongox

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// EnsureIndexes creates the indexes one by one. FerretDB v1.24 crashes the
// connection ("slice bounds out of range") when one createIndexes command
// names several indexes that already exist, so a restart would fail; one
// index per command is idempotent on it and on MongoDB.
func EnsureIndexes(ctx context.Context, coll *mongo.Collection, models ...mongo.IndexModel) error {
	for _, m := range models {
		if _, err := coll.Indexes().CreateOne(ctx, m); err != nil {
			return err
		}
	}
	return nil
}
