package identity

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// Collections of the person model next to users and user_keys.
const (
	MergesCollection = "person_merges"   // one record per merge: who, when, which logins, steps done
	ClaimsCollection = "identity_claims" // idn:<blind index> -> the one person verified as it
)

var _ LoginStore = (*MongoStore)(nil)
var _ MergeStore = (*MongoStore)(nil)
var _ ClaimStore = (*MongoStore)(nil)

// LoginKey implements LoginStore.
func (s *MongoStore) LoginKey(ctx context.Context, key string) (*LoginKey, error) {
	var k LoginKey
	if err := s.userKeys.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&k); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, nil
		}
		return nil, err
	}
	return &k, nil
}

// SetUnlinking implements LoginStore.
func (s *MongoStore) SetUnlinking(ctx context.Context, key, userID string, on bool) error {
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "unlinking", Value: true}}}}
	if !on {
		update = bson.D{{Key: "$unset", Value: bson.D{{Key: "unlinking", Value: ""}}}}
	}
	_, err := s.userKeys.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "user_id", Value: userID}}, update)
	return err
}

// DeleteKey implements LoginStore.
func (s *MongoStore) DeleteKey(ctx context.Context, key, userID string) error {
	_, err := s.userKeys.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "user_id", Value: userID}})
	return err
}

// KeysOf implements LoginStore.
func (s *MongoStore) KeysOf(ctx context.Context, userID string) ([]LoginKey, error) {
	cur, err := s.userKeys.Find(ctx, bson.D{{Key: "user_id", Value: userID}}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := []LoginKey{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Merge implements MergeStore.
func (s *MongoStore) Merge(ctx context.Context, id string) (*Merge, error) {
	var m Merge
	if err := s.merges.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&m); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, nil
		}
		return nil, err
	}
	return &m, nil
}

// CreateMerge implements MergeStore.
func (s *MongoStore) CreateMerge(ctx context.Context, m *Merge) (*Merge, error) {
	if m.Steps == nil {
		m.Steps = []MergeStepRecord{}
	}
	if _, err := s.merges.InsertOne(ctx, m); err != nil && !mongox.IsDuplicateKey(err) {
		return nil, err
	}
	return s.Merge(ctx, m.ID)
}

// RecordMergeStep implements MergeStore with one guarded $push: the filter
// leaves out a record that has the step, so a step is recorded once.
func (s *MongoStore) RecordMergeStep(ctx context.Context, id string, step MergeStepRecord) (bool, error) {
	return s.merges.UpdateIfMatched(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "steps.name", Value: bson.D{{Key: "$ne", Value: step.Name}}}},
		bson.D{{Key: "$push", Value: bson.D{{Key: "steps", Value: step}}}})
}

// FinishMerge implements MergeStore.
func (s *MongoStore) FinishMerge(ctx context.Context, id string, state MergeState, at time.Time) error {
	_, err := s.merges.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: state}, {Key: "finished_at", Value: at}}}})
	return err
}

// RecordSweep implements MergeStore.
func (s *MongoStore) RecordSweep(ctx context.Context, id string, sweep MergeSweep) error {
	_, err := s.merges.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "sweep", Value: sweep}}}})
	return err
}

// MergesOf implements MergeStore.
func (s *MongoStore) MergesOf(ctx context.Context, userID string, limit int) ([]Merge, error) {
	cur, err := s.merges.Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "survivor", Value: userID}}, bson.D{{Key: "absorbed", Value: userID}},
	}}}, options.Find().SetSort(bson.D{{Key: "requested_at", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	out := []Merge{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// MoveLoginKeys implements MergeStore.
func (s *MongoStore) MoveLoginKeys(ctx context.Context, from, to string) (int64, error) {
	res, err := s.userKeys.UpdateMany(ctx, bson.D{{Key: "user_id", Value: from}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "user_id", Value: to}}}})
	if err != nil {
		return 0, err
	}
	return res.ModifiedCount, nil
}

// MoveSessions implements MergeStore.
func (s *MongoStore) MoveSessions(ctx context.Context, from, to string) (int64, error) {
	move := bson.D{{Key: "$set", Value: bson.D{{Key: "user_id", Value: to}}}}
	fams, err := s.families.UpdateMany(ctx, bson.D{{Key: "user_id", Value: from}}, move)
	if err != nil {
		return 0, err
	}
	tokens, err := s.refresh.UpdateMany(ctx, bson.D{{Key: "user_id", Value: from}}, move)
	if err != nil {
		return fams.ModifiedCount, err
	}
	return fams.ModifiedCount + tokens.ModifiedCount, nil
}

type claimDoc struct {
	ID        string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	ClaimedAt time.Time `bson:"claimed_at"`
}

func claimID(bidx string) string { return "idn:" + bidx }

// ClaimIdentity implements ClaimStore.
func (s *MongoStore) ClaimIdentity(ctx context.Context, bidx, userID string, at time.Time) (string, time.Time, error) {
	for attempt := 0; ; attempt++ {
		var c claimDoc
		err := s.claims.FindOne(ctx, bson.D{{Key: "_id", Value: claimID(bidx)}}).Decode(&c)
		switch {
		case err == nil && c.UserID == userID:
			// The holder again (a retried verification): its claim is fresh.
			if _, err := s.claims.UpdateOne(ctx, bson.D{{Key: "_id", Value: c.ID}, {Key: "user_id", Value: userID}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "claimed_at", Value: at}}}}); err != nil {
				return "", time.Time{}, err
			}
			return userID, at, nil
		case err == nil:
			return c.UserID, c.ClaimedAt, nil
		case !mongox.IsNoDocuments(err):
			return "", time.Time{}, err
		}
		holder := userID
		if legacy, err := s.verifiedHolder(ctx, bidx); err != nil {
			return "", time.Time{}, err
		} else if legacy != "" {
			holder = legacy
		}
		_, err = s.claims.InsertOne(ctx, claimDoc{ID: claimID(bidx), UserID: holder, ClaimedAt: at})
		switch {
		case err == nil:
			return holder, at, nil
		case mongox.IsDuplicateKey(err) && attempt < 3:
			continue // claimed meanwhile: read who holds it
		default:
			return "", time.Time{}, err
		}
	}
}

// verifiedHolder finds a user verified as bidx on the user documents (one
// verified before claims existed, or whose claim write was lost).
func (s *MongoStore) verifiedHolder(ctx context.Context, bidx string) (string, error) {
	var u struct {
		ID string `bson:"_id"`
	}
	err := s.users.FindOne(ctx, bson.D{{Key: "id_number_bidx", Value: bidx}, {Key: "real_name_verified", Value: true},
		{Key: "merged_into", Value: bson.D{{Key: "$exists", Value: false}}}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Decode(&u)
	if mongox.IsNoDocuments(err) {
		return "", nil
	}
	return u.ID, err
}

// IdentityHolder implements ClaimStore.
func (s *MongoStore) IdentityHolder(ctx context.Context, bidx string) (string, error) {
	var c claimDoc
	err := s.claims.FindOne(ctx, bson.D{{Key: "_id", Value: claimID(bidx)}}).Decode(&c)
	if mongox.IsNoDocuments(err) {
		return s.verifiedHolder(ctx, bidx)
	}
	return c.UserID, err
}

// MoveClaim implements ClaimStore.
func (s *MongoStore) MoveClaim(ctx context.Context, bidx, from, to string, at time.Time) error {
	_, err := s.claims.UpdateOne(ctx, bson.D{{Key: "_id", Value: claimID(bidx)}, {Key: "user_id", Value: from}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "user_id", Value: to}, {Key: "claimed_at", Value: at}}}})
	return err
}
