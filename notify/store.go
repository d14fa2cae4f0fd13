package notify

import (
	"context"
	"time"
)

// MessageUpdate is what a sender writes back when it lets go of a message.
type MessageUpdate struct {
	State    State
	Channel  Channel
	Attempts []Attempt
	// DeferredUntil is set with StateDeferred.
	DeferredUntil *time.Time
	At            time.Time
}

// PageCursor positions a newest-first list: items strictly older than
// (At, ID) come next. The zero value starts at the newest.
type PageCursor struct {
	At time.Time
	ID string
}

// Store persists messages, preferences, consents, devices and rate
// counters. The exactly-once guarantee rests on InsertMessage: the message
// _id is the dedup id and only one insert of it can succeed.
type Store interface {
	// Message returns the message with the dedup id, or ErrNotFound.
	Message(ctx context.Context, id string) (*Message, error)
	// InsertMessage stores m unless its id exists; it returns the stored
	// message and whether this call created it.
	InsertMessage(ctx context.Context, m *Message) (*Message, bool, error)
	// ClaimMessage takes the send lease of a pending or deferred message
	// (or one whose lease expired) for owner; false when it is final or
	// another owner holds a live lease.
	ClaimMessage(ctx context.Context, id, owner string, now, until time.Time) (*Message, bool, error)
	// ReleaseMessage records u and drops owner's lease; apperr.Conflict
	// when owner no longer holds it.
	ReleaseMessage(ctx context.Context, id, owner string, u MessageUpdate) error
	// CancelMessage moves a non-final message to cancelled (no-op otherwise).
	CancelMessage(ctx context.Context, id string, now time.Time) error
	// Inbox returns up to limit of the user's inbox messages after c, newest first.
	Inbox(ctx context.Context, userID string, c PageCursor, limit int) ([]Message, error)
	// MarkRead sets read_at of the user's message with publicID (once);
	// ErrNotFound when it is not the user's.
	MarkRead(ctx context.Context, userID, publicID string, now time.Time) (*Message, error)
	// Failed returns up to limit failed messages after c, newest first.
	Failed(ctx context.Context, c PageCursor, limit int) ([]Message, error)
	// About returns up to limit of the user's messages, not cancelled, whose
	// subject is one of subjects or derived from one, newest first.
	About(ctx context.Context, userID string, subjects []string, limit int) ([]Message, error)
	// UnreadIDs returns the ids of up to limit of the user's unread inbox
	// messages, newest first.
	UnreadIDs(ctx context.Context, userID string, limit int) ([]string, error)
	// MessagesByID returns the messages with ids (those that exist), newest first.
	MessagesByID(ctx context.Context, ids []string) ([]Message, error)
	// AddAbout notes message ids under a subject root (aboutindex.go).
	AddAbout(ctx context.Context, root string, ids ...string) error
	// AboutIDs returns the message ids noted under a subject root, oldest first.
	AboutIDs(ctx context.Context, root string) ([]string, error)
	// InboxSummary returns the user's inbox summary; found false when there is none.
	InboxSummary(ctx context.Context, userID string) (InboxSummary, bool, error)
	// PutInboxSummary stores the user's summary as counted from the messages.
	PutInboxSummary(ctx context.Context, userID string, sum InboxSummary) error
	// TrimInboxSummary drops ids from the summary's list of recent unread messages.
	TrimInboxSummary(ctx context.Context, userID string, ids []string) error

	// Settings returns the user's preferences and whether any were stored.
	Settings(ctx context.Context, userID string) (Settings, bool, error)
	// PutSettings replaces the user's preferences.
	PutSettings(ctx context.Context, userID string, s Settings, now time.Time) error

	// AddConsent records a wx.requestSubscribeMessage answer: accept adds
	// one send to the counter (capped), ban clears it, others are noted.
	AddConsent(ctx context.Context, userID, templateID string, r ConsentResult, now time.Time) error
	// TakeConsent uses one send of the counter; false when none is left.
	TakeConsent(ctx context.Context, userID, templateID string) (bool, error)
	// ReturnConsent gives back a send that was taken but not made.
	ReturnConsent(ctx context.Context, userID, templateID string) error
	// ClearConsent sets the counter to zero (WeChat said 43101).
	ClearConsent(ctx context.Context, userID, templateID string, now time.Time) error
	// Consents returns the user's remaining sends per template.
	Consents(ctx context.Context, userID string) (map[string]int, error)

	// PutDevice registers (or refreshes) an installed app.
	PutDevice(ctx context.Context, d Device) error
	// Devices returns the user's most recently registered apps.
	Devices(ctx context.Context, userID string, limit int) ([]Device, error)
	// DeleteDevice forgets an app registration.
	DeleteDevice(ctx context.Context, userID, registrationID string) error

	// Take counts one use of the counter key if it is below limit; false
	// when the limit is reached.
	Take(ctx context.Context, key string, limit int, now time.Time) (bool, error)
}
