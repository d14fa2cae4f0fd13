package identity

import (
	"context"
	"time"
)

// LoginKey is a user_keys document: it leads a login key to its person.
type LoginKey struct {
	ID     string `bson:"_id"`
	UserID string `bson:"user_id"`
	// Unlinking is set while the login is being unlinked: a key left so by
	// a crash belongs to nobody once its person no longer lists the login.
	Unlinking bool `bson:"unlinking,omitempty"`
}

// LoginStore reads and retires login keys (UserStore creates and binds them).
type LoginStore interface {
	// LoginKey returns the key document, nil when there is none.
	LoginKey(ctx context.Context, key string) (*LoginKey, error)
	// SetUnlinking sets or clears the unlinking flag of key if it leads to userID.
	SetUnlinking(ctx context.Context, key, userID string, on bool) error
	// DeleteKey deletes key if it still leads to userID.
	DeleteKey(ctx context.Context, key, userID string) error
	// KeysOf returns the keys that lead to userID.
	KeysOf(ctx context.Context, userID string) ([]LoginKey, error)
}

// MergeStore persists merge records and moves identity's own records from
// one person to another. Every move is a filter on the owner, so running it
// again moves only what is left.
type MergeStore interface {
	// Merge returns the merge record, nil when there is none.
	Merge(ctx context.Context, id string) (*Merge, error)
	// CreateMerge inserts m unless a record with its id exists, and returns the stored one.
	CreateMerge(ctx context.Context, m *Merge) (*Merge, error)
	// RecordMergeStep appends step to the record unless a step of that name
	// is there; false when it was.
	RecordMergeStep(ctx context.Context, id string, step MergeStepRecord) (bool, error)
	// FinishMerge sets the record's state and end time.
	FinishMerge(ctx context.Context, id string, state MergeState, at time.Time) error
	// RecordSweep stores what the late sweep of a merge moved.
	RecordSweep(ctx context.Context, id string, sweep MergeSweep) error
	// MergesOf lists the merges a person took part in, newest first.
	MergesOf(ctx context.Context, userID string, limit int) ([]Merge, error)
	// MoveLoginKeys leads every login key of from to to.
	MoveLoginKeys(ctx context.Context, from, to string) (int64, error)
	// MoveSessions gives from's session families and refresh tokens to to.
	MoveSessions(ctx context.Context, from, to string) (int64, error)
}

// ClaimStore keeps, per ID number (by blind index), the one person verified
// as it. A claim is one document with the blind index as its _id, so two
// people can never both insert it.
type ClaimStore interface {
	// ClaimIdentity returns the holder of bidx, making userID the holder when
	// there is none. A holder found only on a user document (verified before
	// claims existed) gets its claim first. The holder claiming again
	// refreshes its claim's time.
	ClaimIdentity(ctx context.Context, bidx, userID string, at time.Time) (holder string, claimedAt time.Time, err error)
	// IdentityHolder returns the holder of bidx without claiming ("" when none).
	IdentityHolder(ctx context.Context, bidx string) (string, error)
	// MoveClaim gives from's claim on bidx to to.
	MoveClaim(ctx context.Context, bidx, from, to string, at time.Time) error
}
