package notify

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/apperr"
	"zwfw/platform/mongox"
)

// Collection names of the notify store.
const (
	MessagesCollection = "notify_messages" // _id dedup:<user>:<rule>:<subject>
	PrefsCollection    = "notify_prefs"    // settings:<user>, consent:<user>:<tmpl>, device:<user>:<reg id>
	CountersCollection = "notify_counters" // rate:<user>:<day>:<channel|all>
)

// maxConsents caps the accepted-but-unused sends per template: WeChat keeps
// at most a few dozen, and the counter only has to be an upper bound.
const maxConsents = 50

// MongoStore implements Store on MongoDB. Hot paths go by deterministic
// _id; guarded writes run inside mongox.Guarded.
type MongoStore struct {
	messages, prefs, counters *mongox.Collection
	failed                    *failedIndex // the admins' list of failed messages (failedindex.go)
}

// NewMongoStore uses db's notify collections.
func NewMongoStore(db *mongo.Database) *MongoStore {
	return &MongoStore{messages: mongox.C(db, MessagesCollection), prefs: mongox.C(db, PrefsCollection),
		counters: mongox.C(db, CountersCollection), failed: newFailedIndex(db)}
}

// EnsureIndexes creates the secondary indexes; idempotent, call at start-up.
func (s *MongoStore) EnsureIndexes(ctx context.Context) error {
	if err := s.messages.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "inbox", Value: 1}, {Key: "created_at", Value: -1}, {Key: "pid", Value: -1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "pid", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "state", Value: 1}, {Key: "updated_at", Value: -1}}},
	); err != nil {
		return fmt.Errorf("notify: ensure indexes: %w", err)
	}
	if err := s.prefs.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "kind", Value: 1}}}); err != nil {
		return fmt.Errorf("notify: ensure indexes: %w", err)
	}
	return s.ensureFailedIndex(ctx)
}

func storeErr(op string, err error) error {
	return apperr.Internal.WithCause(fmt.Errorf("notify: %s: %w", op, err))
}

// Message implements Store.
func (s *MongoStore) Message(ctx context.Context, id string) (*Message, error) {
	var m Message
	err := s.messages.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&m)
	if mongox.IsNoDocuments(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, storeErr("get message", err)
	}
	return &m, nil
}

// InsertMessage implements Store: a plain insert, atomic on every store.
func (s *MongoStore) InsertMessage(ctx context.Context, m *Message) (*Message, bool, error) {
	if m.Attempts == nil {
		m.Attempts = []Attempt{}
	}
	if err := s.noteAbout(ctx, m); err != nil { // first: see noteAbout
		return nil, false, err
	}
	if m.State == StateFailed { // indexed before it exists (see FailedCollection)
		if err := s.failed.note(ctx, m.ID, m.PublicID, m.UpdatedAt); err != nil {
			return nil, false, err
		}
	}
	if _, err := s.messages.InsertOne(ctx, m); err != nil {
		if mongox.IsDuplicateKey(err) {
			existing, gerr := s.Message(ctx, m.ID)
			return existing, false, gerr
		}
		return nil, false, storeErr("insert message", err)
	}
	s.noteInboxMessage(ctx, m)
	return m, true, nil
}

// ClaimMessage implements Store.
func (s *MongoStore) ClaimMessage(ctx context.Context, id, owner string, now, until time.Time) (*Message, bool, error) {
	filter := bson.D{{Key: "_id", Value: id}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "state", Value: bson.D{{Key: "$in", Value: bson.A{StatePending, StateDeferred}}}}},
		bson.D{{Key: "state", Value: StateSending}, {Key: "lease_until", Value: bson.D{{Key: "$lt", Value: now}}}},
		bson.D{{Key: "state", Value: StateSending}, {Key: "lease_owner", Value: owner}},
	}}}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: StateSending}, {Key: "lease_owner", Value: owner},
		{Key: "lease_until", Value: until}, {Key: "updated_at", Value: now}}}}
	var m Message
	err := s.messages.FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&m)
	if mongox.IsNoDocuments(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, storeErr("claim message", err)
	}
	return &m, true, nil
}

// ReleaseMessage implements Store. A message failing is indexed for the
// admins' list first (see FailedCollection); if that fails nothing changes
// and the error has the send job retried.
func (s *MongoStore) ReleaseMessage(ctx context.Context, id, owner string, u MessageUpdate) error {
	if u.State == StateFailed {
		m, err := s.Message(ctx, id)
		if err != nil {
			return err
		}
		if err := s.failed.note(ctx, id, m.PublicID, u.At); err != nil {
			return err
		}
	}
	set := bson.D{{Key: "state", Value: u.State}, {Key: "attempts", Value: u.Attempts},
		{Key: "lease_owner", Value: ""}, {Key: "updated_at", Value: u.At}}
	if u.Channel != "" {
		set = append(set, bson.E{Key: "channel", Value: u.Channel})
	}
	if u.DeferredUntil != nil {
		set = append(set, bson.E{Key: "deferred_until", Value: *u.DeferredUntil})
	}
	res, err := s.messages.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "state", Value: StateSending}, {Key: "lease_owner", Value: owner}},
		bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return storeErr("release message", err)
	}
	if res.MatchedCount == 0 {
		return apperr.Conflict.WithCause(fmt.Errorf("notify: lease on %s lost", id))
	}
	return nil
}

// CancelMessage implements Store.
func (s *MongoStore) CancelMessage(ctx context.Context, id string, now time.Time) error {
	_, err := s.messages.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "state", Value: bson.D{{Key: "$in", Value: bson.A{StatePending, StateDeferred}}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: StateCancelled}, {Key: "updated_at", Value: now}}}})
	if err != nil {
		return storeErr("cancel message", err)
	}
	return nil
}

// olderThan matches documents strictly after c in (timeField, pid) descending order.
func olderThan(c PageCursor, timeField string) bson.D {
	if c.At.IsZero() {
		return nil
	}
	return bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: timeField, Value: bson.D{{Key: "$lt", Value: c.At}}}},
		bson.D{{Key: timeField, Value: c.At}, {Key: "pid", Value: bson.D{{Key: "$lt", Value: c.ID}}}},
	}}}
}

func (s *MongoStore) list(ctx context.Context, filter bson.D, timeField string, limit int) ([]Message, error) {
	cur, err := s.messages.Find(ctx, filter, options.Find().
		SetSort(bson.D{{Key: timeField, Value: -1}, {Key: "pid", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, storeErr("list messages", err)
	}
	var out []Message
	if err := cur.All(ctx, &out); err != nil {
		return nil, storeErr("list messages", err)
	}
	return out, nil
}

// Inbox implements Store.
func (s *MongoStore) Inbox(ctx context.Context, userID string, c PageCursor, limit int) ([]Message, error) {
	filter := append(bson.D{{Key: "user_id", Value: userID}, {Key: "inbox", Value: true}}, olderThan(c, "created_at")...)
	return s.list(ctx, filter, "created_at", limit)
}

// MarkRead implements Store.
func (s *MongoStore) MarkRead(ctx context.Context, userID, publicID string, now time.Time) (*Message, error) {
	var m Message
	err := s.messages.FindOneAndUpdate(ctx,
		bson.D{{Key: "pid", Value: publicID}, {Key: "user_id", Value: userID}, {Key: "inbox", Value: true}, {Key: "read_at", Value: nil}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "read_at", Value: now}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&m)
	if err == nil {
		s.noteInboxRead(ctx, &m)
	}
	if mongox.IsNoDocuments(err) {
		// Already read, or not the user's: tell them apart with a read.
		err = s.messages.FindOne(ctx, bson.D{{Key: "pid", Value: publicID}, {Key: "user_id", Value: userID}, {Key: "inbox", Value: true}}).Decode(&m)
		if mongox.IsNoDocuments(err) {
			return nil, ErrNotFound
		}
	}
	if err != nil {
		return nil, storeErr("mark read", err)
	}
	return &m, nil
}

type settingsDoc struct {
	ID        string    `bson:"_id"`
	UserID    string    `bson:"user_id"`
	Kind      string    `bson:"kind"`
	Settings  Settings  `bson:"settings"`
	UpdatedAt time.Time `bson:"updated_at"`
}

// Settings implements Store.
func (s *MongoStore) Settings(ctx context.Context, userID string) (Settings, bool, error) {
	var d settingsDoc
	err := s.prefs.FindOne(ctx, bson.D{{Key: "_id", Value: "settings:" + userID}}).Decode(&d)
	if mongox.IsNoDocuments(err) {
		return DefaultSettings(), false, nil
	}
	if err != nil {
		return Settings{}, false, storeErr("get settings", err)
	}
	return d.Settings, true, nil
}

// PutSettings implements Store.
func (s *MongoStore) PutSettings(ctx context.Context, userID string, set Settings, now time.Time) error {
	d := settingsDoc{ID: "settings:" + userID, UserID: userID, Kind: "settings", Settings: set, UpdatedAt: now}
	_, err := s.prefs.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, d, options.Replace().SetUpsert(true))
	if err != nil {
		return storeErr("put settings", err)
	}
	return nil
}

func consentID(userID, templateID string) string { return "consent:" + userID + ":" + templateID }

// AddConsent implements Store.
func (s *MongoStore) AddConsent(ctx context.Context, userID, templateID string, r ConsentResult, now time.Time) error {
	id := consentID(userID, templateID)
	base := bson.D{{Key: "user_id", Value: userID}, {Key: "kind", Value: "consent"}, {Key: "template_id", Value: templateID},
		{Key: "last_result", Value: r}, {Key: "updated_at", Value: now}}
	var filter, update bson.D
	switch r {
	case ConsentAccept:
		// Below the cap only; at the cap the upsert collides with the
		// existing _id, which means "already full".
		filter = bson.D{{Key: "_id", Value: id}, {Key: "count", Value: bson.D{{Key: "$lt", Value: maxConsents}}}}
		update = bson.D{{Key: "$set", Value: base}, {Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}}
	case ConsentBan:
		filter = bson.D{{Key: "_id", Value: id}}
		update = bson.D{{Key: "$set", Value: append(base, bson.E{Key: "count", Value: 0})}}
	default:
		filter = bson.D{{Key: "_id", Value: id}}
		update = bson.D{{Key: "$set", Value: base}, {Key: "$setOnInsert", Value: bson.D{{Key: "count", Value: 0}}}}
	}
	_, err := s.prefs.UpdateOne(ctx, filter, update, options.UpdateOne().SetUpsert(true))
	if err != nil && !mongox.IsDuplicateKey(err) {
		return storeErr("add consent", err)
	}
	return nil
}

// TakeConsent implements Store: a guarded decrement, so two senders cannot
// both use the last consent.
func (s *MongoStore) TakeConsent(ctx context.Context, userID, templateID string) (bool, error) {
	res, err := s.prefs.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: consentID(userID, templateID)}, {Key: "count", Value: bson.D{{Key: "$gt", Value: 0}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: -1}}}})
	if err != nil {
		return false, storeErr("take consent", err)
	}
	return res.ModifiedCount == 1, nil
}

// ReturnConsent implements Store.
func (s *MongoStore) ReturnConsent(ctx context.Context, userID, templateID string) error {
	_, err := s.prefs.UpdateOne(ctx, bson.D{{Key: "_id", Value: consentID(userID, templateID)}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}})
	if err != nil {
		return storeErr("return consent", err)
	}
	return nil
}

// ClearConsent implements Store.
func (s *MongoStore) ClearConsent(ctx context.Context, userID, templateID string, now time.Time) error {
	_, err := s.prefs.UpdateOne(ctx, bson.D{{Key: "_id", Value: consentID(userID, templateID)}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "count", Value: 0}, {Key: "updated_at", Value: now}}}})
	if err != nil {
		return storeErr("clear consent", err)
	}
	return nil
}

// Consents implements Store.
func (s *MongoStore) Consents(ctx context.Context, userID string) (map[string]int, error) {
	cur, err := s.prefs.Find(ctx, bson.D{{Key: "user_id", Value: userID}, {Key: "kind", Value: "consent"}})
	if err != nil {
		return nil, storeErr("list consents", err)
	}
	var docs []struct {
		TemplateID string `bson:"template_id"`
		Count      int    `bson:"count"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, storeErr("list consents", err)
	}
	out := make(map[string]int, len(docs))
	for _, d := range docs {
		out[d.TemplateID] = d.Count
	}
	return out, nil
}

type deviceDoc struct {
	Device `bson:",inline"`
	Kind   string `bson:"kind"`
}

// PutDevice implements Store.
func (s *MongoStore) PutDevice(ctx context.Context, d Device) error {
	d.ID = "device:" + d.UserID + ":" + d.RegistrationID
	_, err := s.prefs.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, deviceDoc{Device: d, Kind: "device"}, options.Replace().SetUpsert(true))
	if err != nil {
		return storeErr("put device", err)
	}
	return nil
}

// Devices implements Store.
func (s *MongoStore) Devices(ctx context.Context, userID string, limit int) ([]Device, error) {
	cur, err := s.prefs.Find(ctx, bson.D{{Key: "user_id", Value: userID}, {Key: "kind", Value: "device"}},
		options.Find().SetSort(bson.D{{Key: "updated_at", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, storeErr("list devices", err)
	}
	var docs []deviceDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, storeErr("list devices", err)
	}
	out := make([]Device, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.Device)
	}
	return out, nil
}

// DeleteDevice implements Store.
func (s *MongoStore) DeleteDevice(ctx context.Context, userID, registrationID string) error {
	_, err := s.prefs.DeleteOne(ctx, bson.D{{Key: "_id", Value: "device:" + userID + ":" + registrationID}})
	if err != nil {
		return storeErr("delete device", err)
	}
	return nil
}

// Take implements Store. The upsert's filter only matches below the limit;
// at the limit it tries to insert the existing _id and the duplicate-key
// error is the answer "limit reached".
func (s *MongoStore) Take(ctx context.Context, key string, limit int, now time.Time) (bool, error) {
	if limit <= 0 {
		return false, nil
	}
	_, err := s.counters.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: key}, {Key: "n", Value: bson.D{{Key: "$lt", Value: limit}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}, {Key: "$set", Value: bson.D{{Key: "updated_at", Value: now}}}},
		options.UpdateOne().SetUpsert(true))
	if mongox.IsDuplicateKey(err) {
		return false, nil
	}
	if err != nil {
		return false, storeErr("take counter", err)
	}
	return true, nil
}

var _ Store = (*MongoStore)(nil)
