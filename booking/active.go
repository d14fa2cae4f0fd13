package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// A person's active bookings are counted in one document, user:<id> of
// booking_users: the number of active bookings and, per item, the booking
// that holds it (one active booking per person per item). Both live in one
// document so that a new booking takes its item and its place in one
// guarded write, and no crash can leave one taken without the other.

// activeKey names one active-item key in findings and logs.
func activeKey(userID, itemCode string) string { return "active:" + userID + ":" + itemCode }
func userDocID(userID string) string           { return "user:" + userID }

// itemName is the field of an item in a user document's items: a dot would
// be a path step, so it is written as "~", which no item code holds
// (refPattern).
func itemName(itemCode string) string        { return strings.ReplaceAll(itemCode, ".", "~") }
func itemCodeOf(name string) string          { return strings.ReplaceAll(name, "~", ".") }
func itemField(itemCode string) string       { return "items." + itemName(itemCode) }
func (u *userDoc) holder(item string) string { return u.Items[itemName(item)] }

// takeActiveTries bounds TakeActive's retries when its write and the read
// that explains a refusal disagree (another of the user's bookings changed
// the document in between).
const takeActiveTries = 3

// TakeActive implements Store with one guarded upsert that returns the
// document (its no-shows). When the user's document exists and refuses (the
// item is held, or active >= max), the upsert's insert collides on _id; a
// read of the document then says which.
func (s *MongoStore) TakeActive(ctx context.Context, userID, itemCode, bookingID string, max int, at time.Time) ([]time.Time, error) {
	field := itemField(itemCode)
	for try := 1; ; try++ {
		var u userDoc
		err := s.users.FindOneAndUpdate(ctx,
			bson.D{{Key: "_id", Value: userDocID(userID)}, {Key: "active", Value: bson.D{{Key: "$lt", Value: max}}},
				{Key: field, Value: bson.D{{Key: "$exists", Value: false}}}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "active", Value: 1}}},
				{Key: "$set", Value: bson.D{{Key: field, Value: bookingID}, {Key: "changed_at", Value: at}}}},
			options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&u)
		if err == nil {
			return u.noShowTimes(), nil
		}
		if !mongox.IsDuplicateKey(err) {
			return nil, err
		}
		var now userDoc
		if err := s.users.FindOne(ctx, byID(userDocID(userID))).Decode(&now); err != nil && !mongox.IsNoDocuments(err) {
			return nil, err
		}
		switch {
		case now.holder(itemCode) != "":
			return nil, ErrDuplicateItem
		case now.Active >= max || try >= takeActiveTries:
			return nil, ErrTooMany
		}
		// Neither: a concurrent write of the user's document (a first
		// booking's insert, a release) came between; try again.
	}
}

func (u *userDoc) noShowTimes() []time.Time {
	out := make([]time.Time, 0, len(u.NoShows))
	for _, n := range u.NoShows {
		out = append(out, n.At)
	}
	return out
}

// ReleaseActive implements Store: the item key and the place together, only
// while the key still names bookingID (the undo of TakeActive).
func (s *MongoStore) ReleaseActive(ctx context.Context, userID, itemCode, bookingID string, at time.Time) error {
	field := itemField(itemCode)
	_, err := s.users.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: userDocID(userID)}, {Key: field, Value: bookingID}, {Key: "active", Value: bson.D{{Key: "$gt", Value: 0}}}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: field, Value: ""}}}, {Key: "$inc", Value: bson.D{{Key: "active", Value: -1}}},
			{Key: "$set", Value: bson.D{{Key: "changed_at", Value: at}}}})
	return err
}

// TakeActiveItem implements Store: sets the key when the item is free.
func (s *MongoStore) TakeActiveItem(ctx context.Context, userID, itemCode, bookingID string) error {
	field := itemField(itemCode)
	_, err := s.users.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: userDocID(userID)}, {Key: field, Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: field, Value: bookingID}}}, {Key: "$setOnInsert", Value: bson.D{{Key: "active", Value: 0}}}},
		options.UpdateOne().SetUpsert(true))
	if mongox.IsDuplicateKey(err) {
		return ErrDuplicateItem
	}
	return err
}

// ReleaseActiveItem implements Store.
func (s *MongoStore) ReleaseActiveItem(ctx context.Context, userID, itemCode, bookingID string) error {
	field := itemField(itemCode)
	_, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: userDocID(userID)}, {Key: field, Value: bookingID}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: field, Value: ""}}}})
	return err
}

// ActiveItemHolder implements Store.
func (s *MongoStore) ActiveItemHolder(ctx context.Context, userID, itemCode string) (string, bool, error) {
	var u userDoc
	err := s.users.FindOne(ctx, byID(userDocID(userID))).Decode(&u)
	if mongox.IsNoDocuments(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	h := u.holder(itemCode)
	return h, h != "", nil
}

// ReleaseActivePlace implements Store.
func (s *MongoStore) ReleaseActivePlace(ctx context.Context, userID string, at time.Time) error {
	_, err := s.users.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: userDocID(userID)}, {Key: "active", Value: bson.D{{Key: "$gt", Value: 0}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "active", Value: -1}}}, {Key: "$set", Value: bson.D{{Key: "changed_at", Value: at}}}})
	return err
}

// ActiveItemKeys implements AuditStore.
func (s *MongoStore) ActiveItemKeys(ctx context.Context) ([]ActiveItemKey, error) {
	cur, err := s.users.Find(ctx, bson.D{{Key: "items", Value: bson.D{{Key: "$exists", Value: true}}}},
		options.Find().SetProjection(bson.D{{Key: "items", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []userDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := []ActiveItemKey{}
	for _, d := range docs {
		for name, id := range d.Items {
			out = append(out, ActiveItemKey{UserID: strings.TrimPrefix(d.ID, "user:"), ItemCode: itemCodeOf(name), BookingID: id})
		}
	}
	return out, nil
}

// moveLegacyActiveKeys moves active-item keys of the earlier layout (one
// document active:<user>:<item> in booking_keys each) into their users'
// documents, once, at start-up: the new key first, then the old one goes,
// so a crash in between only repeats the move. The active count was
// already in the user's document.
func (s *MongoStore) moveLegacyActiveKeys(ctx context.Context) error {
	cur, err := s.keys.Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("booking: legacy keys: %w", err)
	}
	var keys []struct {
		ID        string `bson:"_id"`
		BookingID string `bson:"booking_id"`
	}
	if err := cur.All(ctx, &keys); err != nil {
		return fmt.Errorf("booking: legacy keys: %w", err)
	}
	for _, k := range keys {
		// active:<user>:<item>; neither a user id nor an item code holds a colon.
		user, item, ok := strings.Cut(strings.TrimPrefix(k.ID, "active:"), ":")
		if !ok || !strings.HasPrefix(k.ID, "active:") {
			continue
		}
		if err := s.TakeActiveItem(ctx, user, item, k.BookingID); err != nil && !errors.Is(err, ErrDuplicateItem) {
			return fmt.Errorf("booking: legacy key %s: %w", k.ID, err)
		}
		if _, err := s.keys.DeleteOne(ctx, byID(k.ID)); err != nil {
			return fmt.Errorf("booking: legacy key %s: %w", k.ID, err)
		}
	}
	return nil
}
