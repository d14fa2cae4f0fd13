package cases

import (
	"context"
	"time"
)

// Store persists cases. Every change is a guarded replace by version, so
// concurrent requests, callbacks and jobs cannot skip or repeat a state.
type Store interface {
	// Create inserts a new case.
	Create(ctx context.Context, c *Case) error
	// Get returns ErrNotFound when there is no such case.
	Get(ctx context.Context, id string) (*Case, error)
	// Save replaces the case if its stored version is still prevVersion;
	// apperr.Conflict when another change won.
	Save(ctx context.Context, next *Case, prevVersion int64) error
	// ListByOwner lists an owner's cases, newest first, with ids below
	// before ("" = from the newest) and an optional status.
	ListByOwner(ctx context.Context, ownerID string, status Status, before string, limit int) ([]*Case, error)
	// BindNumber records the province's case number for look-ups by number.
	BindNumber(ctx context.Context, number, caseID string) error
	// ByNumber finds a case by its province case number (ErrNotFound).
	ByNumber(ctx context.Context, number string) (*Case, error)
	// Unsynced lists submitted, unfinished cases not synced since before
	// (with or without a case number), least recently synced first.
	Unsynced(ctx context.Context, before time.Time, limit int) ([]*Case, error)
	// FinishedSince lists cases in a final status updated at or after since,
	// oldest update first, at most limit.
	FinishedSince(ctx context.Context, since time.Time, limit int) ([]*Case, error)
	// IndexCase files caseID under look-up keys (applicant phone / ID number
	// blind indexes, USCC), so the hotline finds cases by _id look-ups.
	IndexCase(ctx context.Context, caseID string, keys []string) error
	// UnindexCase takes caseID off look-up keys it no longer carries (an edited draft).
	UnindexCase(ctx context.Context, caseID string, keys []string) error
	// ByKey returns the cases filed under key, newest first, at most limit.
	ByKey(ctx context.Context, key string, limit int) ([]*Case, error)
	// PasswordFailure counts a wrong query password for number and locks it
	// for lockFor after max failures; it returns the lock end (zero if none).
	PasswordFailure(ctx context.Context, number string, max int, lockFor time.Duration, at time.Time) (time.Time, error)
	// PasswordLock returns when number's public look-up lock ends (zero if none).
	PasswordLock(ctx context.Context, number string) (time.Time, error)
	// PasswordSuccess clears the failure count of number.
	PasswordSuccess(ctx context.Context, number string) error
}
