// Package casefile composes one case's file: the case with its status
// timeline and its time limit in working days, the bookings made for it,
// its payment notices and receipts, its shipments with their tracking, the
// reminders sent about all of these (and those that failed), and its
// evaluation. The applicant's case view and the 12345 hotline's one screen
// show the same file (the staff console will too); each capability stays
// the owner of its records, and this package only reads them through the
// small interfaces below, each by its id through a per-case index of ids
// (index.go), so a file costs the same however many cases the store holds.
package casefile

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"zwfw/booking"
	"zwfw/cases"
	"zwfw/logistics"
	"zwfw/notify"
	"zwfw/payments"
)

// Cases finds a case for its owner (implemented by *cases.Service).
type Cases interface {
	// Get returns CASE_NOT_FOUND for a case that is not the owner's.
	Get(ctx context.Context, ownerID, id string) (*cases.Case, error)
}

// Bookings lists the bookings made for a case and reads one by its id
// (implemented by *booking.Service).
type Bookings interface {
	// OfCase lists by the case (a scan on the embedded store): rebuilds only.
	OfCase(ctx context.Context, caseID string) ([]*booking.Booking, error)
	// ByID returns BOOKING_NOT_FOUND.
	ByID(ctx context.Context, id string) (*booking.Booking, error)
}

// Payments lists a case's payment notices by its case number and reads
// one by its code (implemented by *payments.Service).
type Payments interface {
	// OfCase lists by the case number (a scan on the embedded store): rebuilds only.
	OfCase(ctx context.Context, caseNumber string) ([]payments.Payment, error)
	// ByCode returns PAYMENT_NOT_FOUND.
	ByCode(ctx context.Context, code string) (payments.Payment, error)
}

// Shipments lists a case's shipments and reads one by its id
// (implemented by *logistics.Service).
type Shipments interface {
	// OfCase lists by the case (a scan on the embedded store): rebuilds only.
	OfCase(ctx context.Context, caseID string) ([]logistics.Shipment, error)
	// GetAny returns SHIPMENT_NOT_FOUND.
	GetAny(ctx context.Context, id string) (logistics.Shipment, error)
}

// Reminders lists the reminders a user was sent about some subjects
// (implemented by *notify.Service).
type Reminders interface {
	// RemindersAbout lists by user and subject (a scan on the embedded
	// store): without an index only.
	RemindersAbout(ctx context.Context, userID string, subjects []string) ([]notify.Message, error)
	// RemindersIndexed is RemindersAbout read by _id through notify's
	// index of messages by subject.
	RemindersIndexed(ctx context.Context, userID string, subjects []string) ([]notify.Message, error)
	// ReindexRemindersAbout is RemindersAbout that also records what it
	// found in that index: rebuilds only.
	ReindexRemindersAbout(ctx context.Context, userID string, subjects []string) ([]notify.Message, error)
}

// File is one case's file. Slices are never nil.
type File struct {
	Case *cases.Case
	// TimeLimit is the case against its promised time limit, in working days.
	TimeLimit cases.TimeLimit
	// Bookings are the hall visits booked for the case, newest first.
	Bookings []*booking.Booking
	// Payments are the case's fee notices (with their receipts), oldest first.
	Payments []payments.Payment
	// Shipments are the parcels of its materials and result, oldest first.
	Shipments []logistics.Shipment
	// Reminders are the reminders about the case and its bookings, payments
	// and shipments, newest first: sent, failed, waiting or inbox-only.
	Reminders []notify.Message
}

// Deps are the capabilities the file is read from; all are required.
type Deps struct {
	Cases     Cases
	Bookings  Bookings
	Payments  Payments
	Shipments Shipments
	Reminders Reminders
	Calendar  cases.Calendar
	// Index is where each case's records are (see Index); nil: every file
	// is read by the domains' list queries, as before the index.
	Index IndexStore
	// Now is the clock of the time limit and of the index's Since mark
	// (time.Now when nil).
	Now func() time.Time
}

// Service composes case files.
type Service struct {
	d        Deps
	rebuilds singleflight.Group // one index rebuild per case at a time

	sinceMu sync.Mutex
	sinceAt time.Time // the index's Since mark, once read
}

// New returns the case-file service.
func New(d Deps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{d: d}
}

// ForOwner returns the file of one of the owner's cases, for the owner's
// own view. Returns CASE_NOT_FOUND for a case that does not exist or is not
// the owner's.
func (s *Service) ForOwner(ctx context.Context, ownerID, caseID string) (*File, error) {
	c, err := s.d.Cases.Get(ctx, ownerID, caseID)
	if err != nil {
		return nil, err
	}
	return s.Of(ctx, c)
}

// Of returns the file of a case the caller was allowed to find (the
// hotline's audited look-up, the staff console). With an Index, the
// records are read by their ids (see Index, and indexed.go for a case
// whose index was never built); without one, by the domains' list
// queries. The reads run at once; the first failure is returned.
func (s *Service) Of(ctx context.Context, c *cases.Case) (*File, error) {
	f := &File{Case: c, TimeLimit: cases.TimeLimitOf(c, s.d.Calendar, s.d.Now())}
	var err error
	if s.d.Index == nil {
		_, err = s.listed(ctx, f, false)
	} else {
		err = s.indexed(ctx, f)
	}
	if err != nil {
		return nil, err
	}
	f.fillNil()
	return f, nil
}

// listed reads the file's records by the domains' list queries (each a
// scan of its collection on the embedded store) and returns the ids of
// every booking naming the case, whoever made it; with record, the
// reminders found are recorded in notify's index as they are read.
func (s *Service) listed(ctx context.Context, f *File, record bool) ([]string, error) {
	c := f.Case
	var named []*booking.Booking
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { named, err = s.d.Bookings.OfCase(gctx, c.ID); return err })
	g.Go(func() (err error) { f.Payments, err = s.d.Payments.OfCase(gctx, c.CaseNumber); return err })
	g.Go(func() (err error) { f.Shipments, err = s.d.Shipments.OfCase(gctx, c.ID); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(named))
	for _, b := range named {
		ids = append(ids, b.ID)
		if b.UserID == c.OwnerID { // a booking names its case on the booker's word: only the owner's own count
			f.Bookings = append(f.Bookings, b)
		}
	}
	remind := s.d.Reminders.RemindersAbout
	if record {
		remind = s.d.Reminders.ReindexRemindersAbout
	}
	var err error
	f.Reminders, err = remind(ctx, c.OwnerID, f.subjects())
	return ids, err
}

// subjects are the event subjects reminders about the file were sent under.
func (f *File) subjects() []string {
	out := []string{cases.Subject(f.Case.ID)}
	for _, b := range f.Bookings {
		out = append(out, booking.Subject(b.ID))
	}
	for _, p := range f.Payments {
		out = append(out, payments.Subject(p.ID))
	}
	for _, sh := range f.Shipments {
		out = append(out, logistics.Subject(sh.ID))
	}
	return out
}

func (f *File) fillNil() {
	if f.Bookings == nil {
		f.Bookings = []*booking.Booking{}
	}
	if f.Payments == nil {
		f.Payments = []payments.Payment{}
	}
	if f.Shipments == nil {
		f.Shipments = []logistics.Shipment{}
	}
	if f.Reminders == nil {
		f.Reminders = []notify.Message{}
	}
}
