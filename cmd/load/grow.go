package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// Growing the store: "flat as data grows" compares the same look-ups
// with 1,000 and with 100,000 cases in the store. Making 100,000
// applications through the API would take hours on the embedded store, so
// the bulk is inserted straight into MongoDB, and it is made of the
// documents zwfw itself wrote: each added case is a copy of one of the
// real (API-made, submitted, numbered) cases with a new id, a new case
// number and one of `owners` other people as its owner, and gets the look-up
// keys zwfw files for a submitted case (its number, and one index key for
// its applicant). Copies carry no pending events (their originals' were
// relayed already), and their sync time is their original's, so the
// safety-net poll leaves them alone during a run.

// growCases adds cases until the store holds total, in batches, and
// returns how many it added. No batch starts after until (when set): a
// slow machine gets a smaller store, not a longer run.
func growCases(ctx context.Context, db *mongo.Database, real []realCase, total, owners int, until time.Time) (int, error) {
	casesC, keysC := mongox.C(db, "cases"), mongox.C(db, "case_keys")
	have, err := casesC.CountDocuments(ctx, bson.D{})
	if err != nil {
		return 0, err
	}
	templates := make([]bson.D, 0, len(real))
	for _, rc := range real {
		var d bson.D
		if err := casesC.FindOne(ctx, bson.D{{Key: "_id", Value: rc.id}}).Decode(&d); err != nil {
			return 0, fmt.Errorf("read case %s: %w", rc.id, err)
		}
		templates = append(templates, d)
	}
	if len(templates) == 0 {
		return 0, fmt.Errorf("no case to copy")
	}
	// Batches go in from four writers at once: the embedded store turns
	// documents into rows on both cores while SQLite writes one batch.
	const batch, writers = 500, 4
	base := time.Now().Add(-30 * 24 * time.Hour).UnixMilli()
	var starts []int
	for n := int(have); n < total; n += batch {
		starts = append(starts, n)
	}
	var added atomic.Int64
	err = parallel(ctx, len(starts), writers, func(ctx context.Context, b int) error {
		if !until.IsZero() && time.Now().After(until) {
			return nil
		}
		n := starts[b]
		size := min(batch, total-n)
		docs := make([]any, 0, size)
		keys := make([]any, 0, 2*size)
		for k := range size {
			i := n + k
			tpl := templates[i%len(templates)]
			id := fmt.Sprintf("c_%012x%s", base+int64(i), randomHex(6))
			number := fmt.Sprintf("LD%014d", i)
			owner := fmt.Sprintf("u_%024x", 0x10ad0000+i%owners)
			doc := make(bson.D, 0, len(tpl))
			for _, e := range tpl {
				switch e.Key {
				case "_id":
					e.Value = id
				case "owner_id":
					e.Value = owner
				case "case_number":
					e.Value = number
				case "outbox":
					continue
				}
				doc = append(doc, e)
			}
			docs = append(docs, doc)
			keys = append(keys,
				bson.D{{Key: "_id", Value: "no:" + number}, {Key: "case_id", Value: id}},
				bson.D{{Key: "_id", Value: "ix:pid:" + randomHex(32)}, {Key: "case_ids", Value: bson.A{id}}})
		}
		if err := insertAll(ctx, casesC, docs); err != nil {
			return fmt.Errorf("insert cases: %w", err)
		}
		if err := insertAll(ctx, keysC, keys); err != nil {
			return fmt.Errorf("insert case keys: %w", err)
		}
		added.Add(int64(size))
		return nil
	})
	return int(added.Load()), err
}

// insertAll inserts a batch, again while the embedded store answers
// "database is locked" (SQLite's busy writer: four writers at once meet it;
// the batch's transaction was rolled back, so trying again is safe, and a
// duplicate left by a batch that did go in is no error).
func insertAll(ctx context.Context, c *mongox.Collection, docs []any) error {
	for attempt := 0; ; attempt++ {
		_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		if err == nil || mongox.IsDuplicateKey(err) {
			return nil
		}
		if attempt >= 20 || !strings.Contains(err.Error(), "database is locked") {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(50*(attempt+1)) * time.Millisecond):
		}
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func countCases(ctx context.Context, db *mongo.Database) (int, error) {
	n, err := mongox.C(db, "cases").CountDocuments(ctx, bson.D{})
	return int(n), err
}
