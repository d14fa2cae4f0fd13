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
	// Unsynced lists submitted, unfinished cases not synced since before.
	Unsynced(ctx context.Context, before time.Time, limit int) ([]*Case, error)
}
