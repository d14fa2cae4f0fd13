package mongox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	// The SQLite driver FerretDB itself runs on (same version), to add the
	// index its _id look-ups can use.
	_ "modernc.org/sqlite"
)

// FerretDB v1.24 (SQLite) creates each collection's _id index on the
// expression _ferretdb_sjson->"_id" but looks a document up by _id with
// WHERE _ferretdb_sjson->'$._id' = ?. SQLite matches an index to a query by
// the expression's text, so no look-up ever used the index: each one scanned
// the table up to the document (EXPLAIN QUERY PLAN: SCAN), and the newest
// documents were the dearest. Measured on 10,000 audit entries: the newest
// one 115 ms before, 1.5 ms with an index on the look-up's own expression.
// The index is invisible to FerretDB (not in its metadata, not listed by
// listIndexes) and goes with the table when a collection is dropped.

// idIndexEvery is how often new collections get the index; until then a
// new (small) collection is scanned.
const idIndexEvery = 15 * time.Second

var running sync.Map // *Embedded -> struct{}

// IndexIDs gives every collection of every embedded store this process runs
// an index its _id look-ups use (idempotent; the store does it at start and
// every idIndexEvery by itself). Tests call it after loading data in bulk.
func IndexIDs(ctx context.Context) error {
	var errs []error
	running.Range(func(k, _ any) bool {
		errs = append(errs, k.(*Embedded).indexIDs(ctx))
		return true
	})
	return errors.Join(errs...)
}

// indexIDs adds the index to every table of the store's database files. A
// database or collection dropped meanwhile is skipped.
func (e *Embedded) indexIDs(ctx context.Context) error {
	files, err := filepath.Glob(filepath.Join(e.Dir, "*.sqlite"))
	if err != nil {
		return err
	}
	var errs []error
	for _, f := range files {
		errs = append(errs, indexIDsIn(ctx, f))
	}
	return errors.Join(errs...)
}

func indexIDsIn(ctx context.Context, file string) error {
	// mode=rw: never create a file FerretDB just deleted with its database;
	// busy_timeout as FerretDB's own, so neither side fails on the other's write.
	db, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM _ferretdb_collections`)
	if err != nil {
		return nil // dropped, or not yet a FerretDB database
	}
	var tables []string
	for rows.Next() {
		var t string
		if rows.Scan(&t) == nil {
			tables = append(tables, t)
		}
	}
	_ = rows.Close()
	for _, t := range tables {
		q := fmt.Sprintf(`CREATE UNIQUE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+"_zwfw_id", t)
		if _, err := db.ExecContext(ctx, q); err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// indexIDsLoop indexes new collections until ctx ends.
func (e *Embedded) indexIDsLoop(ctx context.Context) {
	t := time.NewTicker(idIndexEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = e.indexIDs(ctx)
		}
	}
}
