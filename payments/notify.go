package payments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"zwfw/platform/jobs"
)

// Outcome says what applying a channel's report of a trade did.
type Outcome string

// Outcomes of applyPaid.
const (
	OutcomePaid       Outcome = "paid"      // this report marked the order (and payment) paid
	OutcomeDuplicate  Outcome = "duplicate" // already applied: nothing changed
	OutcomeAnomaly    Outcome = "anomaly"   // recorded for a person: nothing changed
	OutcomeNotPaidYet Outcome = "not_paid"  // the trade is not paid
)

// NotifyResult is what a notify did, and the answer the channel expects.
type NotifyResult struct {
	Outcome     Outcome
	Body        []byte
	ContentType string
}

// HandleNotify verifies and applies a channel's notify. A valid notify is
// always acknowledged (so the channel stops retrying) once it is applied or
// recorded as an anomaly; only a notify zwfw could not store gets a failure
// answer (the channel retries later). Forged or foreign notifies change
// nothing, are recorded, and return ErrNotifyForged / ErrNotifyForeign with
// the failure body.
func (s *Service) HandleNotify(ctx context.Context, provider Provider, in InboundNotify) (NotifyResult, error) {
	gw, ok := s.gateways[provider]
	if !ok {
		return NotifyResult{}, ErrNotifyUnknown
	}
	fail := func(err error) (NotifyResult, error) {
		body, ct := gw.Ack(false)
		return NotifyResult{Body: body, ContentType: ct}, err
	}
	n, err := gw.ParseNotify(ctx, in)
	if err != nil {
		sum := sha256.Sum256(in.Body)
		a := Anomaly{ID: fmt.Sprintf("forged:%s:%s", provider, hex.EncodeToString(sum[:12])), Kind: AnomalyForgedNotify,
			Provider: provider, Detail: truncate(err.Error(), 200)}
		if errors.Is(err, ErrForgedNotify) || errors.Is(err, ErrForeignNotify) {
			s.record(ctx, a)
			s.log.Warn("payments: notify refused", "provider", provider, "err", err)
			if errors.Is(err, ErrForeignNotify) {
				return fail(ErrNotifyForeign.WithCause(err))
			}
			return fail(ErrNotifyForged.WithCause(err))
		}
		return fail(ErrNotifyForged.WithCause(err)) // unparseable: treat as forged, record nothing
	}
	var outcome Outcome
	switch n.Kind {
	case NotifyPaid:
		outcome, err = s.applyPaid(ctx, provider, n.Trade, "notify")
	case NotifyRefunded:
		outcome, err = s.applyRefundResult(ctx, n.Refund)
	default:
		outcome = OutcomeDuplicate
	}
	if err != nil {
		return fail(err)
	}
	body, ct := gw.Ack(true)
	return NotifyResult{Outcome: outcome, Body: body, ContentType: ct}, nil
}

// applyPaid applies "this trade is paid" from a notify, a query or the
// bill. The order moves to paid in one guarded write, so of 50 concurrent
// copies exactly one wins; only the winner settles the payment. An order
// zwfw closed is applied too: its channel took the money (a close that
// raced the payer, an Alipay order string opened after its close), so it is
// the payer's payment, or a second one that settle refunds.
func (s *Service) applyPaid(ctx context.Context, provider Provider, t Trade, via string) (Outcome, error) {
	if t.State != TradePaid && t.State != TradeRefunded {
		return OutcomeNotPaidYet, nil
	}
	now := s.now().UTC()
	o, err := s.store.Order(ctx, t.OutTradeNo)
	if errors.Is(err, ErrNotFound) {
		s.record(ctx, Anomaly{ID: anomalyID(AnomalySurplus, provider, t.TransactionID), Kind: AnomalySurplus,
			Provider: provider, OrderID: t.OutTradeNo, TransactionID: t.TransactionID, Actual: t.Amount,
			Detail: "渠道收款但本系统无此订单（长款）", FirstAt: now, LastAt: now})
		return OutcomeAnomaly, nil
	}
	if err != nil {
		return "", err
	}
	if o.Provider != provider || t.Amount != o.Amount || (t.Currency != "" && t.Currency != "CNY") {
		s.record(ctx, Anomaly{ID: anomalyID(AnomalyAmountMismatch, provider, t.TransactionID), Kind: AnomalyAmountMismatch,
			Provider: provider, OrderID: o.ID, PaymentID: o.PaymentID, TransactionID: t.TransactionID,
			Expected: o.Amount, Actual: t.Amount,
			Detail:  fmt.Sprintf("渠道金额 %s 元（%s）与订单金额 %s 元不符，未入账，待人工核查", t.Amount.Yuan(), orDefault(t.Currency, "CNY"), o.Amount.Yuan()),
			FirstAt: now, LastAt: now})
		return OutcomeAnomaly, nil
	}
	if o.Status == OrderPaid {
		return s.alreadyPaid(ctx, o, t)
	}
	won, err := s.store.MarkOrderPaid(ctx, o.ID, t, via)
	if err != nil {
		return "", err
	}
	if !won {
		cur, err := s.store.Order(ctx, o.ID)
		if err != nil {
			return "", err
		}
		return s.alreadyPaid(ctx, cur, t)
	}
	o.Status, o.TransactionID, o.PaidAt, o.Payer, o.PaidVia = OrderPaid, t.TransactionID, t.PaidAt.UTC(), t.Payer, via
	if err := s.settle(ctx, o); err != nil {
		// The order is paid; the query job (scheduled at creation) settles it later.
		s.log.Error("payments: paid order not settled yet", "order", o.ID, "err", err)
	}
	return OutcomePaid, nil
}

// alreadyPaid handles a second report of a paid order.
func (s *Service) alreadyPaid(ctx context.Context, o Order, t Trade) (Outcome, error) {
	if o.TransactionID != t.TransactionID {
		now := s.now().UTC()
		s.record(ctx, Anomaly{ID: anomalyID(AnomalySurplus, o.Provider, t.TransactionID), Kind: AnomalySurplus,
			Provider: o.Provider, OrderID: o.ID, PaymentID: o.PaymentID, TransactionID: t.TransactionID, Actual: t.Amount,
			Detail: "同一订单出现第二笔渠道交易（长款）", FirstAt: now, LastAt: now})
		return OutcomeAnomaly, nil
	}
	return OutcomeDuplicate, nil
}

// settle records a paid order on its payment (with payment.succeeded in the
// same write) and queues the confirmation with the non-tax platform. If
// another order paid the notice first (or it was withdrawn), this order's
// money goes back automatically (refundDuplicate). Any other order a
// client may still hold is closed through its channel. Idempotent: the
// query job calls it again for paid orders whose settling was interrupted.
func (s *Service) settle(ctx context.Context, o Order) error {
	now := s.now().UTC()
	p, err := s.store.Payment(ctx, o.PaymentID)
	if err != nil {
		return err
	}
	if p.Status == StatusUnpaid {
		prevOpen, won, err := s.store.MarkPaymentPaid(ctx, p.ID, o, succeededEvent(p, o, now), now)
		if err != nil {
			return err
		}
		if won {
			p.Status, p.PaidOrder = StatusPaid, o.ID
			if prevOpen != "" && prevOpen != o.ID {
				s.closeLater(ctx, prevOpen)
			}
		} else if p, err = s.store.Payment(ctx, o.PaymentID); err != nil {
			return err
		}
	}
	if p.PaidOrder != o.ID && p.Status != StatusUnpaid {
		return s.refundDuplicate(ctx, p, o)
	}
	if p.PaidOrder != o.ID {
		return fmt.Errorf("payments: payment %s of paid order %s changed while settling", p.ID, o.ID)
	}
	_, _, err = s.queue.Enqueue(ctx, confirmJob(o.ID))
	return err
}

// refundDuplicate returns the money of order o, paid for a notice that
// another order paid first (or the platform withdrew), through o's own
// channel: a refund of the whole order, stored with payment.duplicate_paid
// in the same write, a durable job that asks the channel for it, and an
// anomaly naming the refund for the reconciliation report. The refund id
// is derived from the order, so settling twice refunds once.
func (s *Service) refundDuplicate(ctx context.Context, p Payment, o Order) error {
	now := s.now().UTC()
	r := Refund{
		ID: duplicateRefundID(o.ID), PaymentID: p.ID, OrderID: o.ID, Provider: o.Provider, TransactionID: o.TransactionID,
		OrderAmount: o.Amount, Amount: o.Amount, Reason: "重复缴费自动退款", Actor: "system", Kind: RefundDuplicate,
		Status: RefundStatusPending, CreatedAt: now,
	}
	kind, detail := AnomalyDuplicatePayment, fmt.Sprintf("同一缴款通知书重复缴费，已自动原路退款（退款单号 %s）", r.ID)
	if p.Status == StatusCancelled {
		r.Reason = "缴款通知书已撤销，自动退款"
		kind, detail = AnomalyNotPayable, fmt.Sprintf("缴款通知书已撤销后收到付款，已自动原路退款（退款单号 %s）", r.ID)
	}
	r.Emit(duplicatePaidEvent(p, o, r.ID, now))
	if _, created, err := s.store.InsertRefund(ctx, r); err != nil {
		return err
	} else if created {
		s.record(ctx, Anomaly{ID: anomalyID(kind, o.Provider, o.TransactionID), Kind: kind, Provider: o.Provider,
			OrderID: o.ID, PaymentID: p.ID, TransactionID: o.TransactionID, RefundID: r.ID,
			Expected: 0, Actual: o.Amount, Detail: detail, FirstAt: now, LastAt: now})
	}
	_, _, err := s.queue.Enqueue(ctx, refundJobRequest(r.ID))
	return err
}

// closeLater queues closing an order through its channel now (a client
// may hold it; its notice was just paid by another order).
func (s *Service) closeLater(ctx context.Context, orderID string) {
	if _, _, err := s.queue.Enqueue(ctx, jobs.EnqueueRequest{Type: JobCloseOrder, Key: orderID,
		Payload: orderJob{OrderID: orderID}, MaxAttempts: 30}); err != nil {
		// The order's own query job closes it at expiry at the latest.
		s.log.Error("payments: close of a superseded order not queued", "order", orderID, "err", err)
	}
}

// duplicateRefundID is the out_refund_no of the refund of a duplicate payment.
func duplicateRefundID(orderID string) string {
	sum := sha256.Sum256([]byte("duplicate\x00" + orderID))
	return "RD" + strings.ToUpper(hex.EncodeToString(sum[:]))[:24]
}

func (s *Service) record(ctx context.Context, a Anomaly) {
	now := s.now().UTC()
	if a.FirstAt.IsZero() {
		a.FirstAt = now
	}
	a.LastAt = now
	if err := s.store.RecordAnomaly(ctx, a); err != nil {
		s.log.Error("payments: anomaly not recorded", "kind", a.Kind, "order", a.OrderID, "err", err)
		return
	}
	s.log.Warn("payments: anomaly", "kind", a.Kind, "provider", a.Provider, "order", a.OrderID,
		"transaction", a.TransactionID, "expected_fen", a.Expected, "actual_fen", a.Actual)
}

func anomalyID(k AnomalyKind, p Provider, ref string) string {
	return fmt.Sprintf("%s:%s:%s", k, p, ref)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
