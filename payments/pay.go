package payments

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"zwfw/platform/jobs"
)

// Job types of the payments package.
const (
	JobQueryOrder     = "payments.query_order"     // key: order id
	JobCloseOrder     = "payments.close_order"     // key: order id
	JobConfirm        = "payments.confirm"         // key: order id
	JobRefund         = "payments.refund"          // key: refund id
	JobRegisterRefund = "payments.register_refund" // key: refund id
	JobReconcile      = "payments.reconcile"       // key: date
)

// PayRequest asks to pay a payment through a channel.
type PayRequest struct {
	UserID    string
	PaymentID string
	Channel   Channel
	ClientIP  string
}

// PayResult is the channel order to pay and what the client needs for it.
type PayResult struct {
	Order  Order
	Prepay Prepay
}

// reuseMargin: an open order this close to expiry is replaced rather than
// handed out again, so the payer never lands on an expired cashier.
const reuseMargin = 2 * time.Minute

// creationStale: an order still being created after this long is taken
// as abandoned by a request that died (it is past every channel call's
// timeout).
const creationStale = time.Minute

// Pay returns the payment's one payable channel order for the channel,
// creating it if there is none. A payment has at most one open order at any
// moment, claimed on the payment before the order is created: a request that
// finds an order of the same channel (even one a concurrent request is still
// creating) waits for it and returns it, so a double tap opens one order
// and every answer carries it. Asking for another channel closes the open
// order through its channel first (once it is created); if the channel says
// it was paid meanwhile, the payment is applied and ErrAlreadyPaid returned.
// Retries of one request are answered by the HTTP idempotency layer.
//
// Returns ErrChannelInvalid, ErrNotFound, ErrAlreadyPaid, ErrNotPayable,
// ErrChannelNeedsOpenID, ErrTreasuryDown, ErrChannelUnavailable or ErrBusy
// (another request kept the payment busy for longer than Settings.BusyWait).
func (s *Service) Pay(ctx context.Context, req PayRequest) (PayResult, error) {
	if !req.Channel.Valid() {
		return PayResult{}, ErrChannelInvalid
	}
	p, err := s.visible(ctx, req.UserID, req.PaymentID)
	if err != nil {
		return PayResult{}, err
	}
	gw, err := s.gateway(req.Channel.Provider())
	if err != nil {
		return PayResult{}, err
	}
	var openID string
	if req.Channel == WeChatJSAPI {
		payer, err := s.people.Payer(ctx, req.UserID)
		if err != nil {
			return PayResult{}, err
		}
		if payer.OpenID == "" {
			return PayResult{}, ErrChannelNeedsOpenID
		}
		openID = payer.OpenID
	}
	w := newWaiter(s.set.BusyWait)
	checked := false
	for {
		switch {
		case p.Status.Settled():
			return PayResult{}, ErrAlreadyPaid
		case p.Status == StatusCancelled:
			return PayResult{}, ErrNotPayable
		}
		if p.OpenOrder != "" {
			res, done, err := s.useOpenOrder(ctx, p, req.Channel)
			if done || err != nil {
				return res, err
			}
		} else {
			if !checked {
				// A notice paid at a bank counter or withdrawn must not take money twice.
				if err := s.checkPayable(ctx, &p); err != nil {
					return PayResult{}, err
				}
				checked = true
			}
			res, claimed, err := s.openOrder(ctx, gw, p, req, openID)
			if claimed || err != nil {
				return res, err
			}
		}
		// Someone else moved the payment on (or is creating its order): look again.
		if !w.wait(ctx) {
			return PayResult{}, ErrBusy
		}
		if p, err = s.store.Payment(ctx, p.ID); err != nil {
			return PayResult{}, err
		}
	}
}

// useOpenOrder decides about the payment's open order for a request paying
// by ch: returns it (done) when it is payable by ch, closes it through its
// channel when it is of another channel or about to expire, clears the
// pointer when the order is gone, and otherwise leaves it (the caller waits
// and looks again) while a concurrent request is still creating it.
func (s *Service) useOpenOrder(ctx context.Context, p Payment, ch Channel) (PayResult, bool, error) {
	now := s.now()
	o, err := s.store.Order(ctx, p.OpenOrder)
	switch {
	case errors.Is(err, ErrNotFound):
		// The pointer is claimed before the order is stored: it is being
		// created, unless its creator died long ago.
		if now.Sub(p.OpenOrderAt) > creationStale {
			_, err := s.store.SetOpenOrder(ctx, p.ID, p.OpenOrder, "", now)
			return PayResult{}, false, err
		}
		return PayResult{}, false, nil
	case err != nil:
		return PayResult{}, false, err
	}
	switch {
	case o.Status == OrderPaid:
		// Paid, the payment not yet settled (a settle interrupted): settle it now.
		if err := s.settle(ctx, o); err != nil {
			return PayResult{}, false, err
		}
		return PayResult{}, false, ErrAlreadyPaid
	case o.Status == OrderClosed:
		_, err := s.store.SetOpenOrder(ctx, p.ID, o.ID, "", now)
		return PayResult{}, false, err
	case o.Prepay == nil && now.Sub(o.CreatedAt) <= creationStale:
		return PayResult{}, false, nil // a concurrent request is creating it: wait, never close it
	case o.Prepay != nil && o.Channel == ch && now.Before(o.ExpiresAt.Add(-reuseMargin)):
		return PayResult{Order: o, Prepay: *o.Prepay}, true, nil
	}
	// Another channel, about to expire, or abandoned mid-creation: close it
	// through its channel (a client may hold it) before another is opened.
	reason := "replaced"
	switch {
	case o.Prepay == nil:
		reason = "abandoned"
	case o.Channel == ch:
		reason = "expiring"
	}
	if err := s.closeAtChannel(ctx, o, reason); err != nil {
		return PayResult{}, false, err
	}
	_, err = s.store.SetOpenOrder(ctx, p.ID, o.ID, "", now)
	return PayResult{}, false, err
}

// checkPayable asks the platform whether the notice can still be paid.
func (s *Service) checkPayable(ctx context.Context, p *Payment) error {
	n, err := s.treasury.Notice(ctx, p.ID)
	if err != nil {
		if errors.Is(err, ErrNoticeNotFound) {
			return ErrNotPayable
		}
		return ErrTreasuryDown.WithCause(err)
	}
	switch n.Status {
	case NoticeUnpaid:
		return nil
	case NoticeCancelled:
		if _, err := s.store.CancelPayment(ctx, p.ID, s.now().UTC()); err != nil {
			return err
		}
		return ErrNotPayable
	default:
		return ErrAlreadyPaid.WithMessage("该缴款通知书已在其他渠道缴费，请勿重复缴费")
	}
}

// openOrder claims the payment's open-order pointer for a new order, stores
// the order, schedules its active query and creates it at the channel.
// claimed is false (and nothing done) when another request claimed the
// pointer first.
func (s *Service) openOrder(ctx context.Context, gw Gateway, p Payment, req PayRequest, openID string) (PayResult, bool, error) {
	now := s.now().UTC()
	o := Order{
		ID: newOrderID(now), PaymentID: p.ID, UserID: req.UserID, Channel: req.Channel, Provider: gw.Provider(),
		Amount: p.Amount, Subject: subjectOf(p), Status: OrderOpen, CreatedAt: now, ExpiresAt: now.Add(s.set.OrderTTL),
	}
	ok, err := s.store.SetOpenOrder(ctx, p.ID, "", o.ID, now)
	if err != nil || !ok {
		return PayResult{}, false, err
	}
	if err := s.store.InsertOrder(ctx, o); err != nil {
		_, _ = s.store.SetOpenOrder(ctx, p.ID, o.ID, "", now)
		return PayResult{}, true, err
	}
	// Followed from birth: if every notify is lost, the query still finds the money.
	if _, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{
		Type: JobQueryOrder, Key: o.ID, Payload: orderJob{OrderID: o.ID},
		RunAt: now.Add(s.set.QueryAfter), MaxAttempts: 100,
	}); err != nil {
		s.abandon(ctx, o, "enqueue_failed")
		return PayResult{}, true, err
	}
	prepay, err := gw.Prepay(ctx, PrepayRequest{
		Channel: req.Channel, OutTradeNo: o.ID, Amount: o.Amount, Subject: o.Subject, OpenID: openID,
		ClientIP: req.ClientIP, NotifyURL: s.set.NotifyURL(gw.Provider()), ReturnURL: s.set.ReturnURL(),
		ExpiresAt: o.ExpiresAt, Attach: p.ID,
	})
	if err != nil {
		// Never handed to a client; the query job (already queued) still
		// asks the channel about it, in case the channel took it.
		s.abandon(ctx, o, "prepay_failed")
		if errors.Is(err, ErrTradePaid) {
			return PayResult{}, true, ErrAlreadyPaid
		}
		return PayResult{}, true, ErrChannelUnavailable.WithCause(err)
	}
	// Stored before it is returned: an order a client holds always has its
	// parameters in zwfw, so concurrent requests hand out the same ones.
	if err := s.store.SetPrepay(ctx, o.ID, prepay); err != nil {
		return PayResult{}, true, err
	}
	o.Prepay = &prepay
	return PayResult{Order: o, Prepay: prepay}, true, nil
}

// abandon closes an order that never reached a client and frees the payment.
func (s *Service) abandon(ctx context.Context, o Order, reason string) {
	now := s.now().UTC()
	if _, err := s.store.CloseOrder(ctx, o.ID, reason, now); err != nil {
		s.log.Error("payments: abandoned order not closed", "order", o.ID, "err", err)
	}
	if _, err := s.store.SetOpenOrder(ctx, o.PaymentID, o.ID, "", now); err != nil {
		s.log.Error("payments: open order pointer not cleared", "order", o.ID, "err", err)
	}
}

// closeAtChannel closes an open order at its channel, then in zwfw. If the
// channel says it was paid meanwhile, the payment is applied and
// ErrAlreadyPaid returned.
func (s *Service) closeAtChannel(ctx context.Context, o Order, reason string) error {
	gw, err := s.gateway(o.Provider)
	if err != nil {
		return err
	}
	if err := gw.Close(ctx, o.ID); err != nil {
		if errors.Is(err, ErrTradePaid) {
			t, qerr := gw.Query(ctx, o.ID)
			if qerr != nil {
				return ErrChannelUnavailable.WithCause(qerr)
			}
			if _, err := s.applyPaid(ctx, o.Provider, t, "query"); err != nil {
				return err
			}
			return ErrAlreadyPaid
		}
		return ErrChannelUnavailable.WithCause(err)
	}
	ok, err := s.store.CloseOrder(ctx, o.ID, reason, s.now().UTC())
	if err != nil {
		return err
	}
	if !ok {
		cur, err := s.store.Order(ctx, o.ID)
		if err != nil {
			return err
		}
		if cur.Status == OrderPaid {
			return ErrAlreadyPaid
		}
	}
	return nil
}

// waiter paces the re-reads of a request waiting for another one: short
// sleeps growing to 100 ms, until its budget is spent.
type waiter struct {
	deadline time.Time
	sleep    time.Duration
}

func newWaiter(budget time.Duration) *waiter {
	return &waiter{deadline: time.Now().Add(budget), sleep: 5 * time.Millisecond}
}

// wait sleeps once; false when the budget is spent or ctx ended.
func (w *waiter) wait(ctx context.Context) bool {
	if time.Now().Add(w.sleep).After(w.deadline) {
		return false
	}
	t := time.NewTimer(w.sleep)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	w.sleep = min(w.sleep*2, 100*time.Millisecond)
	return true
}

// newOrderID is an out_trade_no: "ZW", the Shanghai time to the second and
// 8 random digits (22 characters; both providers allow 32).
func newOrderID(now time.Time) string {
	return "ZW" + now.In(shanghai).Format("060102150405") + randomDigits(8)
}

func randomDigits(n int) string {
	limit := big.NewInt(1)
	for i := 0; i < n; i++ {
		limit.Mul(limit, big.NewInt(10))
	}
	v, err := rand.Int(rand.Reader, limit)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("%0*d", n, v)
}

// subjectOf is what the payer's wallet shows: agency and items, bounded.
func subjectOf(p Payment) string {
	names := make([]string, 0, len(p.Items))
	for _, it := range p.Items {
		names = append(names, it.Name)
	}
	s := "非税缴费-" + strings.Join(names, "、")
	if r := []rune(s); len(r) > 40 {
		s = string(r[:39]) + "…"
	}
	return s
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// orderJob is the payload of the order jobs.
type orderJob struct {
	OrderID string `bson:"order_id"`
}
