package mongox_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
	"zwfw/platform/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// A guarded state change wins exactly once under contention, on the embedded
// FerretDB as on MongoDB: this is what every "claim", "book" and "pay" relies on.
func TestGuardedWriteWinsOnce(t *testing.T) {
	db := testenv.DB(t)
	coll := mongox.C(db, "claims")
	ctx := context.Background()
	for round := 0; round < 10; round++ {
		id := fmt.Sprintf("doc-%d", round)
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: "pending"}}); err != nil {
			t.Fatal(err)
		}
		var wins atomic.Int32
		var wg sync.WaitGroup
		for g := 0; g < 6; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				err := coll.FindOneAndUpdate(ctx,
					bson.D{{Key: "_id", Value: id}, {Key: "state", Value: "pending"}},
					bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: "claimed"}, {Key: "by", Value: g}}}},
					options.FindOneAndUpdate()).Err()
				if err == nil {
					wins.Add(1)
				} else if !mongox.IsNoDocuments(err) {
					t.Error(err)
				}
			}(g)
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d writers claimed one document", round, n)
		}
	}
}

// Starting twice must work: index creation is idempotent on the embedded store.
func TestEnsureIndexesIsIdempotent(t *testing.T) {
	coll := testenv.DB(t).Collection("jobs")
	ctx := context.Background()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "state", Value: "pending"}}); err != nil {
		t.Fatal(err)
	}
	models := []mongo.IndexModel{
		{Keys: bson.D{{Key: "state", Value: 1}, {Key: "run_at", Value: 1}}},
		{Keys: bson.D{{Key: "state", Value: 1}, {Key: "finished_at", Value: 1}}},
	}
	for i := 0; i < 3; i++ {
		if err := mongox.EnsureIndexes(ctx, coll, models...); err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
	}
}
