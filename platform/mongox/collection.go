package mongox

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Collection is the only handle a store has on a MongoDB collection. Reads go
// straight to the driver; every write that can rewrite an existing document
// (update, replace, delete, find-and-modify, bulk) takes the collection's
// guard on FerretDB (see guard.go) and goes straight through on MongoDB. A
// store cannot forget the guard because it never holds a *mongo.Collection:
// a test fails when any package outside mongox names that type.
//
// On FerretDB a guarded write whose filter names a string _id beside its
// conditions reads that document by _id and decides the conditions itself
// (idmatch.go), since the store would scan the whole collection for it.
//
// Writes that carry pending domain events (an "outbox" in the document or a
// $push to it) also wake the in-process outbox relay, so events reach the log
// at once; a sweep finds the rest after a crash.
type Collection struct {
	raw *mongo.Collection
}

// C returns the guarded collection name of db.
func C(db *mongo.Database, name string) *Collection {
	return &Collection{raw: db.Collection(name)}
}

// Name is the collection's name.
func (c *Collection) Name() string { return c.raw.Name() }

// Database is the collection's database.
func (c *Collection) Database() *mongo.Database { return c.raw.Database() }

// Indexes manages the collection's indexes (index builds are not document writes).
func (c *Collection) Indexes() mongo.IndexView { return c.raw.Indexes() }

// EnsureIndexes creates the indexes one by one (see EnsureIndexes).
func (c *Collection) EnsureIndexes(ctx context.Context, models ...mongo.IndexModel) error {
	return EnsureIndexes(ctx, c.raw, models...)
}

// FindOne reads one document.
func (c *Collection) FindOne(ctx context.Context, filter any, opts ...options.Lister[options.FindOneOptions]) *mongo.SingleResult {
	return c.raw.FindOne(ctx, filter, opts...)
}

// Find reads documents.
func (c *Collection) Find(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) (*mongo.Cursor, error) {
	return c.raw.Find(ctx, filter, opts...)
}

// CountDocuments counts documents matching filter.
func (c *Collection) CountDocuments(ctx context.Context, filter any, opts ...options.Lister[options.CountOptions]) (int64, error) {
	return c.raw.CountDocuments(ctx, filter, opts...)
}

// Aggregate runs a read-only pipeline ($match, $group, $sort, ... — no $out or $merge).
func (c *Collection) Aggregate(ctx context.Context, pipeline any, opts ...options.Lister[options.AggregateOptions]) (*mongo.Cursor, error) {
	return c.raw.Aggregate(ctx, pipeline, opts...)
}

// Distinct reads the distinct values of field.
func (c *Collection) Distinct(ctx context.Context, field string, filter any, opts ...options.Lister[options.DistinctOptions]) *mongo.DistinctResult {
	return c.raw.Distinct(ctx, field, filter, opts...)
}

// InsertOne inserts a new document. It takes no guard: an insert never
// rewrites an existing document, and a duplicate _id fails atomically on
// both stores.
func (c *Collection) InsertOne(ctx context.Context, doc any, opts ...options.Lister[options.InsertOneOptions]) (*mongo.InsertOneResult, error) {
	res, err := c.raw.InsertOne(ctx, doc, opts...)
	if err == nil && carriesEvents(doc) {
		c.kick(res.InsertedID)
	}
	return res, err
}

// InsertMany inserts new documents (no guard, as InsertOne).
func (c *Collection) InsertMany(ctx context.Context, docs any, opts ...options.Lister[options.InsertManyOptions]) (*mongo.InsertManyResult, error) {
	return c.raw.InsertMany(ctx, docs, opts...)
}

// UpdateOne applies update to the first document matching filter, guarded.
func (c *Collection) UpdateOne(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateOneOptions]) (*mongo.UpdateResult, error) {
	var res *mongo.UpdateResult
	err := c.guardByID(ctx, filter, update, upsertOf(opts, func(o *options.UpdateOneOptions) *bool { return o.Upsert }),
		func() error { res = &mongo.UpdateResult{}; return nil },
		func(filter, update any) (err error) {
			res, err = c.raw.UpdateOne(ctx, filter, update, opts...)
			return err
		})
	if err == nil && (res.MatchedCount > 0 || res.UpsertedCount > 0) && updatePushesEvents(update) {
		c.kick(idOf(filter, res.UpsertedID))
	}
	return res, err
}

// UpdateMany applies update to every document matching filter, guarded.
func (c *Collection) UpdateMany(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateManyOptions]) (*mongo.UpdateResult, error) {
	var res *mongo.UpdateResult
	err := c.guard(ctx, func() (err error) {
		res, err = c.raw.UpdateMany(ctx, filter, update, opts...)
		return err
	})
	if err == nil && res.ModifiedCount > 0 && updatePushesEvents(update) {
		c.kick(nil)
	}
	return res, err
}

// ReplaceOne replaces the first document matching filter, guarded.
func (c *Collection) ReplaceOne(ctx context.Context, filter, doc any, opts ...options.Lister[options.ReplaceOptions]) (*mongo.UpdateResult, error) {
	var res *mongo.UpdateResult
	err := c.guardByID(ctx, filter, nil, upsertOf(opts, func(o *options.ReplaceOptions) *bool { return o.Upsert }),
		func() error { res = &mongo.UpdateResult{}; return nil },
		func(filter, _ any) (err error) { res, err = c.raw.ReplaceOne(ctx, filter, doc, opts...); return err })
	if err == nil && (res.MatchedCount > 0 || res.UpsertedCount > 0) && carriesEvents(doc) {
		c.kick(idOf(filter, res.UpsertedID))
	}
	return res, err
}

// DeleteOne deletes the first document matching filter, guarded (a filter on
// state must not delete a document another writer just changed).
func (c *Collection) DeleteOne(ctx context.Context, filter any, opts ...options.Lister[options.DeleteOneOptions]) (*mongo.DeleteResult, error) {
	var res *mongo.DeleteResult
	err := c.guardByID(ctx, filter, nil, false,
		func() error { res = &mongo.DeleteResult{}; return nil },
		func(filter, _ any) (err error) { res, err = c.raw.DeleteOne(ctx, filter, opts...); return err })
	return res, err
}

// DeleteMany deletes every document matching filter, guarded.
func (c *Collection) DeleteMany(ctx context.Context, filter any, opts ...options.Lister[options.DeleteManyOptions]) (*mongo.DeleteResult, error) {
	var res *mongo.DeleteResult
	err := c.guard(ctx, func() (err error) {
		res, err = c.raw.DeleteMany(ctx, filter, opts...)
		return err
	})
	return res, err
}

// FindOneAndUpdate updates one document and returns it (before or after, per
// opts), guarded.
func (c *Collection) FindOneAndUpdate(ctx context.Context, filter, update any, opts ...options.Lister[options.FindOneAndUpdateOptions]) *mongo.SingleResult {
	var res *mongo.SingleResult
	err := c.guardByID(ctx, filter, update, upsertOf(opts, func(o *options.FindOneAndUpdateOptions) *bool { return o.Upsert }),
		noDocuments, func(filter, update any) error { res = c.raw.FindOneAndUpdate(ctx, filter, update, opts...); return nil })
	if err != nil {
		return mongo.NewSingleResultFromDocument(bson.D{}, err, nil)
	}
	if res.Err() == nil && updatePushesEvents(update) {
		c.kick(idOf(filter, nil))
	}
	return res
}

// FindOneAndReplace replaces one document and returns it, guarded.
func (c *Collection) FindOneAndReplace(ctx context.Context, filter, doc any, opts ...options.Lister[options.FindOneAndReplaceOptions]) *mongo.SingleResult {
	var res *mongo.SingleResult
	err := c.guardByID(ctx, filter, nil, upsertOf(opts, func(o *options.FindOneAndReplaceOptions) *bool { return o.Upsert }),
		noDocuments, func(filter, _ any) error { res = c.raw.FindOneAndReplace(ctx, filter, doc, opts...); return nil })
	if err != nil {
		return mongo.NewSingleResultFromDocument(bson.D{}, err, nil)
	}
	if res.Err() == nil && carriesEvents(doc) {
		c.kick(idOf(filter, nil))
	}
	return res
}

// FindOneAndDelete deletes one document and returns it, guarded.
func (c *Collection) FindOneAndDelete(ctx context.Context, filter any, opts ...options.Lister[options.FindOneAndDeleteOptions]) *mongo.SingleResult {
	var res *mongo.SingleResult
	err := c.guardByID(ctx, filter, nil, false,
		noDocuments, func(filter, _ any) error { res = c.raw.FindOneAndDelete(ctx, filter, opts...); return nil })
	if err != nil {
		return mongo.NewSingleResultFromDocument(bson.D{}, err, nil)
	}
	return res
}

// BulkWrite runs several writes in one command, guarded as one.
func (c *Collection) BulkWrite(ctx context.Context, models []mongo.WriteModel, opts ...options.Lister[options.BulkWriteOptions]) (*mongo.BulkWriteResult, error) {
	var res *mongo.BulkWriteResult
	err := c.guard(ctx, func() (err error) {
		res, err = c.raw.BulkWrite(ctx, models, opts...)
		return err
	})
	return res, err
}

// Atomically runs fn holding the collection's guard, for the rare store
// method that must read and then write with nothing in between (writes on c
// inside fn do not take the guard again). On MongoDB it just runs fn: use it
// only where a filter on the stored state cannot express the condition.
func (c *Collection) Atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	return c.guardCtx(ctx, fn)
}

// ReplaceIfVersion replaces the document id with doc if its stored version
// is still prevVersion: the optimistic-concurrency write every domain store
// uses for state changes. It returns apperr.Conflict when another change won.
func (c *Collection) ReplaceIfVersion(ctx context.Context, id string, prevVersion int64, doc any) error {
	res, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "version", Value: prevVersion}}, doc)
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return errConflict()
	}
	return nil
}

// UpdateIfMatched runs one guarded UpdateOne and reports whether it matched:
// the shape of every "move from state A to B" write.
func (c *Collection) UpdateIfMatched(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateOneOptions]) (bool, error) {
	res, err := c.UpdateOne(ctx, filter, update, opts...)
	if err != nil {
		return false, err
	}
	return res.MatchedCount > 0 || res.UpsertedCount > 0, nil
}
