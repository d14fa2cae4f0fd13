package mongox_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"zwfw/platform/mongox"
)

// lookupByID is the statement FerretDB v1.24's SQLite backend runs for a
// find by _id alone (backends/sqlite/collection.go, metadata.IDColumn); an
// upgrade that changes it must change the index with it.
const lookupByID = `SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ? LIMIT ?`

// A collection of the embedded store is looked up by _id through an index,
// not by scanning its table, once IndexIDs ran (as the store does at start
// and every idIndexEvery).
func TestEmbeddedLooksUpByIDWithAnIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	emb, err := mongox.StartEmbedded(dir, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	client, err := mongox.Connect(ctx, emb.URI)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	coll := mongox.C(client.Database("idx"), "things")
	if _, err := coll.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: "a"}}, bson.D{{Key: "_id", Value: "b"}}}); err != nil {
		t.Fatal(err)
	}
	plan := func() string {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "idx.sqlite")+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var table string
		if err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = 'things'`).Scan(&table); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query(`EXPLAIN QUERY PLAN `+fmt.Sprintf(lookupByID, table), `"b"`, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var id, parent, notUsed int
			var detail string
			if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
				t.Fatal(err)
			}
			out = append(out, detail)
		}
		return strings.Join(out, "; ")
	}
	if p := plan(); !strings.Contains(p, "SCAN") {
		t.Logf("before: %s (FerretDB's own _id index may now serve look-ups)", p)
	}
	if err := mongox.IndexIDs(ctx); err != nil {
		t.Fatal(err)
	}
	if p := plan(); !strings.Contains(p, "USING INDEX") || strings.Contains(p, "SCAN") {
		t.Errorf("a look-up by _id: %s", p)
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "b"}}).Err(); err != nil {
		t.Errorf("find by _id with the index: %v", err)
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "b"}}); !mongox.IsDuplicateKey(err) {
		t.Errorf("a second _id b: %v", err)
	}
}
