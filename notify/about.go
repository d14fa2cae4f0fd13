package notify

import (
	"context"
	"regexp"
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
// and how many are unread, counted up to UnreadCountCap.
func (s *Service) Unread(ctx context.Context, userID string, limit int) ([]Message, int, error) {
	if limit <= 0 || limit > PageSize {
		limit = PageSize
	}
	ids, err := s.store.UnreadIDs(ctx, userID, UnreadCountCap)
	if err != nil || len(ids) == 0 {
		return []Message{}, 0, err
	}
	count := len(ids)
	list, err := s.store.MessagesByID(ctx, ids[:min(limit, count)])
	if err != nil {
		return nil, 0, err
	}
	return list, count, nil
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

// MessagesByID implements Store, newest first.
func (s *MongoStore) MessagesByID(ctx context.Context, ids []string) ([]Message, error) {
	return s.list(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, "created_at", len(ids))
}
