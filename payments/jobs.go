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
// order is asked about at its channel until it is paid, or it expires and
// is closed there; a paid order whose settling was interrupted is settled.
// A lost notify therefore never loses a payment. An order zwfw closed is
// still asked about until it expires where its channel may take money for
// it anyway (Alipay cannot close an order string nobody opened yet), and an
// open order whose notice another order paid is closed at once.
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
	if o.Status == OrderPaid {
		return s.settle(ctx, o)
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
	expired := !s.now().Before(o.ExpiresAt)
	if o.Status == OrderClosed {
		if expired {
			return nil // the channel can no longer take money for it
		}
		return jobs.RetryAfter(errors.New("closed order still payable at its channel"), s.set.QueryEvery)
	}
	if !expired {
		pay, err := s.store.Payment(ctx, o.PaymentID)
		if err != nil {
			return err
		}
		if !pay.Status.Settled() && pay.Status != StatusCancelled {
			return jobs.RetryAfter(errors.New("order not paid yet"), s.set.QueryEvery)
		}
		// Another order paid the notice (or it was withdrawn): close this one now.
	}
	// Expired or superseded, unpaid: close at the channel so late money cannot arrive.
	if err := gw.Close(ctx, o.ID); err != nil {
		if errors.Is(err, ErrTradePaid) {
			return jobs.RetryAfter(err, 0) // paid at the last second: the next query applies it
		}
		return jobs.RetryAfter(err, s.set.QueryEvery)
	}
	return s.closeExpired(ctx, o, "expired")
}

// HandleCloseOrder closes, through its channel, an order a client may still
// hold after another order paid its notice (job JobCloseOrder). If the
// channel says it was paid meanwhile, the money is applied (and, being a
// second payment, refunded automatically).
func (s *Service) HandleCloseOrder(ctx context.Context, j *jobs.Job) error {
	var p orderJob
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	o, err := s.store.Order(ctx, p.OrderID)
	if errors.Is(err, ErrNotFound) {
		// Claimed by a request that never stored it: nothing can pay it.
		return nil
	}
	if err != nil {
		return err
	}
	if o.Status != OrderOpen {
		return nil
	}
	if err := s.closeAtChannel(ctx, o, "superseded"); err != nil && !errors.Is(err, ErrAlreadyPaid) {
		return jobs.RetryAfter(err, s.set.QueryEvery)
	}
	return nil
}

func (s *Service) closeExpired(ctx context.Context, o Order, reason string) error {
	now := s.now().UTC()
	if o.Status == OrderOpen {
		if _, err := s.store.CloseOrder(ctx, o.ID, reason, now); err != nil {
			return err
		}
	}
	_, err := s.store.SetOpenOrder(ctx, o.PaymentID, o.ID, "", now)
	return err
}

// HandleConfirm tells the non-tax platform a payment was made and stores the
// e-receipt with payment.receipt_issued (job JobConfirm). The platform is
// idempotent on the transaction, so a retried job gets the same receipt.
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
	now := s.now().UTC()
	_, err = s.store.SetReceipt(ctx, pay.ID, r, receiptIssuedEvent(pay.ID, r, o, now), now)
	return err
}

// Jobs lists the job types and handlers of the package, for the runner.
func (s *Service) Jobs() map[string]jobs.Handler {
	return map[string]jobs.Handler{
		JobQueryOrder:     s.HandleQueryOrder,
		JobCloseOrder:     s.HandleCloseOrder,
		JobConfirm:        s.HandleConfirm,
		JobRefund:         s.HandleRefund,
		JobRegisterRefund: s.HandleRegisterRefund,
	}
}
