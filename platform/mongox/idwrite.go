package mongox

import (
	"context"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// byIDPlan is how a guarded write runs on the embedded store (idmatch.go).
type byIDPlan struct {
	// asked: the store decides (MongoDB, or a filter idFilter does not decide).
	asked bool
	// none: nothing matches and nothing is inserted.
	none bool
	// duplicate: an upsert whose filter does not match the stored document;
	// MongoDB's insert would collide on _id, and so does this answer.
	duplicate bool
	id        string // the filter's _id, when decided here
	// filter ({_id} alone) and update (for an upsert that inserts, with the
	// filter's equalities seeded) to write with.
	filter, update any
}

var asAsked = byIDPlan{asked: true}

// planByID decides filter on the document its _id names. It runs under the
// collection's gate, so the document cannot change before the write. update
// is nil for a replacement or a delete (nothing to seed).
func (c *Collection) planByID(ctx context.Context, filter, update any, upsert bool) (byIDPlan, error) {
	if !IsFerretDB(ctx, c.raw.Database()) {
		return asAsked, nil
	}
	f, ok := compileIDFilter(filter)
	if !ok {
		return asAsked, nil
	}
	byID := bson.D{{Key: "_id", Value: f.id}}
	raw, err := c.raw.FindOne(ctx, byID).Raw()
	switch {
	case IsNoDocuments(err) && !upsert:
		return byIDPlan{none: true}, nil
	case IsNoDocuments(err):
		seeded, ok := seedEqualities(f, update)
		if !ok {
			return asAsked, nil
		}
		return byIDPlan{filter: byID, update: seeded}, nil
	case err != nil:
		return byIDPlan{}, err
	}
	matched, decided := f.match(raw)
	switch {
	case !decided:
		return asAsked, nil
	case matched:
		return byIDPlan{filter: byID, update: update}, nil
	case upsert:
		return byIDPlan{duplicate: true, id: f.id}, nil
	}
	return byIDPlan{none: true}, nil
}

// guardByID runs one write under the collection's gate: with the plan's
// filter and update when planByID decides it by _id, else as asked; none
// answers when nothing matches.
func (c *Collection) guardByID(ctx context.Context, filter, update any, upsert bool, none func() error, write func(filter, update any) error) error {
	return c.guard(ctx, func() error {
		plan, err := c.planByID(ctx, filter, update, upsert)
		switch {
		case err != nil:
			return err
		case plan.none:
			return none()
		case plan.duplicate:
			return errDuplicateID(plan.id)
		case !plan.asked:
			return write(plan.filter, plan.update)
		}
		return write(filter, update)
	})
}

func noDocuments() error { return mongo.ErrNoDocuments }

// errDuplicateID is what MongoDB answers an upsert whose filter does not
// match the document its _id names.
func errDuplicateID(id string) error {
	return mongo.WriteException{WriteErrors: []mongo.WriteError{{Code: 11000,
		Message: "E11000 duplicate key error: _id " + id + " exists and did not match the filter"}}}
}

// seedEqualities returns update with the filter's plain equalities added to
// $setOnInsert, as an upsert that inserts seeds them from the filter. False
// when update is not a document of operators or touches a seeded path (the
// store then decides). A replacement (update nil) needs no seed.
func seedEqualities(f *idFilter, update any) (any, bool) {
	if update == nil {
		return nil, true
	}
	ops, ok := update.(bson.D)
	if !ok {
		return nil, false
	}
	var seed bson.D
	for _, c := range f.conds {
		if len(c.ops) == 1 && c.ops[0].name == "$eq" {
			seed = append(seed, bson.E{Key: strings.Join(c.path, "."), Value: c.ops[0].val})
		}
	}
	if len(seed) == 0 {
		return update, true
	}
	out := make(bson.D, 0, len(ops)+1)
	var onInsert bson.D
	for _, op := range ops {
		fields, ok := op.Value.(bson.D)
		if !strings.HasPrefix(op.Key, "$") || !ok {
			return nil, false
		}
		for _, fe := range fields {
			for _, s := range seed {
				if overlaps(fe.Key, s.Key) {
					return nil, false
				}
			}
		}
		if op.Key == "$setOnInsert" {
			onInsert = append(onInsert, fields...)
			continue
		}
		out = append(out, op)
	}
	onInsert = append(onInsert, seed...)
	return append(out, bson.E{Key: "$setOnInsert", Value: onInsert}), true
}

// overlaps reports whether two dotted paths name the same field or one
// holds the other.
func overlaps(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+".") || strings.HasPrefix(b, a+".")
}

// upsertOf reads the Upsert option out of a write's options.
func upsertOf[T any](opts []options.Lister[T], get func(*T) *bool) bool {
	var o T
	for _, l := range opts {
		if l == nil {
			continue
		}
		for _, set := range l.List() {
			if set != nil {
				_ = set(&o)
			}
		}
	}
	u := get(&o)
	return u != nil && *u
}
