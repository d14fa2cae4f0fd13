package payments

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"zwfw/pii"
	"zwfw/platform/jobs"
)

// People tells payments whom a user pays for (implemented over identity).
type People interface {
	Payer(ctx context.Context, userID string) (Payer, error)
}

// Payer is what payments needs to know about a user.
type Payer struct {
	// IDs are the ID number of the verified user and the USCCs of the
	// companies they represent: notices issued to these are theirs.
	IDs []string
	// OpenID is the user's openid in the mini-program (JSAPI payments).
	OpenID string
}

// Queue enqueues durable jobs (implemented by *jobs.Queue).
type Queue interface {
	Enqueue(ctx context.Context, req jobs.EnqueueRequest) (jobs.Job, bool, error)
}

// Settings are the payments rules an operator tunes.
type Settings struct {
	// NotifyURL is where a provider sends paid notifies (zwfw's public
	// callback route); a func because the public address may be known only
	// once the server listens.
	NotifyURL func(Provider) string
	// RefundNotifyURL is where WeChat Pay sends refund notifies.
	RefundNotifyURL func() string
	// ReturnURL is where the mobile browser returns after an Alipay WAP payment.
	ReturnURL func() string
	// OrderTTL is how long a channel order can be paid (default 30 min).
	OrderTTL time.Duration
	// QueryAfter is when an order without news is first queried (default 5 min).
	QueryAfter time.Duration
	// QueryEvery is how often it is queried after that (default 2 min).
	QueryEvery time.Duration
	// RefundQueryEvery is how often a pending refund is queried (default 1 min).
	RefundQueryEvery time.Duration
	// BusyWait is how long a request waits for another one working on the
	// same payment (creating its order, reserving a refund) before it
	// answers ErrBusy (default 8 s: a prepay call at a slow channel).
	BusyWait time.Duration
}

// Deps are a Service's collaborators; all are required except Logger and Now.
type Deps struct {
	Store    Store
	Treasury Treasury
	Gateways []Gateway
	People   People
	Queue    Queue
	// Index is the blind index of personal identifiers (pii.BlindIndex.Index).
	Index    func(field, value string) string
	Settings Settings
	Now      func() time.Time
	Logger   *slog.Logger
}

// Service is the payments capability: notices and their payment through a
// channel, notifies, active queries, confirmation with the non-tax platform,
// refunds and reconciliation.
type Service struct {
	store    Store
	treasury Treasury
	gateways map[Provider]Gateway
	people   People
	queue    Queue
	index    func(field, value string) string
	set      Settings
	now      func() time.Time
	log      *slog.Logger
}

// NewService builds the service.
func NewService(d Deps) *Service {
	s := &Service{
		store: d.Store, treasury: d.Treasury, gateways: map[Provider]Gateway{}, people: d.People,
		queue: d.Queue, index: d.Index, set: d.Settings, now: d.Now, log: d.Logger,
	}
	for _, g := range d.Gateways {
		s.gateways[g.Provider()] = g
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.set.NotifyURL == nil {
		s.set.NotifyURL = func(Provider) string { return "" }
	}
	if s.set.RefundNotifyURL == nil {
		s.set.RefundNotifyURL = func() string { return "" }
	}
	if s.set.ReturnURL == nil {
		s.set.ReturnURL = func() string { return "" }
	}
	if s.set.OrderTTL <= 0 {
		s.set.OrderTTL = 30 * time.Minute
	}
	if s.set.QueryAfter <= 0 {
		s.set.QueryAfter = 5 * time.Minute
	}
	if s.set.QueryEvery <= 0 {
		s.set.QueryEvery = 2 * time.Minute
	}
	if s.set.RefundQueryEvery <= 0 {
		s.set.RefundQueryEvery = time.Minute
	}
	if s.set.BusyWait <= 0 {
		s.set.BusyWait = 8 * time.Second
	}
	return s
}

// payerField is the blind-index field name of payer identifiers.
const payerField = "payer_id"

// Detail is one payment with its channel orders and refunds.
type Detail struct {
	Payment Payment
	Orders  []Order
	Refunds []Refund
}

// List returns the payments the user may see (notices issued to them or to
// the companies they represent, and codes they looked up), newest first,
// optionally only those in status. The non-tax platform is asked for new
// notices first; when it is down the list shows what zwfw already knows.
func (s *Service) List(ctx context.Context, userID string, status Status) ([]Payment, error) {
	payer, err := s.people.Payer(ctx, userID)
	if err != nil {
		return nil, err
	}
	indexes := make([]string, 0, len(payer.IDs))
	for _, id := range payer.IDs {
		indexes = append(indexes, s.index(payerField, id))
		notices, err := s.treasury.NoticesOf(ctx, id)
		if err != nil {
			s.log.Warn("non-tax platform notice list failed; showing known payments", "err", err)
			continue
		}
		for _, n := range notices {
			// The payer's own account sees it (and is who reminders go to).
			if _, err := s.mirror(ctx, n, userID); err != nil {
				return nil, err
			}
		}
	}
	return s.store.PaymentsFor(ctx, userID, indexes, status, 100)
}

// Lookup finds a notice by its payment code (e.g. printed on a paper notice
// a business received) and lets the user see and pay it. Returns
// ErrCodeInvalid, ErrNotFound or ErrTreasuryDown.
func (s *Service) Lookup(ctx context.Context, userID, code string) (Payment, error) {
	if !ValidPaymentCode(code) {
		return Payment{}, ErrCodeInvalid
	}
	n, err := s.treasury.Notice(ctx, code)
	switch {
	case errors.Is(err, ErrNoticeNotFound):
		return Payment{}, ErrNotFound
	case err != nil:
		// Known locally: still show it (the platform only adds news).
		if p, lerr := s.store.Payment(ctx, code); lerr == nil {
			if err := s.store.AddViewer(ctx, code, userID); err != nil {
				return Payment{}, err
			}
			return p, nil
		}
		return Payment{}, ErrTreasuryDown.WithCause(err)
	}
	return s.mirror(ctx, n, userID)
}

// Get returns a payment the user may see, with its orders and refunds.
// Returns ErrNotFound for payments of others (without saying they exist).
func (s *Service) Get(ctx context.Context, userID, id string) (Detail, error) {
	p, err := s.visible(ctx, userID, id)
	if err != nil {
		return Detail{}, err
	}
	return s.detail(ctx, p)
}

// GetAny returns a payment for staff (hotline, admins), with orders and refunds.
func (s *Service) GetAny(ctx context.Context, id string) (Detail, error) {
	p, err := s.store.Payment(ctx, id)
	if err != nil {
		return Detail{}, err
	}
	return s.detail(ctx, p)
}

// OfCase lists the payments of a case number (for the case and hotline views).
func (s *Service) OfCase(ctx context.Context, caseNumber string) ([]Payment, error) {
	if caseNumber == "" {
		return nil, nil
	}
	return s.store.PaymentsOfCase(ctx, caseNumber)
}

func (s *Service) detail(ctx context.Context, p Payment) (Detail, error) {
	orders, err := s.store.OrdersOfPayment(ctx, p.ID)
	if err != nil {
		return Detail{}, err
	}
	refunds, err := s.store.RefundsOfPayment(ctx, p.ID)
	if err != nil {
		return Detail{}, err
	}
	return Detail{Payment: p, Orders: orders, Refunds: refunds}, nil
}

// visible loads a payment and checks the user may see it.
func (s *Service) visible(ctx context.Context, userID, id string) (Payment, error) {
	if !ValidPaymentCode(id) {
		return Payment{}, ErrNotFound
	}
	p, err := s.store.Payment(ctx, id)
	if errors.Is(err, ErrNotFound) {
		// Not seen yet (the payer opened a reminder before listing): ask the
		// platform, and keep it only if it is the user's own notice.
		return s.fetchOwn(ctx, userID, id)
	}
	if err != nil {
		return Payment{}, err
	}
	if p.VisibleTo(userID, nil) {
		return p, nil
	}
	payer, err := s.people.Payer(ctx, userID)
	if err != nil {
		return Payment{}, err
	}
	indexes := make([]string, 0, len(payer.IDs))
	for _, id := range payer.IDs {
		indexes = append(indexes, s.index(payerField, id))
	}
	if !p.VisibleTo(userID, indexes) {
		return Payment{}, ErrNotFound
	}
	return p, nil
}

// fetchOwn mirrors a notice zwfw has not seen if it was issued to the user.
func (s *Service) fetchOwn(ctx context.Context, userID, code string) (Payment, error) {
	payer, err := s.people.Payer(ctx, userID)
	if err != nil {
		return Payment{}, err
	}
	if len(payer.IDs) == 0 {
		return Payment{}, ErrNotFound
	}
	n, err := s.treasury.Notice(ctx, code)
	switch {
	case errors.Is(err, ErrNoticeNotFound):
		return Payment{}, ErrNotFound
	case err != nil:
		return Payment{}, ErrTreasuryDown.WithCause(err)
	}
	for _, id := range payer.IDs {
		if id == n.PayerID {
			return s.mirror(ctx, n, userID)
		}
	}
	return Payment{}, ErrNotFound
}

// mirror stores what zwfw knows of a notice the first time it sees it
// (with payment.notice_issued in the same insert), lets viewer see it, and
// follows a cancellation by the platform.
func (s *Service) mirror(ctx context.Context, n Notice, viewer string) (Payment, error) {
	now := s.now().UTC()
	p := Payment{
		ID: n.PaymentCode, PayerName: n.PayerName, PayerKind: payerKind(n.PayerID),
		PayerIndex: s.index(payerField, n.PayerID), PayerMask: maskPayer(n.PayerID),
		Agency: n.Agency, Items: n.Items, Amount: n.Amount, IssuedAt: n.IssuedAt.UTC(), DueAt: n.DueAt.UTC(),
		CaseNumber: n.CaseNumber, Status: StatusUnpaid, Refunded: 0, CreatedAt: now, UpdatedAt: now,
	}
	if viewer != "" {
		p.UserIDs = []string{viewer}
	}
	p.Emit(noticeIssuedEvent(p, now))
	stored, created, err := s.store.InsertPayment(ctx, p)
	if err != nil {
		return Payment{}, err
	}
	if !created && viewer != "" && !stored.VisibleTo(viewer, nil) {
		if err := s.store.AddViewer(ctx, stored.ID, viewer); err != nil {
			return Payment{}, err
		}
		stored.UserIDs = append(stored.UserIDs, viewer)
	}
	if n.Status == NoticeCancelled && stored.Status == StatusUnpaid {
		if ok, err := s.store.CancelPayment(ctx, stored.ID, now); err != nil {
			return Payment{}, err
		} else if ok {
			stored.Status = StatusCancelled
		}
	}
	return stored, nil
}

func payerKind(id string) string {
	if pii.ValidateIDNumber(id) == nil {
		return "person"
	}
	return "company"
}

func maskPayer(id string) string {
	if pii.ValidateIDNumber(id) == nil {
		return pii.MaskIDNumber(id)
	}
	return id // a USCC is public (printed on the business licence)
}

func (s *Service) gateway(p Provider) (Gateway, error) {
	g, ok := s.gateways[p]
	if !ok {
		return nil, ErrChannelInvalid.WithCause(fmt.Errorf("no gateway for %s", p))
	}
	return g, nil
}
