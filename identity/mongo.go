package identity

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/apperr"
	"zwfw/platform/mongox"
)

// MongoStore implements UserStore, SessionStore, SMSCodeStore and StaffStore
// on MongoDB. Every look-up on a hot path is by _id (keys are deterministic).
type MongoStore struct {
	users    *mongox.Collection
	userKeys *mongox.Collection
	families *mongox.Collection
	refresh  *mongox.Collection
	smsCodes *mongox.Collection
	staff    *mongox.Collection
	merges   *mongox.Collection
	claims   *mongox.Collection
}

// NewMongoStore uses the identity collections of db.
func NewMongoStore(db *mongo.Database) *MongoStore {
	return &MongoStore{
		users:    mongox.C(db, "users"),
		userKeys: mongox.C(db, "user_keys"),
		families: mongox.C(db, "session_families"),
		refresh:  mongox.C(db, "refresh_tokens"),
		smsCodes: mongox.C(db, "sms_codes"),
		staff:    mongox.C(db, "staff_credentials"),
		merges:   mongox.C(db, MergesCollection),
		claims:   mongox.C(db, ClaimsCollection),
	}
}

// EnsureIndexes creates the secondary indexes (plain ones only: the embedded
// MongoDB has no TTL or partial indexes, so expiry is done by PurgeExpired).
func (s *MongoStore) EnsureIndexes(ctx context.Context) error {
	if _, err := s.refresh.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "expires_at", Value: 1}}}); err != nil {
		return err
	}
	if _, err := s.families.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "expires_at", Value: 1}}}); err != nil {
		return err
	}
	// A merge moves keys, sessions and refresh tokens by owner; a login's
	// sessions are revoked when it is unlinked.
	for _, c := range []*mongox.Collection{s.userKeys, s.families, s.refresh} {
		if err := c.EnsureIndexes(ctx, mongo.IndexModel{Keys: bson.D{{Key: "user_id", Value: 1}}}); err != nil {
			return err
		}
	}
	if err := s.users.EnsureIndexes(ctx, mongo.IndexModel{Keys: bson.D{{Key: "id_number_bidx", Value: 1}}}); err != nil {
		return err
	}
	return s.merges.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "survivor", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "absorbed", Value: 1}}})
}

type userKey struct {
	ID        string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	CreatedAt time.Time `bson:"created_at"`
}

// UserByID implements UserStore.
func (s *MongoStore) UserByID(ctx context.Context, id string) (*User, error) {
	var u User
	if err := s.users.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&u); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, ErrUserNotFound
		}
		return nil, err
	}
	return &u, nil
}

// EnsureUserForKey implements UserStore. The key document is claimed first
// with an upsert; whoever wins decides the user id, and the user document is
// then created with $setOnInsert, so a crash between the two writes heals on
// the next login instead of leaving a second user.
func (s *MongoStore) EnsureUserForKey(ctx context.Context, key string, candidate *User) (*User, bool, error) {
	for attempt := 0; ; attempt++ {
		res, err := s.userKeys.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: key}},
			bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "user_id", Value: candidate.ID}, {Key: "created_at", Value: candidate.CreatedAt}}}},
			options.UpdateOne().SetUpsert(true))
		if err != nil {
			// Two concurrent upserts of a new _id: one loses with a duplicate key; retry reads the winner.
			if mongox.IsDuplicateKey(err) && attempt < 3 {
				continue
			}
			return nil, false, err
		}
		userID := candidate.ID
		if res.UpsertedCount == 0 {
			var k userKey
			if err := s.userKeys.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&k); err != nil {
				return nil, false, err
			}
			userID = k.UserID
		}
		u := *candidate
		u.ID = userID
		created, err := s.insertUserIfMissing(ctx, &u)
		if err != nil {
			return nil, false, err
		}
		got, err := s.UserByID(ctx, userID)
		if err != nil {
			return nil, false, err
		}
		return got, created && res.UpsertedCount == 1, nil
	}
}

func (s *MongoStore) insertUserIfMissing(ctx context.Context, u *User) (bool, error) {
	doc, err := bson.Marshal(u)
	if err != nil {
		return false, err
	}
	var fields bson.D
	if err := bson.Unmarshal(doc, &fields); err != nil {
		return false, err
	}
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: u.ID}},
		bson.D{{Key: "$setOnInsert", Value: withoutID(fields)}}, options.UpdateOne().SetUpsert(true))
	if err != nil {
		if mongox.IsDuplicateKey(err) {
			return false, nil
		}
		return false, err
	}
	return res.UpsertedCount == 1, nil
}

func withoutID(d bson.D) bson.D {
	out := make(bson.D, 0, len(d))
	for _, e := range d {
		if e.Key != "_id" {
			out = append(out, e)
		}
	}
	return out
}

// BindKey implements UserStore.
func (s *MongoStore) BindKey(ctx context.Context, key, userID string) (string, error) {
	_, err := s.userKeys.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "user_id", Value: userID}, {Key: "created_at", Value: time.Now().UTC()}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil && !mongox.IsDuplicateKey(err) {
		return "", err
	}
	var k userKey
	if err := s.userKeys.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&k); err != nil {
		return "", err
	}
	return k.UserID, nil
}

// TouchLogin implements UserStore.
func (s *MongoStore) TouchLogin(ctx context.Context, id string, at time.Time) error {
	_, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "last_login_at", Value: at}}}})
	return err
}

// SaveUser implements UserStore with one guarded replace.
func (s *MongoStore) SaveUser(ctx context.Context, next *User, prevVersion int64) error {
	return s.users.ReplaceIfVersion(ctx, next.ID, prevVersion, next)
}

// CreateFamily implements SessionStore.
func (s *MongoStore) CreateFamily(ctx context.Context, f *SessionFamily) error {
	_, err := s.families.InsertOne(ctx, f)
	return err
}

// Family implements SessionStore; ErrRefreshInvalid when unknown.
func (s *MongoStore) Family(ctx context.Context, id string) (*SessionFamily, error) {
	var f SessionFamily
	if err := s.families.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&f); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, ErrRefreshInvalid
		}
		return nil, err
	}
	return &f, nil
}

// RevokeFamily implements SessionStore; revoking twice keeps the first reason.
func (s *MongoStore) RevokeFamily(ctx context.Context, id, reason string, at time.Time) error {
	_, err := s.families.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "revoked_at", Value: nil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "revoked_at", Value: at}, {Key: "revoke_reason", Value: reason}}}})
	return err
}

// LoginFamilies implements SessionStore.
func (s *MongoStore) LoginFamilies(ctx context.Context, userID, login string) ([]string, error) {
	cur, err := s.families.Find(ctx, bson.D{{Key: "user_id", Value: userID}, {Key: "login", Value: login}, {Key: "revoked_at", Value: nil}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out, nil
}

// InsertRefresh implements SessionStore.
func (s *MongoStore) InsertRefresh(ctx context.Context, t *RefreshToken) error {
	_, err := s.refresh.InsertOne(ctx, t)
	return err
}

// UseRefresh implements SessionStore with one guarded findOneAndUpdate, so two
// concurrent refreshes with one token cannot both succeed.
func (s *MongoStore) UseRefresh(ctx context.Context, hash string, at time.Time) (*RefreshToken, error) {
	var t RefreshToken
	err := s.refresh.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: hash}, {Key: "used_at", Value: nil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "used_at", Value: at}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&t)
	if err == nil {
		return &t, nil
	}
	if !mongox.IsNoDocuments(err) {
		return nil, err
	}
	if err := s.refresh.FindOne(ctx, bson.D{{Key: "_id", Value: hash}}).Decode(&t); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, ErrRefreshInvalid
		}
		return nil, err
	}
	return &t, ErrRefreshReused
}

// PurgeExpired implements SessionStore.
func (s *MongoStore) PurgeExpired(ctx context.Context, cutoff time.Time) (int64, error) {
	filter := bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: cutoff}}}}
	r1, err := s.refresh.DeleteMany(ctx, filter)
	if err != nil {
		return 0, err
	}
	r2, err := s.families.DeleteMany(ctx, filter)
	if err != nil {
		return r1.DeletedCount, err
	}
	return r1.DeletedCount + r2.DeletedCount, nil
}

// SMSCode implements SMSCodeStore.
func (s *MongoStore) SMSCode(ctx context.Context, id string) (*SMSCode, error) {
	var c SMSCode
	if err := s.smsCodes.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&c); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, nil
		}
		return nil, err
	}
	return &c, nil
}

// PutSMSCode implements SMSCodeStore.
func (s *MongoStore) PutSMSCode(ctx context.Context, next *SMSCode, prevVersion int64) error {
	if prevVersion == 0 {
		if _, err := s.smsCodes.InsertOne(ctx, next); err != nil {
			if mongox.IsDuplicateKey(err) {
				return apperr.Conflict
			}
			return err
		}
		return nil
	}
	return s.smsCodes.ReplaceIfVersion(ctx, next.ID, prevVersion, next)
}

// StaffCredential implements StaffStore.
func (s *MongoStore) StaffCredential(ctx context.Context, id string) (*StaffCredential, error) {
	var c StaffCredential
	if err := s.staff.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&c); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, nil
		}
		return nil, err
	}
	return &c, nil
}

// CreateStaffCredential implements StaffStore.
func (s *MongoStore) CreateStaffCredential(ctx context.Context, c *StaffCredential) error {
	if _, err := s.staff.InsertOne(ctx, c); err != nil {
		if mongox.IsDuplicateKey(err) {
			return ErrStaffUsernameUsed
		}
		return err
	}
	return nil
}

// RecordStaffFailure implements StaffStore: one $inc, then (only when the
// threshold is reached) one guarded update that locks and restarts the count.
func (s *MongoStore) RecordStaffFailure(ctx context.Context, id string, threshold int, lockFor time.Duration, at time.Time) (*StaffCredential, error) {
	var c StaffCredential
	err := s.staff.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "failed_count", Value: 1}}}, {Key: "$set", Value: bson.D{{Key: "updated_at", Value: at}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&c)
	if err != nil {
		return nil, err
	}
	if c.FailedCount < threshold {
		return &c, nil
	}
	until := at.Add(lockFor)
	err = s.staff.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "failed_count", Value: bson.D{{Key: "$gte", Value: threshold}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "locked_until", Value: until}, {Key: "failed_count", Value: 0}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&c)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, err
	}
	if c.LockedUntil == nil {
		c.LockedUntil = &until
	}
	return &c, nil
}

// ResetStaffFailures implements StaffStore.
func (s *MongoStore) ResetStaffFailures(ctx context.Context, id string, at time.Time) error {
	_, err := s.staff.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "failed_count", Value: 0}, {Key: "locked_until", Value: nil}, {Key: "updated_at", Value: at}}}})
	return err
}
