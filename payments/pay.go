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
	JobConfirm        = "payments.confirm"         // key: order id
	JobRefund         = "payments.refund"          // key: refund id
	JobRegisterRefund = "payments.register_refund" // key: refund id
	JobReconcile      = "payments.reconcile"       // key: date
)

// PayRequest asks to pay a payment through a channel.
type PayRequest struct {
	UserID         string
	PaymentID      string
	Channel        Channel
	IdempotencyKey string
	ClientIP       string
}

// PayResult is the channel order to pay and what the client needs for it.
type PayResult struct {
	Order  Order
	Prepay Prepay
}

// reuseMargin: an open order this close to expiry is replaced rather than
// handed out again, so the payer never lands on an expired cashier.
const reuseMargin = 2 * time.Minute

// Pay creates or reuses the open channel order of a payment and returns what
// the client needs to pay it. One payment has at most one open order: asking
// for another channel closes the open one at its channel first. The same
// Idempotency-Key with the same request returns the same order.
//
// Returns ErrChannelInvalid, ErrIdempotencyMissing, ErrIdempotencyReused,
// ErrNotFound, ErrAlreadyPaid, ErrNotPayable, ErrChannelNeedsOpenID,
// ErrTreasuryDown, ErrChannelUnavailable or ErrBusy.
func (s *Service) Pay(ctx context.Context, req PayRequest) (PayResult, error) {
	if !req.Channel.Valid() {
		return PayResult{}, ErrChannelInvalid
	}
	if req.IdempotencyKey == "" {
		return PayResult{}, ErrIdempotencyMissing
	}
	idemKey := "idem:" + req.UserID + ":" + req.IdempotencyKey
	hash := req.PaymentID + "|" + string(req.Channel)
	if orderID, h, found, err := s.store.Idem(ctx, idemKey); err != nil {
		return PayResult{}, err
	} else if found {
		if h != hash {
			return PayResult{}, ErrIdempotencyReused
		}
		if o, err := s.store.Order(ctx, orderID); err == nil {
			switch {
			case o.Status == OrderPaid:
				return PayResult{}, ErrAlreadyPaid
			case o.Status == OrderOpen && o.Prepay != nil && s.now().Before(o.ExpiresAt.Add(-reuseMargin)):
				return PayResult{Order: o, Prepay: *o.Prepay}, nil
			}
		}
		// The recorded order was closed or expired: pay anew under the same key.
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
	checked := false
	for attempt := 0; attempt < 4; attempt++ {
		switch {
		case p.Status.Settled():
			return PayResult{}, ErrAlreadyPaid
		case p.Status == StatusCancelled:
			return PayResult{}, ErrNotPayable
		}
		if p.OpenOrder != "" {
			o, err := s.store.Order(ctx, p.OpenOrder)
			switch {
			case err == nil && o.Status == OrderOpen && o.Channel == req.Channel && o.Prepay != nil && s.now().Before(o.ExpiresAt.Add(-reuseMargin)):
				if err := s.store.PutIdem(ctx, idemKey, hash, o.ID, s.now().UTC()); err != nil {
					return PayResult{}, err
				}
				return PayResult{Order: o, Prepay: *o.Prepay}, nil
			case err == nil && o.Status == OrderOpen:
				if err := s.closeAtChannel(ctx, o, "replaced"); err != nil {
					return PayResult{}, err
				}
			case err == nil && o.Status == OrderPaid:
				return PayResult{}, ErrAlreadyPaid
			case err != nil && !errors.Is(err, ErrNotFound):
				return PayResult{}, err
			}
			if _, err := s.store.SetOpenOrder(ctx, p.ID, p.OpenOrder, ""); err != nil {
				return PayResult{}, err
			}
			if p, err = s.store.Payment(ctx, p.ID); err != nil {
				return PayResult{}, err
			}
			continue
		}
		if !checked {
			// A notice paid at a bank counter or withdrawn must not take money twice.
			if err := s.checkPayable(ctx, &p); err != nil {
				return PayResult{}, err
			}
			checked = true
		}
		res, retry, err := s.openOrder(ctx, gw, p, req, openID)
		if err != nil {
			return PayResult{}, err
		}
		if retry {
			if p, err = s.store.Payment(ctx, p.ID); err != nil {
				return PayResult{}, err
			}
			continue
		}
		if err := s.store.PutIdem(ctx, idemKey, hash, res.Order.ID, s.now().UTC()); err != nil {
			return PayResult{}, err
		}
		return res, nil
	}
	return PayResult{}, ErrBusy
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
// retry is true when another request claimed the pointer first.
func (s *Service) openOrder(ctx context.Context, gw Gateway, p Payment, req PayRequest, openID string) (PayResult, bool, error) {
	now := s.now().UTC()
	o := Order{
		ID: newOrderID(now), PaymentID: p.ID, UserID: req.UserID, Channel: req.Channel, Provider: gw.Provider(),
		Amount: p.Amount, Subject: subjectOf(p), Status: OrderOpen, CreatedAt: now, ExpiresAt: now.Add(s.set.OrderTTL),
	}
	ok, err := s.store.SetOpenOrder(ctx, p.ID, "", o.ID)
	if err != nil || !ok {
		return PayResult{}, !ok && err == nil, err
	}
	if err := s.store.InsertOrder(ctx, o); err != nil {
		_, _ = s.store.SetOpenOrder(ctx, p.ID, o.ID, "")
		return PayResult{}, false, err
	}
	// Followed from birth: if every notify is lost, the query still finds the money.
	if _, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{
		Type: JobQueryOrder, Key: o.ID, Payload: orderJob{OrderID: o.ID},
		RunAt: now.Add(s.set.QueryAfter), MaxAttempts: 100,
	}); err != nil {
		s.abandon(ctx, o, "enqueue_failed")
		return PayResult{}, false, err
	}
	prepay, err := gw.Prepay(ctx, PrepayRequest{
		Channel: req.Channel, OutTradeNo: o.ID, Amount: o.Amount, Subject: o.Subject, OpenID: openID,
		ClientIP: req.ClientIP, NotifyURL: s.set.NotifyURL(gw.Provider()), ReturnURL: s.set.ReturnURL(),
		ExpiresAt: o.ExpiresAt, Attach: p.ID,
	})
	if err != nil {
		s.abandon(ctx, o, "prepay_failed")
		if errors.Is(err, ErrTradePaid) {
			return PayResult{}, false, ErrAlreadyPaid
		}
		return PayResult{}, false, ErrChannelUnavailable.WithCause(err)
	}
	if err := s.store.SetPrepay(ctx, o.ID, prepay); err != nil {
		return PayResult{}, false, err
	}
	o.Prepay = &prepay
	return PayResult{Order: o, Prepay: prepay}, false, nil
}

// abandon closes an order that never reached the channel and frees the payment.
func (s *Service) abandon(ctx context.Context, o Order, reason string) {
	if _, err := s.store.CloseOrder(ctx, o.ID, reason, s.now().UTC()); err != nil {
		s.log.Error("payments: abandoned order not closed", "order", o.ID, "err", err)
	}
	if _, err := s.store.SetOpenOrder(ctx, o.PaymentID, o.ID, ""); err != nil {
		s.log.Error("payments: open order pointer not cleared", "order", o.ID, "err", err)
	}
}

// closeAtChannel closes an open order at its channel, then in zwfw. If the
// channel says it was paid meanwhile, the payment is recorded and
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

// newOrderID is an out_trade_no: "ZW", the Shanghai time to the second and
// 8 random digits (22 characters; both providers allow 32).
func newOrderID(now time.Time) string {
	n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("ZW%s%08d", now.In(shanghai).Format("060102150405"), n.Int64())
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
