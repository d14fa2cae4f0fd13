// Package home composes the first screen of the app and the mini-program
// in one answer: the person's to-dos ranked by urgency (a fee to pay, a
// supplement (补正) to hand in, today's or tomorrow's hall visit, a parcel
// to receive, a finished case to rate), then their cases in progress with
// the working days left, parcels on the way, e-licences expiring within 30
// days, unread messages and a few recommended items.
//
// Each source (the case store, the non-tax platform behind payments, the
// province behind e-licences ...) is read at once and within its own time
// budget: a source that fails or is slow leaves its sections marked, never
// the whole screen. Every list is bounded, and every read goes by an indexed
// field (or a cache), so the screen costs the same for a person with one
// case and one with a thousand.
package home

import (
	"context"
	"time"

	"golang.org/x/sync/singleflight"

	"zwfw/booking"
	"zwfw/cases"
	"zwfw/catalog"
	"zwfw/logistics"
	"zwfw/notify"
	"zwfw/payments"
	"zwfw/province"
)

// Cases reads cases (implemented by *cases.Service): by id for the screen,
// an owner's list to rebuild an index.
type Cases interface {
	ByID(ctx context.Context, id string) (*cases.Case, error)
	List(ctx context.Context, ownerID string, status cases.Status, cursor string, limit int) ([]*cases.Case, string, error)
}

// Bookings reads bookings (implemented by *booking.Service): by id for the
// screen, a user's list of one status to rebuild an index.
type Bookings interface {
	ByID(ctx context.Context, id string) (*booking.Booking, error)
	List(ctx context.Context, userID string, status booking.Status, cursor string) ([]*booking.Booking, string, error)
}

// Payments reads fee notices (implemented by *payments.Service): the ones
// the non-tax platform lists for the user (new ones stored), one by its
// code, and the user's list to rebuild an index.
type Payments interface {
	Discover(ctx context.Context, userID string) ([]payments.Payment, error)
	ByCode(ctx context.Context, code string) (payments.Payment, error)
	List(ctx context.Context, userID string, status payments.Status) ([]payments.Payment, error)
}

// Shipments reads parcels (implemented by *logistics.Service): by id for
// the screen, a user's parcels under way to rebuild an index.
type Shipments interface {
	GetAny(ctx context.Context, id string) (logistics.Shipment, error)
	ActiveOf(ctx context.Context, userID string, limit int) ([]logistics.Shipment, error)
}

// Messages reads a user's unread inbox (implemented by *notify.Service).
type Messages interface {
	Unread(ctx context.Context, userID string, limit int) ([]notify.Message, int, error)
}

// License is an e-licence the person holds (their own or a company's).
type License struct {
	ID         string
	Type       string
	Name       string
	HolderType string // province.HolderCitizen | province.HolderBusiness
	// ExpiresOn is the last valid day (zero: no expiry).
	ExpiresOn time.Time
	Status    string
}

// Licenses lists the e-licences a person holds, from the province; none
// (and no error) for a person not real-name verified. Implemented over
// identity by the composition root.
type Licenses interface {
	Held(ctx context.Context, userID string) ([]License, error)
}

// Catalog searches the service catalog (implemented by *catalog.Service,
// served from the province client's cache).
type Catalog interface {
	Search(ctx context.Context, q catalog.Query) (province.ItemPage, error)
}

// Names gives the display names a to-do shows; "" when unknown (a name is
// never worth failing the screen for).
type Names interface {
	ItemName(ctx context.Context, itemCode string) string
	HallName(ctx context.Context, hallID string) string
}

// Deps are the sources of the screen; all are required but Names.
type Deps struct {
	// Index keeps the ids each person's screen reads.
	Index     IndexStore
	Cases     Cases
	Bookings  Bookings
	Payments  Payments
	Shipments Shipments
	Messages  Messages
	Licenses  Licenses
	Catalog   Catalog
	Names     Names
	Calendar  cases.Calendar
	Rules     Rules
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Service composes home screens.
type Service struct {
	d        Deps
	rules    Rules
	rebuilds singleflight.Group // one index rebuild per person at a time
	outside  *outsideMemo
}

// New returns the home service.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d, rules: d.Rules.withDefaults(), outside: newOutsideMemo()}
}

// Viewer is whose screen is composed.
type Viewer struct {
	UserID string
	// Business is set for a user who acts for companies (seasonal items for businesses).
	Business bool
}

// Screen is one home screen. Every section says whether it is complete.
type Screen struct {
	Todos       Section[Todo]
	Cases       Section[CaseInProgress]
	Shipments   Section[logistics.Shipment]
	Licenses    Section[ExpiringLicense]
	Messages    Section[notify.Message]
	Unread      int // unread messages, counted up to notify.UnreadCountCap
	Recommended Section[Recommendation]
}

// Degraded reports whether any section is incomplete.
func (s *Screen) Degraded() bool {
	return s.Todos.Status() != StatusOK || s.Cases.Status() != StatusOK || s.Shipments.Status() != StatusOK ||
		s.Licenses.Status() != StatusOK || s.Messages.Status() != StatusOK || s.Recommended.Status() != StatusOK
}

// CaseInProgress is a case the province is working on, with its time limit.
type CaseInProgress struct {
	Case      *cases.Case
	TimeLimit cases.TimeLimit
}

// ExpiringLicense is an e-licence that expires within the warning window.
type ExpiringLicense struct {
	License
	DaysLeft int // calendar days until ExpiresOn (0 = expires today)
}

// Recommendation is a catalog item suggested to the person, and why.
type Recommendation struct {
	ItemCode string
	Name     string
	Reason   string
}
