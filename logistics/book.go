package logistics

import (
	"context"
	"errors"
	"fmt"

	"zwfw/apperr"
	"zwfw/logistics/courier"
	"zwfw/platform/jobs"
)

// maxWriteAttempts bounds the reload-and-retry loop of a versioned write.
const maxWriteAttempts = 8

// HandleCreatePickup books the courier for a shipment (job
// JobCreatePickup): it asks the aggregator for a pickup with the shipment
// id as idempotency key (a retried job never books twice), records the
// carrier, waybill and order, issues the postage notice when the applicant
// pays, and subscribes the waybill's pushes. Each step is skipped when a
// previous run did it. A booking the aggregator refuses for good (a window
// out of reach, a bad address) moves the shipment to exception, tells the
// applicant through shipment.exception, and parks the job.
func (s *Service) HandleCreatePickup(ctx context.Context, j *jobs.Job) error {
	var p shipmentJob
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	sh, err := s.store.Shipment(ctx, p.ShipmentID)
	if errors.Is(err, ErrNotFound) {
		return jobs.Permanent(err)
	}
	if err != nil {
		return err
	}
	if sh.State == StateCancelled || (sh.CourierOrderID == "" && sh.State != StateCreated) {
		return nil // cancelled before booking, or the booking failed for good
	}
	if sh.CourierOrderID == "" {
		if sh, err = s.book(ctx, sh); err != nil || sh == nil {
			return err
		}
	}
	if sh.ApplicantPays() && s.postage != nil && sh.Postage.PaymentCode == "" {
		if sh, err = s.issuePostage(ctx, sh); err != nil {
			return err
		}
	}
	if sh.WaybillNumber == "" || sh.State.Final() {
		return nil
	}
	// The pickup already subscribed the waybill (Kuaidi100's op=1); asking
	// again makes sure, and a subscription in force counts as success.
	phone, err := s.pii.DecryptField(fieldPhone, sh.Receiver.PhoneEnc)
	if err != nil {
		return jobs.Permanent(err)
	}
	if err := s.courier.Subscribe(ctx, sh.Carrier, sh.WaybillNumber, phone, s.callback(sh.Carrier), sh.Salt); err != nil {
		return s.courierRetry(err)
	}
	return nil
}

// book asks the aggregator for the pickup and records it. It returns the
// stored shipment, or nil when the shipment was cancelled meanwhile (the
// fresh booking is then cancelled too) or the booking failed for good.
func (s *Service) book(ctx context.Context, sh *Shipment) (*Shipment, error) {
	from, err := s.open(sh.Sender)
	if err != nil {
		return nil, jobs.Permanent(err)
	}
	to, err := s.open(sh.Receiver)
	if err != nil {
		return nil, jobs.Permanent(err)
	}
	cargo := "申请材料"
	if sh.Direction == ToApplicant {
		cargo = "办理结果"
	}
	req := courier.PickupRequest{
		Carrier: s.set.Carrier, Sender: party(from), Receiver: party(to), Cargo: cargo, WeightGrams: s.set.WeightGrams,
		Remark: remark(sh), CallbackURL: s.callback(s.set.Carrier), Salt: sh.Salt, IdempotencyKey: sh.ID,
	}
	if req.CallbackURL == "" {
		// A configuration gap, not the applicant's fault: retry once fixed.
		return nil, errors.New("logistics: no courier callback URL configured")
	}
	if sh.PickupWindow != nil {
		req.Window = courier.Window{Start: sh.PickupWindow.Start, End: sh.PickupWindow.End}
	}
	pk, err := s.courier.CreatePickup(ctx, req)
	if err != nil {
		if refusedForGood(err) {
			return nil, jobs.Permanent(s.bookingFailed(ctx, sh.ID, err))
		}
		return nil, s.courierRetry(err)
	}
	if pk.WaybillNumber != "" {
		// The key first: a push that arrives right after must find the shipment.
		if err := s.store.PutWaybill(ctx, pk.Carrier, pk.WaybillNumber, sh.ID); err != nil {
			return nil, err
		}
	}
	for range maxWriteAttempts {
		if sh.State == StateCancelled {
			// Cancelled while the booking was in flight: undo it.
			if err := s.courier.CancelPickup(ctx, pk.Carrier, pk.OrderID, "用户取消寄件"); err != nil && !errors.Is(err, courier.ErrOrderNotFound) {
				return nil, s.courierRetry(err)
			}
			return nil, nil
		}
		next := sh.clone()
		now := s.clock()
		next.Carrier, next.WaybillNumber, next.CourierOrderID = pk.Carrier, pk.WaybillNumber, pk.OrderID
		next.LastCheckedAt, next.UpdatedAt = now, now
		next.Version++
		text := "快递公司已受理，等待快递员上门取件"
		if sh.Direction == ToApplicant {
			text = "快递公司已受理，等待快递员到大厅取件"
		}
		if pk.WaybillNumber != "" {
			text += "，运单号 " + pk.WaybillNumber
		}
		next.note(now, StateCreated, text)
		err := s.store.SaveShipment(ctx, next, sh.Version)
		if err == nil {
			s.log.Info("logistics: pickup booked", "shipment_id", sh.ID, "carrier", pk.Carrier, "waybill", pk.WaybillNumber)
			return next, nil
		}
		if !errors.Is(err, apperr.Conflict) {
			return nil, err
		}
		if sh, err = s.store.Shipment(ctx, sh.ID); err != nil {
			return nil, err
		}
	}
	return nil, ErrStateConflict
}

// bookingFailed moves a shipment whose pickup the aggregator refused to
// exception, with the reason in its timeline and shipment.exception in the
// same write, and returns cause.
func (s *Service) bookingFailed(ctx context.Context, id string, cause error) error {
	msg := apperr.From(cause).Message
	s.log.Warn("logistics: pickup refused", "shipment_id", id, "err", cause)
	for range maxWriteAttempts {
		sh, err := s.store.Shipment(ctx, id)
		if err != nil {
			return err
		}
		if sh.State != StateCreated || sh.CourierOrderID != "" {
			return cause
		}
		next := sh.clone()
		now := s.clock()
		entry := next.note(now, StateException, "预约上门取件未成功："+msg)
		next.State, next.UpdatedAt = StateException, now
		next.Version++
		next.emitTransitions([]Transition{{From: StateCreated, To: StateException, Event: entry}}, now)
		err = s.store.SaveShipment(ctx, next, sh.Version)
		if err == nil {
			return cause
		}
		if !errors.Is(err, apperr.Conflict) {
			return err
		}
	}
	return cause
}

// issuePostage asks payments for the postage notice and stores its code.
func (s *Service) issuePostage(ctx context.Context, sh *Shipment) (*Shipment, error) {
	code, err := s.postage.IssuePostage(ctx, *sh)
	if err != nil {
		return nil, fmt.Errorf("logistics: postage notice of %s: %w", sh.ID, err)
	}
	for range maxWriteAttempts {
		if sh.Postage.PaymentCode != "" {
			return sh, nil
		}
		next := sh.clone()
		next.Postage.PaymentCode, next.UpdatedAt = code, s.clock()
		next.Version++
		err := s.store.SaveShipment(ctx, next, sh.Version)
		if err == nil {
			return next, nil
		}
		if !errors.Is(err, apperr.Conflict) {
			return nil, err
		}
		if sh, err = s.store.Shipment(ctx, sh.ID); err != nil {
			return nil, err
		}
	}
	return nil, ErrStateConflict
}

// refusedForGood tells refusals a retry would only repeat.
func refusedForGood(err error) bool {
	return errors.Is(err, courier.ErrInvalidRequest) || errors.Is(err, courier.ErrRejected)
}

// courierRetry wraps a courier failure for the job runner: retried with
// backoff (an auth failure too: it is a configuration or clock problem an
// operator fixes).
func (s *Service) courierRetry(err error) error {
	return ErrCourierUnavailable.WithCause(err)
}

// party is an address as the courier client takes it.
func party(a Address) courier.Party {
	return courier.Party{Name: a.Name, Phone: a.Phone, Province: a.Province, City: a.City, District: a.District, Detail: a.Detail}
}

// remark is printed on the waybill: which case the parcel belongs to.
func remark(sh *Shipment) string {
	if sh.CaseNumber != "" {
		return "办件编号 " + sh.CaseNumber
	}
	return ""
}
