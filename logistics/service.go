package logistics

import (
	"context"
	"log/slog"
	"regexp"
	"time"

	"zwfw/logistics/courier"
	"zwfw/platform/jobs"
)

// Courier is what logistics needs of the courier aggregator. *courier.Client
// implements it as it is.
type Courier interface {
	// CreatePickup books a pickup; the same IdempotencyKey answers the first booking.
	CreatePickup(ctx context.Context, req courier.PickupRequest) (courier.Pickup, error)
	// CancelPickup cancels a pickup not collected yet (courier.ErrAlreadyPickedUp otherwise).
	CancelPickup(ctx context.Context, carrier, orderID, reason string) error
	// Track returns a waybill's whole track now (courier.ErrNoTracking before collection).
	Track(ctx context.Context, carrier, number, phone string) (courier.Tracking, error)
	// Subscribe asks for signed pushes of the waybill to callbackURL.
	Subscribe(ctx context.Context, carrier, number, phone, callbackURL, salt string) error
}

var _ Courier = (*courier.Client)(nil)

// Protector encrypts personal data field by field (implemented by *pii.Cipher).
type Protector interface {
	EncryptField(field, plaintext string) (string, error)
	DecryptField(field, enc string) (string, error)
}

// Queue enqueues durable jobs and reads them back, for the self-check
// (implemented by *jobs.Queue).
type Queue interface {
	Enqueue(ctx context.Context, req jobs.EnqueueRequest) (jobs.Job, bool, error)
	// Get returns jobs.ErrNotFound for a job that does not exist.
	Get(ctx context.Context, id string) (jobs.Job, error)
}

// PostageNotices issues the payment notice of the postage the applicant
// pays, through the payments capability, and returns its payment code. It
// must be idempotent per shipment (the booking job may run again).
type PostageNotices interface {
	IssuePostage(ctx context.Context, sh Shipment) (paymentCode string, err error)
}

// Job types of the logistics package.
const (
	JobCreatePickup = "logistics.create_pickup" // key: shipment id
	JobPoll         = "logistics.poll"          // key: the run's time slot
)

// Settings are the logistics rules an operator tunes.
type Settings struct {
	// Carrier is the aggregator's company code pickups are booked with
	// (default "ems": 政务专递 travels by EMS).
	Carrier string
	// WeightGrams is the estimated weight of a parcel of papers (default 500).
	WeightGrams int
	// PollStaleAfter: a shipment without news for this long is asked
	// about (default 30 min).
	PollStaleAfter time.Duration
	// PollEvery is how often the poll job runs (default 5 min).
	PollEvery time.Duration
}

// Deps are a Service's collaborators. Store, Courier, Queue, PII,
// HallAddress and CallbackURL are required; Events (for the self-check),
// Postage, Now and Logger are optional.
type Deps struct {
	Store   Store
	Courier Courier
	Queue   Queue
	// Events is only read, by the self-check: events are written with
	// the shipments themselves (their outbox), never appended here.
	Events EventReader
	PII    Protector
	// HallAddress is the hall that handles the case: the receiver of its
	// materials and the sender of its result. Its phone must be a mobile
	// (couriers require one).
	HallAddress func(ctx context.Context, caseID string) (Address, error)
	// CallbackURL is the public URL of POST /callbacks/courier/{carrier}.
	CallbackURL func(carrier string) string
	// Postage issues postage notices when the applicant pays; nil leaves
	// the payment code empty.
	Postage  PostageNotices
	Settings Settings
	Now      func() time.Time
	Logger   *slog.Logger
}

// Service is the logistics business API, called by the HTTP handlers, the
// courier callback handler, the cases glue and the jobs.
type Service struct {
	store   Store
	courier Courier
	queue   Queue
	// eventsRead is the log as the self-check reads it.
	eventsRead EventReader
	pii        Protector
	hall       func(ctx context.Context, caseID string) (Address, error)
	callback   func(carrier string) string
	postage    PostageNotices
	set        Settings
	now        func() time.Time
	log        *slog.Logger
}

// NewService builds the service, filling in default settings.
func NewService(d Deps) *Service {
	s := &Service{
		store: d.Store, courier: d.Courier, queue: d.Queue, eventsRead: d.Events, pii: d.PII,
		hall: d.HallAddress, callback: d.CallbackURL, postage: d.Postage, set: d.Settings, now: d.Now, log: d.Logger,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.set.Carrier == "" {
		s.set.Carrier = "ems"
	}
	if s.set.WeightGrams <= 0 {
		s.set.WeightGrams = 500
	}
	if s.set.PollStaleAfter <= 0 {
		s.set.PollStaleAfter = 30 * time.Minute
	}
	if s.set.PollEvery <= 0 {
		s.set.PollEvery = 5 * time.Minute
	}
	if s.callback == nil {
		s.callback = func(string) string { return "" }
	}
	return s
}

// clock is now as stored: UTC, truncated to what BSON dates keep.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

var shipmentIDPattern = regexp.MustCompile(`^shp_[A-Za-z0-9_\-.]{1,80}$`)

// Get returns one of the user's shipments. Returns ErrNotFound for a
// shipment that does not exist or is someone else's (no difference shown).
func (s *Service) Get(ctx context.Context, userID, id string) (Shipment, error) {
	sh, err := s.GetAny(ctx, id)
	if err != nil {
		return Shipment{}, err
	}
	if userID == "" || sh.UserID != userID {
		return Shipment{}, ErrNotFound
	}
	return sh, nil
}

// GetAny returns a shipment for staff and the hotline (the caller checks
// the role and writes the audit record). Personal data is masked in it.
// Returns ErrNotFound.
func (s *Service) GetAny(ctx context.Context, id string) (Shipment, error) {
	if !shipmentIDPattern.MatchString(id) {
		return Shipment{}, ErrNotFound
	}
	sh, err := s.store.Shipment(ctx, id)
	if err != nil {
		return Shipment{}, err
	}
	return *sh, nil
}

// OfCase lists a case's shipments, oldest first, for the case view (after
// the caller checked the case is the user's) and the hotline view.
func (s *Service) OfCase(ctx context.Context, caseID string) ([]Shipment, error) {
	if !refPattern.MatchString(caseID) {
		return []Shipment{}, nil
	}
	list, err := s.store.ShipmentsOfCase(ctx, caseID)
	if err != nil {
		return nil, err
	}
	out := make([]Shipment, 0, len(list))
	for _, sh := range list {
		out = append(out, *sh)
	}
	return out, nil
}

// PickupAddress returns the address the case's materials were last
// picked up from (decrypted), the natural receiver of its result; found
// false when the case had no pickup. For the glue that creates result
// shipments when the case itself holds no postal address.
func (s *Service) PickupAddress(ctx context.Context, caseID string) (Address, bool, error) {
	list, err := s.OfCase(ctx, caseID)
	if err != nil {
		return Address{}, false, err
	}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Direction == ToHall && list[i].State != StateCancelled {
			a, err := s.open(list[i].Sender)
			return a, err == nil, err
		}
	}
	return Address{}, false, nil
}
