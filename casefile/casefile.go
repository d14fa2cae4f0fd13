// Package casefile composes one case's file: the case with its status
// timeline and its time limit in working days, the bookings made for it,
// its payment notices and receipts, its shipments with their tracking, the
// reminders sent about all of these (and those that failed), and its
// evaluation. The applicant's case view and the 12345 hotline's one screen
// show the same file (the staff console will too); each capability stays
// the owner of its records, and this package only reads them through the
// small interfaces below.
package casefile

import (
	"context"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

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

// Bookings lists the bookings made for a case (implemented by *booking.Service).
type Bookings interface {
	OfCase(ctx context.Context, caseID string) ([]*booking.Booking, error)
}

// Payments lists a case's payment notices by its case number (implemented by *payments.Service).
type Payments interface {
	OfCase(ctx context.Context, caseNumber string) ([]payments.Payment, error)
}

// Shipments lists a case's shipments (implemented by *logistics.Service).
type Shipments interface {
	OfCase(ctx context.Context, caseID string) ([]logistics.Shipment, error)
}

// Reminders lists the reminders a user was sent about some subjects
// (implemented by *notify.Service).
type Reminders interface {
	RemindersAbout(ctx context.Context, userID string, subjects []string) ([]notify.Message, error)
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
	// Now is the clock of the time limit (time.Now when nil).
	Now func() time.Time
}

// Service composes case files.
type Service struct{ d Deps }

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
// hotline's audited look-up, the staff console). The reads run at once;
// the first failure is returned.
func (s *Service) Of(ctx context.Context, c *cases.Case) (*File, error) {
	f := &File{Case: c, TimeLimit: cases.TimeLimitOf(c, s.d.Calendar, s.d.Now())}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { f.Bookings, err = s.d.Bookings.OfCase(gctx, c.ID); return err })
	g.Go(func() (err error) { f.Payments, err = s.d.Payments.OfCase(gctx, c.CaseNumber); return err })
	g.Go(func() (err error) { f.Shipments, err = s.d.Shipments.OfCase(gctx, c.ID); return err })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// A booking names its case on the booker's word: only the case owner's own count.
	f.Bookings = slices.DeleteFunc(f.Bookings, func(b *booking.Booking) bool { return b.UserID != c.OwnerID })
	reminders, err := s.d.Reminders.RemindersAbout(ctx, c.OwnerID, f.subjects())
	if err != nil {
		return nil, err
	}
	f.Reminders = reminders
	f.fillNil()
	return f, nil
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
