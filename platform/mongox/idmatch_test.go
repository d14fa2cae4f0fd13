package mongox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
	"zwfw/platform/testenv"
)

// Every guarded write whose filter names a string _id is decided by reading
// that document (idmatch.go) instead of the embedded store's scan. The
// store's own answer is the specification: for every stored document and
// every filter below, the guarded write matches exactly when the store's
// count of the same filter says it does, the write lands on that document
// alone, and the filter shapes the stores use are decided by _id.
func TestIDFilterAgreesWithTheStore(t *testing.T) {
	db := testenv.DB(t)
	coll := mongox.C(db, "idmatch")
	ctx := context.Background()
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	docs := []bson.D{
		{{Key: "_id", Value: "a"}, {Key: "n", Value: int32(3)}, {Key: "s", Value: "open"}, {Key: "at", Value: at},
			{Key: "ok", Value: true}, {Key: "nul", Value: nil}, {Key: "sub", Value: bson.D{{Key: "x", Value: "b1"}, {Key: "k", Value: int64(2)}}}},
		{{Key: "_id", Value: "b"}, {Key: "n", Value: int64(5)}, {Key: "s", Value: "paid"}, {Key: "at", Value: at.Add(time.Hour)},
			{Key: "ok", Value: false}, {Key: "sub", Value: bson.D{}}},
		{{Key: "_id", Value: "c"}, {Key: "n", Value: 2.5}, {Key: "s", Value: ""}, {Key: "arr", Value: bson.A{"x", "y"}}},
		{{Key: "_id", Value: "d"}},
	}
	for _, d := range docs {
		if _, err := coll.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	conds := []bson.E{
		{Key: "n", Value: 3}, {Key: "n", Value: int64(5)}, {Key: "n", Value: 2.5}, {Key: "n", Value: 3.0},
		{Key: "n", Value: bson.D{{Key: "$lt", Value: 3}}}, {Key: "n", Value: bson.D{{Key: "$lte", Value: 3}}},
		{Key: "n", Value: bson.D{{Key: "$gt", Value: 2.5}}}, {Key: "n", Value: bson.D{{Key: "$gte", Value: int64(5)}}},
		{Key: "n", Value: bson.D{{Key: "$lt", Value: "z"}}}, {Key: "n", Value: bson.D{{Key: "$gt", Value: 0}, {Key: "$lt", Value: 4}}},
		{Key: "n", Value: bson.D{{Key: "$ne", Value: 3}}}, {Key: "n", Value: nil}, {Key: "n", Value: bson.D{{Key: "$ne", Value: nil}}},
		{Key: "n", Value: bson.D{{Key: "$exists", Value: false}}}, {Key: "n", Value: bson.D{{Key: "$exists", Value: true}}},
		{Key: "n", Value: bson.D{{Key: "$in", Value: bson.A{1, 3}}}}, {Key: "n", Value: bson.D{{Key: "$nin", Value: bson.A{1, 3}}}},
		{Key: "s", Value: "open"}, {Key: "s", Value: ""}, {Key: "s", Value: bson.D{{Key: "$in", Value: bson.A{"open", "paid"}}}},
		{Key: "s", Value: bson.D{{Key: "$in", Value: []string{"paid", "x"}}}}, {Key: "s", Value: bson.D{{Key: "$nin", Value: bson.A{"paid", nil}}}},
		{Key: "s", Value: bson.D{{Key: "$gt", Value: "o"}}}, {Key: "s", Value: bson.D{{Key: "$ne", Value: "paid"}}},
		{Key: "s", Value: bson.D{{Key: "$eq", Value: "paid"}}},
		{Key: "at", Value: at}, {Key: "at", Value: bson.D{{Key: "$lt", Value: at.Add(time.Minute)}}},
		{Key: "at", Value: bson.D{{Key: "$gte", Value: at.Add(time.Minute)}}}, {Key: "at", Value: bson.D{{Key: "$exists", Value: false}}},
		{Key: "ok", Value: true}, {Key: "ok", Value: false}, {Key: "ok", Value: bson.D{{Key: "$ne", Value: true}}},
		{Key: "nul", Value: nil}, {Key: "nul", Value: bson.D{{Key: "$exists", Value: true}}}, {Key: "nul", Value: bson.D{{Key: "$ne", Value: nil}}},
		{Key: "nul", Value: bson.D{{Key: "$in", Value: bson.A{nil, "x"}}}},
		{Key: "sub.x", Value: "b1"}, {Key: "sub.x", Value: bson.D{{Key: "$exists", Value: false}}}, {Key: "sub.k", Value: bson.D{{Key: "$lt", Value: 3}}},
		{Key: "sub.x.y", Value: nil}, {Key: "s.x", Value: bson.D{{Key: "$exists", Value: false}}},
		// Left to the store: an array in the document, a document value, another operator.
		{Key: "arr", Value: "x"}, {Key: "arr", Value: bson.D{{Key: "$ne", Value: "z"}}},
		{Key: "sub", Value: bson.D{}}, {Key: "s", Value: bson.D{{Key: "$regex", Value: "^o"}}},
	}
	decided, total := 0, 0
	for _, d := range docs {
		id := d[0].Value.(string)
		raw, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range conds {
			for _, filter := range []bson.D{{{Key: "_id", Value: id}, c}, {{Key: "_id", Value: id}, c, {Key: "zz", Value: nil}}} {
				name := fmt.Sprintf("%s/%v", id, filter[1:])
				n, err := coll.CountDocuments(ctx, filter)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				want := n == 1
				m, ok := mongox.DecidesByID(filter, raw)
				if !ok && testing.Verbose() {
					t.Logf("undecided %s", name)
				}
				if ok {
					decided++
					if m != want {
						t.Errorf("%s: decided %v, the store says %v", name, m, want)
					}
				}
				total++
				mark := fmt.Sprintf("w%d", i)
				res, err := coll.UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "mark", Value: mark}}}})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if (res.MatchedCount == 1) != want {
					t.Errorf("%s: guarded write matched %d, the store's count %d", name, res.MatchedCount, n)
				}
				if got, _ := coll.CountDocuments(ctx, bson.D{{Key: "mark", Value: mark}}); (got == 1) != want || got > 1 {
					t.Errorf("%s: %d documents written", name, got)
				}
				if _, err := coll.UpdateMany(ctx, bson.D{}, bson.D{{Key: "$unset", Value: bson.D{{Key: "mark", Value: ""}}}}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Every shape is decided here but a document value and $regex (on every
	// document) and the two conditions on c's array.
	if wantDecided := total - 2*2*len(docs) - 2*2; decided != wantDecided {
		t.Errorf("decided %d of %d filters by _id, want %d", decided, total, wantDecided)
	}
}

// The answers of the other guarded writes when decided by _id are the
// store's: find-and-modify returns the document or "no documents", an
// upsert that does not match an existing document collides on _id, an
// upsert of a missing document is seeded from the filter's equalities, a
// delete removes only a matching document.
func TestWritesDecidedByIDAnswerAsTheStore(t *testing.T) {
	db := testenv.DB(t)
	coll := mongox.C(db, "idwrites")
	ctx := context.Background()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "slot"}, {Key: "capacity", Value: 2}, {Key: "taken", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	take := func(id string, capacity int) error {
		return coll.FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: id}, {Key: "capacity", Value: capacity}, {Key: "taken", Value: bson.D{{Key: "$lt", Value: capacity}}}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "taken", Value: 1}}}, {Key: "$setOnInsert", Value: bson.D{{Key: "hall", Value: "h1"}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Err()
	}
	if err := take("slot", 2); err != nil {
		t.Fatalf("a place left: %v", err)
	}
	if err := take("slot", 2); !mongox.IsDuplicateKey(err) {
		t.Fatalf("a full slot's upsert: %v, want a duplicate key", err)
	}
	if err := take("slot", 3); !mongox.IsDuplicateKey(err) {
		t.Fatalf("another capacity's upsert: %v, want a duplicate key", err)
	}
	if err := take("new", 4); err != nil {
		t.Fatalf("a new slot: %v", err)
	}
	var got struct {
		Capacity int    `bson:"capacity"`
		Taken    int    `bson:"taken"`
		Hall     string `bson:"hall"`
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "new"}}).Decode(&got); err != nil || got.Capacity != 4 || got.Taken != 1 || got.Hall != "h1" {
		t.Fatalf("the new slot as inserted: %+v %v", got, err)
	}
	err := coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "slot"}, {Key: "taken", Value: 0}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}).Err()
	if !mongox.IsNoDocuments(err) {
		t.Fatalf("a refused find-and-modify: %v", err)
	}
	if err := coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "gone"}, {Key: "taken", Value: 0}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}).Err(); !mongox.IsNoDocuments(err) {
		t.Fatalf("a find-and-modify of a missing document: %v", err)
	}
	if res, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: "slot"}, {Key: "taken", Value: 1}}); err != nil || res.DeletedCount != 0 {
		t.Fatalf("a delete that does not match: %+v %v", res, err)
	}
	if res, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: "slot"}, {Key: "taken", Value: 2}}); err != nil || res.DeletedCount != 1 {
		t.Fatalf("a delete that matches: %+v %v", res, err)
	}
	if err := coll.ReplaceIfVersion(ctx, "new", 7, bson.D{{Key: "version", Value: 8}}); err == nil {
		t.Fatal("a replace of another version landed")
	}
}
