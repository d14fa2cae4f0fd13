package payments

import (
	"context"
	"errors"

	"zwfw/platform/jobs"
)

func confirmJob(orderID string) jobs.EnqueueRequest {
	return jobs.EnqueueRequest{Type: JobConfirm, Key: orderID, Payload: orderJob{OrderID: orderID}, MaxAttempts: 30}
}

// HandleQueryOrder is the active query of an order (job JobQueryOrder): an
// order still open is asked about at its channel until it is paid, or it
// expires and is closed there; a paid order whose settling was interrupted
// is settled. A lost notify therefore never loses a payment.
func (s *Service) HandleQueryOrder(ctx context.Context, j *jobs.Job) error {
	var p orderJob
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	o, err := s.store.Order(ctx, p.OrderID)
	if errors.Is(err, ErrNotFound) {
		return jobs.Permanent(err)
	}
	if err != nil {
		return err
	}
	switch o.Status {
	case OrderPaid:
		return s.settle(ctx, o)
	case OrderClosed:
		return nil
	}
	gw, err := s.gateway(o.Provider)
	if err != nil {
		return jobs.Permanent(err)
	}
	t, err := gw.Query(ctx, o.ID)
	switch {
	case errors.Is(err, ErrTradeNotFound):
		t = Trade{OutTradeNo: o.ID, State: TradeNotPaid} // the payer never opened the cashier
	case err != nil:
		return jobs.RetryAfter(err, s.set.QueryEvery)
	}
	switch t.State {
	case TradePaid, TradeRefunded:
		_, err := s.applyPaid(ctx, o.Provider, t, "query")
		return err
	case TradeClosed:
		return s.closeExpired(ctx, o, "closed_at_channel")
	}
	if s.now().Before(o.ExpiresAt) {
		return jobs.RetryAfter(errors.New("order not paid yet"), s.set.QueryEvery)
	}
	// Expired unpaid: close at the channel so late money cannot arrive.
	if err := gw.Close(ctx, o.ID); err != nil {
		if errors.Is(err, ErrTradePaid) {
			return jobs.RetryAfter(err, 0) // paid at the last second: the next query applies it
		}
		return jobs.RetryAfter(err, s.set.QueryEvery)
	}
	return s.closeExpired(ctx, o, "expired")
}

func (s *Service) closeExpired(ctx context.Context, o Order, reason string) error {
	if _, err := s.store.CloseOrder(ctx, o.ID, reason, s.now().UTC()); err != nil {
		return err
	}
	_, err := s.store.SetOpenOrder(ctx, o.PaymentID, o.ID, "")
	return err
}

// HandleConfirm tells the non-tax platform a payment was made and stores the
// e-receipt (job JobConfirm). The platform is idempotent on the transaction,
// so a retried job gets the same receipt.
func (s *Service) HandleConfirm(ctx context.Context, j *jobs.Job) error {
	var p orderJob
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	o, err := s.store.Order(ctx, p.OrderID)
	if err != nil {
		return err
	}
	pay, err := s.store.Payment(ctx, o.PaymentID)
	if err != nil {
		return err
	}
	if pay.PaidOrder != o.ID || pay.Receipt != nil {
		return nil
	}
	r, err := s.treasury.ConfirmPaid(ctx, Confirmation{
		PaymentCode: pay.ID, Channel: o.Channel, TransactionID: o.TransactionID, OutTradeNo: o.ID,
		Amount: o.Amount, PaidAt: o.PaidAt,
	})
	if errors.Is(err, ErrNoticeNotPayable) {
		now := s.now().UTC()
		s.record(ctx, Anomaly{ID: anomalyID(AnomalyNotPayable, o.Provider, o.TransactionID), Kind: AnomalyNotPayable,
			Provider: o.Provider, OrderID: o.ID, PaymentID: pay.ID, TransactionID: o.TransactionID, Expected: o.Amount, Actual: o.Amount,
			Detail: "非税平台拒绝入账（通知书已撤销或已由其他交易缴纳），需人工处理", FirstAt: now, LastAt: now})
		return jobs.Permanent(err)
	}
	if err != nil {
		return err
	}
	if err := s.store.SetReceipt(ctx, pay.ID, r, s.now().UTC()); err != nil {
		return err
	}
	s.appendEvent(ctx, EventReceiptIssued, pay.ID, "nontax", map[string]any{
		"payment_code": pay.ID, "receipt_number": r.Number, "receipt_url": r.URL, "user_id": o.UserID,
		"amount_fen": int64(o.Amount),
	})
	return nil
}

// Jobs lists the job types and handlers of the package, for the runner.
func (s *Service) Jobs() map[string]jobs.Handler {
	return map[string]jobs.Handler{
		JobQueryOrder:     s.HandleQueryOrder,
		JobConfirm:        s.HandleConfirm,
		JobRefund:         s.HandleRefund,
		JobRegisterRefund: s.HandleRegisterRefund,
	}
}
