package payments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"unicode/utf8"

	"zwfw/platform/jobs"
)

// RefundApplication asks to refund (part of) a paid payment.
type RefundApplication struct {
	PaymentID      string
	Amount         Fen // 0 means everything still refundable
	Reason         string
	Actor          string // the staff member or admin
	IdempotencyKey string
}

// RequestRefund starts a refund: the amount is reserved on the payment in
// one version-guarded write (two admins cannot both refund the last yuan;
// the total refunded never exceeds what was paid), the refund is stored and
// a durable job asks the channel for it and registers it with the non-tax
// platform. The same Idempotency-Key returns the same refund.
//
// Returns ErrIdempotencyMissing, ErrIdempotencyReused, ErrNotFound,
// ErrNotPaid, ErrRefundAmount, ErrRefundReason or ErrBusy.
func (s *Service) RequestRefund(ctx context.Context, req RefundApplication) (Refund, error) {
	if req.IdempotencyKey == "" {
		return Refund{}, ErrIdempotencyMissing
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Reason == "" || utf8.RuneCountInString(req.Reason) > 80 {
		return Refund{}, ErrRefundReason
	}
	if req.Amount < 0 || req.Amount > MaxFen {
		return Refund{}, ErrRefundAmount
	}
	id := refundID(req.PaymentID, req.IdempotencyKey)
	if r, err := s.store.Refund(ctx, id); err == nil {
		if r.Amount != req.Amount && req.Amount != 0 {
			return Refund{}, ErrIdempotencyReused
		}
		return r, nil
	} else if !errors.Is(err, ErrNotFound) {
		return Refund{}, err
	}
	for attempt := 0; attempt < 5; attempt++ {
		p, err := s.store.Payment(ctx, req.PaymentID)
		if err != nil {
			return Refund{}, err
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
		r := Refund{
			ID: id, PaymentID: p.ID, OrderID: o.ID, Provider: o.Provider, TransactionID: o.TransactionID,
			OrderAmount: o.Amount, Amount: amount, Reason: req.Reason, Actor: req.Actor, IdemKey: req.IdempotencyKey,
			Status: RefundStatusPending, CreatedAt: s.now().UTC(),
		}
		// The refund is stored before the reservation so a crash in between
		// leaves a visible pending refund, never an invisible reservation.
		stored, created, err := s.store.InsertRefund(ctx, r)
		if err != nil {
			return Refund{}, err
		}
		if !created {
			return stored, nil // a concurrent request with the same key won
		}
		ok, err := s.store.ReserveRefund(ctx, p.ID, p.Version, amount, s.now().UTC())
		if err != nil || !ok {
			_ = s.store.DeleteRefund(ctx, id)
			if err != nil {
				return Refund{}, err
			}
			continue // the payment changed meanwhile: check the limit again
		}
		if _, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: JobRefund, Key: id, Payload: refundJob{RefundID: id}, MaxAttempts: 60}); err != nil {
			return Refund{}, err
		}
		return r, nil
	}
	return Refund{}, ErrBusy
}

type refundJob struct {
	RefundID string `bson:"refund_id"`
}

// refundID is the out_refund_no: deterministic per payment and key, so a
// retried request (or job) asks the channel for the same refund.
func refundID(paymentID, key string) string {
	sum := sha256.Sum256([]byte(paymentID + "\x00" + key))
	return "RF" + strings.ToUpper(hex.EncodeToString(sum[:]))[:24]
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
// refund moves pending -> succeeded/failed in one guarded write; only the
// winner moves the money on the payment and appends payment.refunded.
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
	status, reason := RefundStatusSucceeded, ""
	at := res.SettledAt
	if at.IsZero() {
		at = s.now()
	}
	if res.State == RefundFailed {
		status, reason = RefundStatusFailed, "渠道退款失败"
	}
	won, err := s.store.FinishRefund(ctx, r.ID, status, res.RefundID, reason, at)
	if err != nil {
		return "", err
	}
	if !won {
		return OutcomeDuplicate, nil
	}
	if err := s.moveRefundMoney(ctx, r, status == RefundStatusSucceeded); err != nil {
		return "", err
	}
	if status == RefundStatusFailed {
		now := s.now().UTC()
		s.record(ctx, Anomaly{ID: anomalyID(AnomalyRefundFailed, r.Provider, r.ID), Kind: AnomalyRefundFailed,
			Provider: r.Provider, OrderID: r.OrderID, PaymentID: r.PaymentID, Expected: r.Amount,
			Detail: "渠道退款失败，需人工处理（如线下退款）", FirstAt: now, LastAt: now})
		return OutcomeAnomaly, nil
	}
	if _, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: JobRegisterRefund, Key: r.ID, Payload: refundJob{RefundID: r.ID}, MaxAttempts: 30}); err != nil {
		return "", err
	}
	o, _ := s.store.Order(ctx, r.OrderID)
	s.appendEvent(ctx, EventRefunded, r.PaymentID, r.Actor, map[string]any{
		"payment_code": r.PaymentID, "refund_id": r.ID, "amount_fen": int64(r.Amount), "reason": r.Reason,
		"user_id": o.UserID,
	})
	return OutcomePaid, nil
}

// moveRefundMoney settles the reservation on the payment (version-guarded, retried).
func (s *Service) moveRefundMoney(ctx context.Context, r Refund, succeeded bool) error {
	for attempt := 0; attempt < 10; attempt++ {
		p, err := s.store.Payment(ctx, r.PaymentID)
		if err != nil {
			return err
		}
		ok, err := s.store.SettleRefund(ctx, p, r.Amount, succeeded, s.now().UTC())
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
	if r.Registered || r.Status != RefundStatusSucceeded {
		return nil
	}
	if err := s.treasury.RegisterRefund(ctx, RefundRegistration{
		PaymentCode: r.PaymentID, RefundNo: r.ID, Amount: r.Amount, Reason: r.Reason, RefundedAt: r.SettledAt,
	}); err != nil {
		return err
	}
	return s.store.MarkRefundRegistered(ctx, r.ID)
}
