package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/mongox"
)

// Session is one staff member signed in to the console in one browser.
//
// The record is the console's own (collection console_sessions) rather
// than identity's refresh-token family: a refresh token is spent on every
// use and a second use revokes its family, so two tabs posting at once
// would sign each other out, and an idle timeout would need a rotation on
// every page. The login still goes through identity (same passwords, same
// lockout) and opens a session family there, which logout revokes, so
// identity keeps the record of every staff sign-in.
type Session struct {
	// ID is the SHA-256 of the cookie's token: the database never holds a
	// value that would sign anyone in.
	ID string `bson:"_id"`
	// Ref names the session to admins (the sessions page) without its secret.
	Ref         string `bson:"ref"`
	UserID      string `bson:"user_id"`
	Username    string `bson:"username"`
	DisplayName string `bson:"display_name,omitempty"`
	Roles       string `bson:"roles"` // at login, for the admins' list; pages read the account's current roles
	// FamilyID is the identity session family the login opened.
	FamilyID string `bson:"family_id"`
	// CSRF is the synchronizer token every form of this session carries.
	CSRF      string    `bson:"csrf"`
	IP        string    `bson:"ip,omitempty"`
	UserAgent string    `bson:"user_agent,omitempty"`
	CreatedAt time.Time `bson:"created_at"`
	SeenAt    time.Time `bson:"seen_at"`
	// IdleUntil moves on with use; ExpiresAt never does.
	IdleUntil time.Time `bson:"idle_until"`
	ExpiresAt time.Time `bson:"expires_at"`
	// Hotline is the operator's last audited search: the call's ticket and
	// the cases it found. Only those cases open, under that ticket.
	Hotline *HotlineSearch `bson:"hotline,omitempty"`
}

// HotlineSearch is a hotline operator's last audited search in a session.
type HotlineSearch struct {
	Ticket  string   `bson:"ticket"`
	CaseIDs []string `bson:"case_ids"`
}

// live reports whether the session may still be used at now.
func (s *Session) live(now time.Time) bool { return now.Before(s.IdleUntil) && now.Before(s.ExpiresAt) }

// SessionStore keeps console sessions in MongoDB (collection
// console_sessions). Each request is one read by _id; the idle deadline is
// moved by one update at most every touchEvery.
type SessionStore struct{ coll *mongox.Collection }

// SessionsCollection is the collection of console sessions.
const SessionsCollection = "console_sessions"

// NewSessionStore uses db's console_sessions collection.
func NewSessionStore(db *mongo.Database) *SessionStore {
	return &SessionStore{coll: mongox.C(db, SessionsCollection)}
}

// EnsureIndexes creates the indexes of the admins' list, force-logout by
// ref and the purge of expired sessions; idempotent.
func (s *SessionStore) EnsureIndexes(ctx context.Context) error {
	return s.coll.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "ref", Value: 1}}, Options: options.Index().SetUnique(true)},
		mongo.IndexModel{Keys: bson.D{{Key: "idle_until", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "user_id", Value: 1}}},
	)
}

// newToken is 32 random bytes, URL-safe: a cookie value or a CSRF token.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newRef() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sessionID is the stored id of a cookie token.
func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Create stores a new session and returns the cookie token that names it.
func (s *SessionStore) Create(ctx context.Context, sess *Session) (token string, err error) {
	token = newToken()
	sess.ID, sess.Ref, sess.CSRF = sessionID(token), newRef(), newToken()
	if _, err := s.coll.InsertOne(ctx, sess); err != nil {
		return "", err
	}
	return token, nil
}

// ByToken returns the session a cookie token names, or nil when there is
// none (never was, logged out, forced out or purged).
func (s *SessionStore) ByToken(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 128 {
		return nil, nil
	}
	var sess Session
	err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: sessionID(token)}}).Decode(&sess)
	if mongox.IsNoDocuments(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

// Touch records use at now and moves the idle deadline.
func (s *SessionStore) Touch(ctx context.Context, id string, now, idleUntil time.Time) error {
	_, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "seen_at", Value: now}, {Key: "idle_until", Value: idleUntil}}}})
	return err
}

// SetHotline records the operator's last audited search.
func (s *SessionStore) SetHotline(ctx context.Context, id string, h HotlineSearch) error {
	if h.CaseIDs == nil {
		h.CaseIDs = []string{}
	}
	_, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "hotline", Value: h}}}})
	return err
}

// Delete ends a session (logout, timeout).
func (s *SessionStore) Delete(ctx context.Context, id string) error {
	_, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return err
}

// DeleteByRef ends the session an admin names, and returns it (nil when
// it was already gone).
func (s *SessionStore) DeleteByRef(ctx context.Context, ref string) (*Session, error) {
	var sess Session
	err := s.coll.FindOneAndDelete(ctx, bson.D{{Key: "ref", Value: ref}}).Decode(&sess)
	if mongox.IsNoDocuments(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &sess, nil
}

// Live lists the sessions still usable at now, most recently used first, at most limit.
func (s *SessionStore) Live(ctx context.Context, now time.Time, limit int) ([]Session, error) {
	cur, err := s.coll.Find(ctx, bson.D{
		{Key: "idle_until", Value: bson.D{{Key: "$gt", Value: now}}},
		{Key: "expires_at", Value: bson.D{{Key: "$gt", Value: now}}},
	}, options.Find().SetSort(bson.D{{Key: "seen_at", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	out := []Session{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// PurgeExpired deletes sessions no longer usable at now (the embedded
// MongoDB has no TTL indexes: the daily housekeeping job calls this).
func (s *SessionStore) PurgeExpired(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.coll.DeleteMany(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "idle_until", Value: bson.D{{Key: "$lte", Value: now}}}},
		bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lte", Value: now}}}},
	}}})
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}
