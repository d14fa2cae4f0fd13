package payments

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"zwfw/platform/events"
	"zwfw/platform/jobs"
)

// RefundApplication asks to refund (part of) a paid payment.
type RefundApplication struct {
	PaymentID string
	Amount    Fen // 0 means everything still refundable
	Reason    string
	Actor     string // the staff member or admin
}

// RequestRefund starts a refund: the amount is reserved on the payment in
// one version-guarded write (two admins cannot both refund the last yuan;
// the total refunded never exceeds what was paid), then the refund is
// stored and a durable job asks the channel for it and registers it with
// the non-tax platform. Every call that passes the limit is a refund of its
// own; retries of one request are answered by the HTTP idempotency layer.
// A crash between the reservation and the refund's insert leaves a
// reservation without a refund, which the invariant check releases.
//
// Returns ErrNotFound, ErrNotPaid, ErrRefundAmount, ErrRefundReason or
// ErrBusy.
func (s *Service) RequestRefund(ctx context.Context, req RefundApplication) (Refund, error) {
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" || utf8.RuneCountInString(req.Reason) > 80 {
		return Refund{}, ErrRefundReason
	}
	if req.Amount < 0 || req.Amount > MaxFen {
		return Refund{}, ErrRefundAmount
	}
	w := newWaiter(s.set.BusyWait)
	for {
		p, err := s.store.Payment(ctx, req.PaymentID)
		if err != nil {
			return Refund{}, err
		}
		if p.Status == StatusRefunded {
			// Fully refunded: nothing is left to give back (not "unpaid").
			return Refund{}, ErrRefundAmount.WithDetail("refundable_fen", int64(0))
		}
		if p.Status != StatusPaid && p.Status != StatusPartiallyRefunded {
			return Refund{}, ErrNotPaid
		}
		amount := req.Amount
		if amount == 0 {
			amount = p.Refundable()
		}
		if amount <= 0 || amount > p.Refundable() {
			return Refund{}, ErrRefundAmount.WithDetail("refundable_fen", int64(p.Refundable()))
		}
		o, err := s.store.Order(ctx, p.PaidOrder)
		if err != nil {
			return Refund{}, err
		}
		now := s.now().UTC()
		ok, err := s.store.ReserveRefund(ctx, p.ID, p.Version, amount, now)
		if err != nil {
			return Refund{}, err
		}
		if !ok {
			// The payment changed meanwhile (another refund): check the limit again.
			if !w.wait(ctx) {
				return Refund{}, ErrBusy
			}
			continue
		}
		r := Refund{
			ID: newRefundID(now), PaymentID: p.ID, OrderID: o.ID, Provider: o.Provider, TransactionID: o.TransactionID,
			OrderAmount: o.Amount, Amount: amount, Reason: req.Reason, Actor: req.Actor,
			Status: RefundStatusPending, CreatedAt: now,
		}
		if _, _, err := s.store.InsertRefund(ctx, r); err != nil {
			if rerr := s.moveRefundMoney(ctx, r, false); rerr != nil {
				s.log.Error("payments: reservation of an unstored refund not released", "payment", p.ID, "err", rerr)
			}
			return Refund{}, err
		}
		if _, _, err := s.queue.Enqueue(ctx, refundJobRequest(r.ID)); err != nil {
			// Stored and reserved: the invariant check queues its job.
			return Refund{}, err
		}
		return r, nil
	}
}

type refundJob struct {
	RefundID string `bson:"refund_id"`
}

func refundJobRequest(refundID string) jobs.EnqueueRequest {
	return jobs.EnqueueRequest{Type: JobRefund, Key: refundID, Payload: refundJob{RefundID: refundID}, MaxAttempts: 60}
}

// newRefundID is an out_refund_no: "RF", the Shanghai time to the second
// and 10 random digits; the job retries it, so the channel refunds once.
func newRefundID(now time.Time) string {
	return "RF" + now.In(shanghai).Format("060102150405") + randomDigits(10)
}

// HandleRefund asks the channel for a refund and follows it until it settles
// (job JobRefund). The channel is idempotent on out_refund_no.
func (s *Service) HandleRefund(ctx context.Context, j *jobs.Job) error {
	var p refundJob
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	r, err := s.store.Refund(ctx, p.RefundID)
	if err != nil {
		return err
	}
	if r.Status != RefundStatusPending {
		return nil
	}
	gw, err := s.gateway(r.Provider)
	if err != nil {
		return jobs.Permanent(err)
	}
	res, err := gw.QueryRefund(ctx, r.OrderID, r.ID)
	if errors.Is(err, ErrRefundNotFound) {
		res, err = gw.Refund(ctx, RefundRequest{
			OutTradeNo: r.OrderID, TransactionID: r.TransactionID, OutRefundNo: r.ID,
			Total: r.OrderAmount, Amount: r.Amount, Reason: r.Reason, NotifyURL: s.set.RefundNotifyURL(),
		})
	}
	if errors.Is(err, ErrRefundRefused) {
		res = RefundResult{OutTradeNo: r.OrderID, OutRefundNo: r.ID, Amount: r.Amount, State: RefundFailed}
		err = nil
	}
	if err != nil {
		return jobs.RetryAfter(err, s.set.RefundQueryEvery)
	}
	if _, err := s.applyRefundResult(ctx, res); err != nil {
		return err
	}
	if res.State == RefundPending {
		return jobs.RetryAfter(errors.New("refund pending at the channel"), s.set.RefundQueryEvery)
	}
	return nil
}

// applyRefundResult settles a refund from a refund notify or query: the
// refund moves pending -> succeeded/failed in one guarded write, which also
// carries payment.refunded; only the winner moves the money on the payment.
// A duplicate payment's refund never touched the payment's totals: its
// success resolves its anomaly instead.
func (s *Service) applyRefundResult(ctx context.Context, res RefundResult) (Outcome, error) {
	if res.State == RefundPending {
		return OutcomeNotPaidYet, nil
	}
	r, err := s.store.Refund(ctx, res.OutRefundNo)
	if errors.Is(err, ErrNotFound) {
		now := s.now().UTC()
		s.record(ctx, Anomaly{ID: anomalyID(AnomalyRefundFailed, "", res.OutRefundNo), Kind: AnomalyRefundFailed,
			OrderID: res.OutTradeNo, Actual: res.Amount, Detail: "渠道退款通知无对应退费记录", FirstAt: now, LastAt: now})
		return OutcomeAnomaly, nil
	}
	if err != nil {
		return "", err
	}
	if res.Amount != 0 && res.Amount != r.Amount {
		now := s.now().UTC()
		s.record(ctx, Anomaly{ID: anomalyID(AnomalyRefundFailed, r.Provider, r.ID), Kind: AnomalyRefundFailed,
			Provider: r.Provider, OrderID: r.OrderID, PaymentID: r.PaymentID, Expected: r.Amount, Actual: res.Amount,
			Detail: "渠道退款金额与退费记录不符", FirstAt: now, LastAt: now})
		return OutcomeAnomaly, nil
	}
	if r.Status != RefundStatusPending {
		return OutcomeDuplicate, nil
	}
	status, reason := RefundStatusSucceeded, ""
	at := res.SettledAt
	if at.IsZero() {
		at = s.now()
	}
	if res.State == RefundFailed {
		status, reason = RefundStatusFailed, "渠道退款失败"
	}
	var evs []events.Pending
	if status == RefundStatusSucceeded && r.Kind == RefundRequested {
		o, err := s.store.Order(ctx, r.OrderID)
		if err != nil {
			return "", err
		}
		evs = append(evs, refundedEvent(r, o.UserID, s.now()))
	}
	now := s.now().UTC()
	if r.Kind == RefundDuplicate && status == RefundStatusSucceeded {
		// The channel returned the money: nobody needs to act on it any more
		// (resolved first, so a refund shown succeeded has its anomaly resolved).
		if err := s.resolveDuplicate(ctx, r, now); err != nil {
			return "", err
		}
	}
	won, err := s.store.FinishRefund(ctx, r.ID, status, res.RefundID, reason, at, evs...)
	if err != nil {
		return "", err
	}
	if !won {
		return OutcomeDuplicate, nil
	}
	if r.Kind == RefundDuplicate {
		if status == RefundStatusSucceeded {
			return OutcomePaid, nil
		}
	} else if err := s.moveRefundMoney(ctx, r, status == RefundStatusSucceeded); err != nil {
		return "", err
	}
	if status == RefundStatusFailed {
		s.record(ctx, Anomaly{ID: anomalyID(AnomalyRefundFailed, r.Provider, r.ID), Kind: AnomalyRefundFailed,
			Provider: r.Provider, OrderID: r.OrderID, PaymentID: r.PaymentID, TransactionID: r.TransactionID, RefundID: r.ID,
			Expected: r.Amount, Detail: "渠道退款失败，需人工处理（如线下退款）", FirstAt: now, LastAt: now})
		return OutcomeAnomaly, nil
	}
	if _, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: JobRegisterRefund, Key: r.ID, Payload: refundJob{RefundID: r.ID}, MaxAttempts: 30}); err != nil {
		return "", err
	}
	return OutcomePaid, nil
}

// resolveDuplicate marks the anomaly of a duplicate payment resolved once
// its automatic refund reached the payer.
func (s *Service) resolveDuplicate(ctx context.Context, r Refund, now time.Time) error {
	for _, k := range []AnomalyKind{AnomalyDuplicatePayment, AnomalyNotPayable} {
		err := s.store.ResolveAnomaly(ctx, anomalyID(k, r.Provider, r.TransactionID), "已自动原路退款成功", now)
		if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// moveRefundMoney settles the reservation of r on the payment
// (version-guarded, retried); a refund already settled is left alone.
func (s *Service) moveRefundMoney(ctx context.Context, r Refund, succeeded bool) error {
	for attempt := 0; attempt < 10; attempt++ {
		p, err := s.store.Payment(ctx, r.PaymentID)
		if err != nil {
			return err
		}
		if slices.Contains(p.SettledRefunds, r.ID) {
			return nil
		}
		ok, err := s.store.SettleRefund(ctx, p, r, succeeded, s.now().UTC())
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return ErrBusy
}

// HandleRegisterRefund books a settled refund with the non-tax platform (job JobRegisterRefund).
func (s *Service) HandleRegisterRefund(ctx context.Context, j *jobs.Job) error {
	var p refundJob
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	r, err := s.store.Refund(ctx, p.RefundID)
	if err != nil {
		return err
	}
	if r.Registered || r.Status != RefundStatusSucceeded || r.Kind == RefundDuplicate {
		return nil // a duplicate payment was never booked by the platform
	}
	if err := s.treasury.RegisterRefund(ctx, RefundRegistration{
		PaymentCode: r.PaymentID, RefundNo: r.ID, Amount: r.Amount, Reason: r.Reason, RefundedAt: r.SettledAt,
	}); err != nil {
		return err
	}
	return s.store.MarkRefundRegistered(ctx, r.ID)
}
