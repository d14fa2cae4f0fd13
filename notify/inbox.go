package notify

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// InboxSummary is how many of a user's inbox messages are unread and which
// are the newest of them, kept next to the messages so that a badge and the
// home screen read one document by _id instead of listing the inbox (which
// the embedded FerretDB does by reading every message of every user).
type InboxSummary struct {
	Unread int `bson:"unread"`
	// Recent are message ids (dedup ids) of unread messages, oldest first;
	// kept to the newest recentKept when read.
	Recent  []string  `bson:"recent"`
	BuiltAt time.Time `bson:"built_at"`
}

// recentKept is how many of the newest unread messages a summary keeps.
const recentKept = 20

// inboxRebuildAfter: the summary is counted again from the messages this
// often (a crash between a message's write and its summary's leaves it a
// message off until then).
const inboxRebuildAfter = time.Hour

// inboxKey is the _id of a user's summary in the counters collection.
func inboxKey(userID string) string { return "inbox:" + userID }

// InboxSummary implements Store; found false when there is none.
func (s *MongoStore) InboxSummary(ctx context.Context, userID string) (InboxSummary, bool, error) {
	var sum InboxSummary
	err := s.counters.FindOne(ctx, bson.D{{Key: "_id", Value: inboxKey(userID)}}).Decode(&sum)
	if mongox.IsNoDocuments(err) {
		return InboxSummary{}, false, nil
	}
	if err != nil {
		return InboxSummary{}, false, storeErr("inbox summary", err)
	}
	return sum, true, nil
}

// PutInboxSummary implements Store: the summary counted from the messages.
func (s *MongoStore) PutInboxSummary(ctx context.Context, userID string, sum InboxSummary) error {
	if sum.Recent == nil {
		sum.Recent = []string{}
	}
	_, err := s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: inboxKey(userID)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "unread", Value: sum.Unread}, {Key: "recent", Value: sum.Recent},
			{Key: "built_at", Value: sum.BuiltAt.UTC()}}}}, options.UpdateOne().SetUpsert(true))
	if mongox.IsDuplicateKey(err) {
		return s.PutInboxSummary(ctx, userID, sum)
	}
	if err != nil {
		return storeErr("put inbox summary", err)
	}
	return nil
}

// TrimInboxSummary implements Store: drops ids from the summary's recent list.
func (s *MongoStore) TrimInboxSummary(ctx context.Context, userID string, ids []string) error {
	_, err := s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: inboxKey(userID)}},
		bson.D{{Key: "$pullAll", Value: bson.D{{Key: "recent", Value: ids}}}})
	if err != nil {
		return storeErr("trim inbox summary", err)
	}
	return nil
}

// noteInboxMessage counts a new inbox message in its user's summary (when
// there is one: a missing summary is counted from the messages when read).
// A failure leaves the summary a message off until it is counted again.
func (s *MongoStore) noteInboxMessage(ctx context.Context, m *Message) {
	if !m.Inbox || m.ReadAt != nil {
		return
	}
	_, _ = s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: inboxKey(m.UserID)}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "unread", Value: 1}}},
			{Key: "$push", Value: bson.D{{Key: "recent", Value: m.ID}}}})
}

// noteInboxRead takes a message that was just read off its user's summary.
func (s *MongoStore) noteInboxRead(ctx context.Context, m *Message) {
	_, _ = s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: inboxKey(m.UserID)}, {Key: "unread", Value: bson.D{{Key: "$gt", Value: 0}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "unread", Value: -1}}},
			{Key: "$pull", Value: bson.D{{Key: "recent", Value: m.ID}}}})
}

// ForgetInboxSummaries deletes the summaries of both persons of a merge (a
// step of identity's merge, after the messages moved): each is counted
// again when next read. Repeating it is harmless.
func (s *MongoStore) ForgetInboxSummaries(ctx context.Context, from, to string) (int64, error) {
	var n int64
	for _, u := range []string{from, to} { // by _id each: FerretDB reads every document for an $in
		res, err := s.counters.DeleteOne(ctx, bson.D{{Key: "_id", Value: inboxKey(u)}})
		if err != nil {
			return n, storeErr("forget inbox summaries", err)
		}
		n += res.DeletedCount
	}
	return n, nil
}
