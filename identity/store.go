package identity

import (
	"context"
	"time"
)

// UserStore persists users and the keys (WeChat openid, phone index, staff
// username) that lead to them. Implemented by MongoStore and wrapped by UserCache.
type UserStore interface {
	// UserByID returns ErrUserNotFound when there is no such user.
	UserByID(ctx context.Context, id string) (*User, error)
	// EnsureUserForKey returns the user bound to key, creating candidate and
	// binding it when the key is new. Safe under concurrent calls for one key:
	// all of them get the same user.
	EnsureUserForKey(ctx context.Context, key string, candidate *User) (u *User, created bool, err error)
	// BindKey binds one more key to an existing user; binding a key that
	// already leads to another user is a no-op that returns that user's id.
	BindKey(ctx context.Context, key, userID string) (boundTo string, err error)
	// TouchLogin records a login time.
	TouchLogin(ctx context.Context, id string, at time.Time) error
	// SaveUser replaces the user if its stored version is still prevVersion
	// (next.Version must be prevVersion+1); apperr.Conflict when it changed.
	SaveUser(ctx context.Context, next *User, prevVersion int64) error
}

// RefreshToken is one stored refresh token (by hash). A token is used once:
// refreshing marks it used and issues its successor in the same family.
type RefreshToken struct {
	Hash      string     `bson:"_id"`
	FamilyID  string     `bson:"family_id"`
	UserID    string     `bson:"user_id"`
	CreatedAt time.Time  `bson:"created_at"`
	ExpiresAt time.Time  `bson:"expires_at"`
	UsedAt    *time.Time `bson:"used_at"`
}

// SessionFamily is one login: every refresh token descended from it shares
// its id, and revoking it ends them all.
type SessionFamily struct {
	ID     string `bson:"_id"`
	UserID string `bson:"user_id"`
	// Login is the public id of the login the session was opened with
	// ("" for staff): unlinking that login ends its sessions.
	Login     string     `bson:"login,omitempty"`
	CreatedAt time.Time  `bson:"created_at"`
	ExpiresAt time.Time  `bson:"expires_at"`
	RevokedAt *time.Time `bson:"revoked_at"`
	Reason    string     `bson:"revoke_reason,omitempty"`
}

// SessionStore persists session families and refresh tokens.
type SessionStore interface {
	CreateFamily(ctx context.Context, f *SessionFamily) error
	Family(ctx context.Context, id string) (*SessionFamily, error)
	RevokeFamily(ctx context.Context, id, reason string, at time.Time) error
	// LoginFamilies lists the live session families of userID opened with
	// the login (public id).
	LoginFamilies(ctx context.Context, userID, login string) ([]string, error)
	InsertRefresh(ctx context.Context, t *RefreshToken) error
	// UseRefresh atomically marks an unused token used and returns it. When the
	// token exists but was used before, it returns the token and ErrRefreshReused;
	// when it does not exist, ErrRefreshInvalid.
	UseRefresh(ctx context.Context, hash string, at time.Time) (*RefreshToken, error)
	// PurgeExpired deletes tokens and families that expired before cutoff.
	PurgeExpired(ctx context.Context, cutoff time.Time) (int64, error)
}

// SMSCode is the state of login codes sent to one phone: the current code
// (hashed), its expiry and tries, and the send counters that rate-limit it.
type SMSCode struct {
	ID        string    `bson:"_id"` // "login:" + phone blind index
	CodeHash  string    `bson:"code_hash"`
	ExpiresAt time.Time `bson:"expires_at"`
	Tries     int       `bson:"tries"`
	Consumed  bool      `bson:"consumed"`
	SentAt    time.Time `bson:"sent_at"`
	Day       string    `bson:"day"` // Asia/Shanghai date of day_count
	DayCount  int       `bson:"day_count"`
	Version   int64     `bson:"version"`
}

// SMSCodeStore persists SMSCode documents with optimistic concurrency.
type SMSCodeStore interface {
	// SMSCode returns nil, nil when none exists.
	SMSCode(ctx context.Context, id string) (*SMSCode, error)
	// PutSMSCode writes next if the stored version is still prevVersion
	// (0 = must not exist). It returns apperr.Conflict when it lost a race.
	PutSMSCode(ctx context.Context, next *SMSCode, prevVersion int64) error
}

// StaffCredential is a staff login: username, password hash and lockout state.
type StaffCredential struct {
	ID           string     `bson:"_id"` // "staff:" + lower-case username
	UserID       string     `bson:"user_id"`
	PasswordHash string     `bson:"password_hash"`
	FailedCount  int        `bson:"failed_count"`
	LockedUntil  *time.Time `bson:"locked_until"`
	UpdatedAt    time.Time  `bson:"updated_at"`
}

// StaffStore persists staff credentials.
type StaffStore interface {
	// StaffCredential returns nil, nil when the username is unknown.
	StaffCredential(ctx context.Context, id string) (*StaffCredential, error)
	// CreateStaffCredential returns ErrStaffUsernameUsed when it exists.
	CreateStaffCredential(ctx context.Context, c *StaffCredential) error
	// RecordStaffFailure counts a failed password and locks the account for
	// lockFor once threshold failures accumulate; returns the new state.
	RecordStaffFailure(ctx context.Context, id string, threshold int, lockFor time.Duration, at time.Time) (*StaffCredential, error)
	// ResetStaffFailures clears the failure count after a good password.
	ResetStaffFailures(ctx context.Context, id string, at time.Time) error
}
