package booking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// ReassignUser gives every booking of from to to, when a merge of persons
// made them one (identity calls it through bff), and then merges what
// counts bookings per user: the active-item keys move, to's active count
// and no-show record are recomputed from the bookings to now holds, and
// from's record goes. Each part filters on from or recomputes, so running
// it again after a crash moves only what is left and counts nothing twice.
// Returns how many bookings moved.
//
// If both held a confirmed booking of one item, to keeps its own key and
// the self-check reports the pair (booking.active_items) for a person to
// cancel one: neither booking is cancelled behind the citizen's back.
func (s *MongoStore) ReassignUser(ctx context.Context, from, to string) (int64, error) {
	now := time.Now().UTC()
	// updated_at marks the bookings as just written, so the self-check
	// leaves their counters alone while the merge is under way.
	res, err := s.bookings.UpdateMany(ctx, bson.D{{Key: "user_id", Value: from}}, bson.D{
		{Key: "$set", Value: bson.D{{Key: "user_id", Value: to}, {Key: "updated_at", Value: now}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
	})
	if err != nil {
		return 0, fmt.Errorf("booking: reassign bookings: %w", err)
	}
	if err := s.moveActiveItems(ctx, from, to); err != nil {
		return 0, err
	}
	if err := s.recountUser(ctx, to, now); err != nil {
		return 0, err
	}
	if _, err := s.users.DeleteOne(ctx, byID(userDocID(from))); err != nil {
		return 0, fmt.Errorf("booking: reassign: drop the old record: %w", err)
	}
	return res.ModifiedCount, nil
}

// moveActiveItems moves from's active-item keys to to: the new key first,
// then the old one goes (only if it still names the same booking).
func (s *MongoStore) moveActiveItems(ctx context.Context, from, to string) error {
	var u userDoc
	err := s.users.FindOne(ctx, byID(userDocID(from))).Decode(&u)
	if mongox.IsNoDocuments(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("booking: reassign keys: %w", err)
	}
	for name, bookingID := range u.Items {
		item := itemCodeOf(name)
		if err := s.TakeActiveItem(ctx, to, item, bookingID); err != nil && !errors.Is(err, ErrDuplicateItem) {
			return fmt.Errorf("booking: reassign key %s: %w", activeKey(from, item), err)
		}
		if err := s.ReleaseActiveItem(ctx, from, item, bookingID); err != nil {
			return fmt.Errorf("booking: reassign key %s: %w", activeKey(from, item), err)
		}
	}
	return nil
}

// recountUser sets userID's active count to its confirmed bookings and
// records each of its no-shows (once per booking).
func (s *MongoStore) recountUser(ctx context.Context, userID string, at time.Time) error {
	active, err := s.bookings.CountDocuments(ctx, bson.D{{Key: "user_id", Value: userID}, {Key: "status", Value: string(StatusConfirmed)}})
	if err != nil {
		return fmt.Errorf("booking: reassign: count active: %w", err)
	}
	if _, err := s.users.UpdateOne(ctx, byID(userDocID(userID)),
		bson.D{
			{Key: "$set", Value: bson.D{{Key: "active", Value: active}, {Key: "changed_at", Value: at}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "no_shows", Value: bson.A{}}}},
		}, options.UpdateOne().SetUpsert(true)); err != nil {
		return fmt.Errorf("booking: reassign: set active: %w", err)
	}
	noShows, err := s.findBookings(ctx, bson.D{{Key: "user_id", Value: userID}, {Key: "status", Value: string(StatusNoShow)}},
		bson.D{{Key: "slot_start", Value: 1}}, 0)
	if err != nil {
		return fmt.Errorf("booking: reassign: no-shows: %w", err)
	}
	for _, b := range noShows {
		if err := s.RecordNoShow(ctx, userID, b.ID, b.SlotStart); err != nil {
			return fmt.Errorf("booking: reassign: record no-show: %w", err)
		}
	}
	return nil
}
