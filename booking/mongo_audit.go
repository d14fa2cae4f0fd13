package booking

import (
	"context"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// SlotCountersFrom implements AuditStore.
func (s *MongoStore) SlotCountersFrom(ctx context.Context, from time.Time) ([]SlotCounter, error) {
	cur, err := s.slots.Find(ctx, bson.D{{Key: "start", Value: bson.D{{Key: "$gte", Value: from}}}})
	if err != nil {
		return nil, err
	}
	out := []SlotCounter{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// auditProjection keeps what the checks read: a booking's timeline and
// outbox are most of its bytes.
var auditProjection = bson.D{
	{Key: "user_id", Value: 1}, {Key: "hall_id", Value: 1}, {Key: "item_code", Value: 1},
	{Key: "slot_start", Value: 1}, {Key: "slot_end", Value: 1}, {Key: "status", Value: 1},
	{Key: "version", Value: 1}, {Key: "updated_at", Value: 1},
}

// AuditBookings implements AuditStore with one query; each part of the $or
// has an index (status and slot_end; updated_at).
func (s *MongoStore) AuditBookings(ctx context.Context, q AuditQuery) ([]*Booking, error) {
	var or bson.A
	if q.Confirmed {
		or = append(or, bson.D{{Key: "status", Value: string(StatusConfirmed)}})
	}
	if !q.HoldingFrom.IsZero() {
		// A slot ends after it starts: slot_end narrows by index, slot_start decides.
		or = append(or, bson.D{
			{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{string(StatusConfirmed), string(StatusCheckedIn), string(StatusNoShow)}}}},
			{Key: "slot_end", Value: bson.D{{Key: "$gt", Value: q.HoldingFrom}}},
			{Key: "slot_start", Value: bson.D{{Key: "$gte", Value: q.HoldingFrom}}},
		})
	}
	if !q.NoShowsFrom.IsZero() {
		or = append(or, bson.D{{Key: "status", Value: string(StatusNoShow)}, {Key: "slot_end", Value: bson.D{{Key: "$gte", Value: q.NoShowsFrom}}}})
	}
	if !q.WrittenSince.IsZero() {
		or = append(or, bson.D{{Key: "updated_at", Value: bson.D{{Key: "$gte", Value: q.WrittenSince}}}})
	}
	out := []*Booking{}
	if len(or) == 0 {
		return out, nil
	}
	cur, err := s.bookings.Find(ctx, bson.D{{Key: "$or", Value: or}}, options.Find().SetProjection(auditProjection))
	if err != nil {
		return nil, err
	}
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// ActiveCounts implements AuditStore.
func (s *MongoStore) ActiveCounts(ctx context.Context, userIDs []string) ([]ActiveCount, error) {
	ids := make(bson.A, len(userIDs))
	for i, u := range userIDs {
		ids[i] = userDocID(u)
	}
	cur, err := s.users.Find(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "active", Value: bson.D{{Key: "$gt", Value: 0}}}},
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
	}}}, options.Find().SetProjection(bson.D{{Key: "active", Value: 1}, {Key: "changed_at", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []userDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	out := make([]ActiveCount, 0, len(userIDs))
	found := map[string]bool{}
	for _, d := range docs {
		u := strings.TrimPrefix(d.ID, "user:")
		found[u] = true
		out = append(out, ActiveCount{UserID: u, Active: d.Active, ChangedAt: d.ChangedAt, Exists: true})
	}
	for _, u := range userIDs {
		if !found[u] {
			out = append(out, ActiveCount{UserID: u})
		}
	}
	return out, nil
}

// NoShowRecords implements AuditStore.
func (s *MongoStore) NoShowRecords(ctx context.Context, userIDs []string) (map[string]map[string]bool, error) {
	out := make(map[string]map[string]bool, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	ids := make(bson.A, len(userIDs))
	for i, u := range userIDs {
		ids[i] = userDocID(u)
	}
	cur, err := s.users.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "no_shows", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []userDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	for _, d := range docs {
		set := map[string]bool{}
		for _, n := range d.NoShows {
			set[n.BookingID] = true
		}
		out[strings.TrimPrefix(d.ID, "user:")] = set
	}
	return out, nil
}

// changedAsRead matches a document whose changed_at is still what was read
// (absent when the read found none).
func changedAsRead(t time.Time) bson.E {
	if t.IsZero() {
		return bson.E{Key: "changed_at", Value: bson.D{{Key: "$exists", Value: false}}}
	}
	return bson.E{Key: "changed_at", Value: t}
}

// SetSlotTaken implements AuditStore.
func (s *MongoStore) SetSlotTaken(ctx context.Context, read SlotCounter, taken int) (bool, error) {
	return s.slots.UpdateIfMatched(ctx,
		bson.D{{Key: "_id", Value: read.ID}, {Key: "taken", Value: read.Taken}, changedAsRead(read.ChangedAt)},
		bson.D{{Key: "$set", Value: bson.D{{Key: "taken", Value: taken}}}})
}

// InsertSlotCounter implements AuditStore.
func (s *MongoStore) InsertSlotCounter(ctx context.Context, c SlotCounter) (bool, error) {
	_, err := s.slots.InsertOne(ctx, c)
	if mongox.IsDuplicateKey(err) {
		return false, nil
	}
	return err == nil, err
}

// SetActiveCount implements AuditStore.
func (s *MongoStore) SetActiveCount(ctx context.Context, read ActiveCount, active int) (bool, error) {
	if !read.Exists {
		_, err := s.users.InsertOne(ctx, bson.D{{Key: "_id", Value: userDocID(read.UserID)}, {Key: "active", Value: active}})
		if mongox.IsDuplicateKey(err) {
			return false, nil
		}
		return err == nil, err
	}
	return s.users.UpdateIfMatched(ctx,
		bson.D{{Key: "_id", Value: userDocID(read.UserID)}, {Key: "active", Value: read.Active}, changedAsRead(read.ChangedAt)},
		bson.D{{Key: "$set", Value: bson.D{{Key: "active", Value: active}}}})
}
