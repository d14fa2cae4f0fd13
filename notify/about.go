package notify

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// AboutLimit bounds RemindersAbout: a case's file shows its recent reminders.
const AboutLimit = 30

// UnreadCountCap is the largest unread count Unread reports (shown as 99+).
const UnreadCountCap = 99

// RemindersAbout returns the user's reminders about the given subjects
// ("case:<id>", "booking:<id>", "payment:<code>", "shipment:<id>", as the
// events name them), whatever became of them (sent, failed, waiting, only
// in the inbox), newest first, at most AboutLimit; reminders no longer due
// (cancelled) are left out. For the views of a case's file.
func (s *Service) RemindersAbout(ctx context.Context, userID string, subjects []string) ([]Message, error) {
	if userID == "" || len(subjects) == 0 {
		return []Message{}, nil
	}
	return s.store.About(ctx, userID, subjects, AboutLimit)
}

// Unread returns the user's newest unread inbox messages (at most limit)
// and how many are unread, counted up to UnreadCountCap. It reads the
// user's inbox summary and the messages it names by _id; a summary missing
// or older than inboxRebuildAfter is counted again from the messages first.
func (s *Service) Unread(ctx context.Context, userID string, limit int) ([]Message, int, error) {
	if limit <= 0 || limit > PageSize {
		limit = PageSize
	}
	sum, found, err := s.store.InboxSummary(ctx, userID)
	if err != nil {
		return nil, 0, err
	}
	if now := s.clock(); !found || now.Sub(sum.BuiltAt) > inboxRebuildAfter {
		ids, err := s.store.UnreadIDs(ctx, userID, UnreadCountCap)
		if err != nil {
			return nil, 0, err
		}
		sum = InboxSummary{Unread: len(ids), Recent: make([]string, 0, min(len(ids), recentKept)), BuiltAt: now}
		for i := min(len(ids), recentKept) - 1; i >= 0; i-- { // oldest first
			sum.Recent = append(sum.Recent, ids[i])
		}
		if err := s.store.PutInboxSummary(ctx, userID, sum); err != nil {
			return nil, 0, err
		}
	}
	if extra := len(sum.Recent) - recentKept; extra > 0 {
		_ = s.store.TrimInboxSummary(ctx, userID, sum.Recent[:extra]) // best effort: trimmed on a later read
		sum.Recent = sum.Recent[extra:]
	}
	var want []string
	for i := len(sum.Recent) - 1; i >= 0 && len(want) < limit; i-- {
		want = append(want, sum.Recent[i])
	}
	list, err := s.store.MessagesByID(ctx, want)
	if err != nil {
		return nil, 0, err
	}
	shown := list[:0]
	for _, m := range list {
		if m.ReadAt == nil && m.UserID == userID {
			shown = append(shown, m)
		}
	}
	return shown, min(max(sum.Unread, len(shown)), UnreadCountCap), nil
}

// subjectPattern matches a subject and the subjects derived from it (a
// reminder of one slot "booking:<id>@<unix>", a supplement round
// "case:<id>#<hash>", a refund "payment:<code>#<refund>").
func subjectPattern(subjects []string) string {
	quoted := make([]string, 0, len(subjects))
	for _, s := range subjects {
		quoted = append(quoted, regexp.QuoteMeta(s))
	}
	return "^(" + strings.Join(quoted, "|") + ")([#@]|$)"
}

// About implements Store (the user_id index, then the subjects).
func (s *MongoStore) About(ctx context.Context, userID string, subjects []string, limit int) ([]Message, error) {
	filter := bson.D{{Key: "user_id", Value: userID},
		{Key: "subject", Value: bson.D{{Key: "$regex", Value: subjectPattern(subjects)}}},
		{Key: "state", Value: bson.D{{Key: "$ne", Value: StateCancelled}}}}
	return s.list(ctx, filter, "created_at", limit)
}

// UnreadIDs implements Store: ids only, so counting reads no message bodies.
func (s *MongoStore) UnreadIDs(ctx context.Context, userID string, limit int) ([]string, error) {
	cur, err := s.messages.Find(ctx,
		bson.D{{Key: "user_id", Value: userID}, {Key: "inbox", Value: true}, {Key: "read_at", Value: nil}},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "pid", Value: -1}}).
			SetProjection(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, storeErr("unread messages", err)
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, storeErr("unread messages", err)
	}
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.ID)
	}
	return out, nil
}

// MessagesByID implements Store: one read by _id each (a filter on _id
// with $in reads every message on the embedded FerretDB), newest first.
func (s *MongoStore) MessagesByID(ctx context.Context, ids []string) ([]Message, error) {
	out := make([]Message, 0, len(ids))
	for _, id := range ids {
		m, err := s.Message(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	slices.SortStableFunc(out, func(a, b Message) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}
