package payments

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
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
// bill. The order moves open -> paid in one guarded write, so of 50
// concurrent copies exactly one wins; only the winner settles the payment,
// appends payment.succeeded and queues the confirmation.
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
	switch o.Status {
	case OrderClosed:
		s.record(ctx, Anomaly{ID: anomalyID(AnomalySurplus, provider, t.TransactionID), Kind: AnomalySurplus,
			Provider: provider, OrderID: o.ID, PaymentID: o.PaymentID, TransactionID: t.TransactionID, Expected: 0, Actual: t.Amount,
			Detail: "已关闭订单收到付款（长款），需人工退款", FirstAt: now, LastAt: now})
		return OutcomeAnomaly, nil
	case OrderPaid:
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
		if cur.Status == OrderClosed { // closed in between: the money is a surplus
			return s.applyPaid(ctx, provider, t, via)
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

// settle records a paid order on its payment, appends payment.succeeded and
// queues the confirmation with the non-tax platform. It is idempotent: the
// query job calls it again for paid orders whose settling was interrupted.
func (s *Service) settle(ctx context.Context, o Order) error {
	now := s.now().UTC()
	won, err := s.store.MarkPaymentPaid(ctx, o.PaymentID, o, now)
	if err != nil {
		return err
	}
	p, err := s.store.Payment(ctx, o.PaymentID)
	if err != nil {
		return err
	}
	if !won && p.PaidOrder != o.ID {
		// Another order of the same notice was paid first (e.g. both cashiers
		// were open while the first close was in flight): money twice.
		s.record(ctx, Anomaly{ID: anomalyID(AnomalyDuplicatePayment, o.Provider, o.TransactionID), Kind: AnomalyDuplicatePayment,
			Provider: o.Provider, OrderID: o.ID, PaymentID: o.PaymentID, TransactionID: o.TransactionID,
			Expected: 0, Actual: o.Amount, Detail: "同一缴款通知书重复缴费，需人工退还重复款项", FirstAt: now, LastAt: now})
		return nil
	}
	if _, _, err := s.queue.Enqueue(ctx, confirmJob(o.ID)); err != nil {
		return err
	}
	if won {
		s.appendEvent(ctx, EventSucceeded, o.PaymentID, "system", map[string]any{
			"payment_code": o.PaymentID, "order_id": o.ID, "channel": string(o.Channel), "amount_fen": int64(o.Amount),
			"transaction_id": o.TransactionID, "paid_at": o.PaidAt, "user_id": o.UserID, "case_number": p.CaseNumber,
		})
	}
	return nil
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
