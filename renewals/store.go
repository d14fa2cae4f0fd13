package renewals

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/jobs"
	"zwfw/platform/mongox"
)

// Record is what the last sync of a user scheduled.
type Record struct {
	UserID    string      `bson:"_id"`
	SyncedAt  time.Time   `bson:"synced_at"`
	Scheduled []Scheduled `bson:"scheduled"`
}

// Scheduled is a licence whose reminders are scheduled, for its expiry date.
type Scheduled struct {
	LicenseID string `bson:"license_id"`
	Name      string `bson:"name"`
	ExpiresOn string `bson:"expires_on"` // YYYY-MM-DD
}

// Store keeps a Record per user.
type Store interface {
	// Get returns the user's record, nil when they were never synced.
	Get(ctx context.Context, userID string) (*Record, error)
	// Put replaces the user's record.
	Put(ctx context.Context, r Record) error
}

// Queue enqueues durable jobs (implemented by *jobs.Queue).
type Queue interface {
	Enqueue(ctx context.Context, req jobs.EnqueueRequest) (jobs.Job, bool, error)
}

// MongoStore implements Store (collection license_syncs, one document per user by _id).
type MongoStore struct{ coll *mongox.Collection }

// NewMongoStore uses db's license_syncs collection.
func NewMongoStore(db *mongo.Database) *MongoStore {
	return &MongoStore{coll: mongox.C(db, "license_syncs")}
}

// Get implements Store.
func (s *MongoStore) Get(ctx context.Context, userID string) (*Record, error) {
	var r Record
	if err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: userID}}).Decode(&r); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, nil
		}
		return nil, err
	}
	return &r, nil
}

// Put implements Store. Two syncs of one user at once write the same
// licences' state, so the last write winning is right.
func (s *MongoStore) Put(ctx context.Context, r Record) error {
	_, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.UserID}}, r, options.Replace().SetUpsert(true))
	if mongox.IsDuplicateKey(err) { // two first syncs raced to insert: the other one's is as good
		return nil
	}
	return err
}
