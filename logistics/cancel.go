package logistics

import (
	"context"
	"errors"

	"zwfw/apperr"
	"zwfw/logistics/courier"
)

// Cancel cancels the user's pickup before the courier collected the
// parcel: the aggregator's order first, then the shipment (state
// cancelled, shipment.cancelled in the same write). Only the applicant's
// own pickups (to_hall) can be cancelled. Of concurrent cancels one
// stores the change and the others are refused with
// SHIPMENT_ALREADY_CANCELLED (the aggregator counts a repeated cancel as
// done, so the order is cancelled once); retries of one request are the
// HTTP idempotency mechanism's business.
//
// Returns SHIPMENT_NOT_FOUND, SHIPMENT_ALREADY_CANCELLED,
// SHIPMENT_ALREADY_PICKED_UP (collected, by what zwfw knows or by the
// aggregator's answer), SHIPMENT_STATE_CONFLICT (a result shipment, or one
// that has ended) or SHIPMENT_COURIER_UNAVAILABLE (nothing changed; try
// again).
func (s *Service) Cancel(ctx context.Context, userID, id string) (Shipment, error) {
	cur, err := s.Get(ctx, userID, id)
	if err != nil {
		return Shipment{}, err
	}
	sh := &cur
	for range maxWriteAttempts {
		switch {
		case sh.State == StateCancelled:
			return Shipment{}, ErrAlreadyCancelled
		case sh.Direction != ToHall:
			return Shipment{}, ErrStateConflict.WithMessage("办理结果的寄递不能取消，如需改寄请联系办理大厅")
		case !sh.Cancellable() && sh.State.Final():
			return Shipment{}, ErrStateConflict.WithMessage("该寄递已结束，不能取消")
		case !sh.Cancellable():
			return Shipment{}, ErrAlreadyPickedUp
		}
		if sh.CourierOrderID != "" {
			// The courier's word decides: it may have collected the parcel
			// a moment ago, before any push said so.
			err := s.courier.CancelPickup(ctx, sh.Carrier, sh.CourierOrderID, "用户取消寄件")
			switch {
			case errors.Is(err, courier.ErrAlreadyPickedUp):
				return Shipment{}, ErrAlreadyPickedUp.WithCause(err)
			case errors.Is(err, courier.ErrOrderNotFound):
				// Unknown to the aggregator: nothing to collect; cancel here.
			case err != nil:
				return Shipment{}, ErrCourierUnavailable.WithCause(err)
			}
		}
		// A booking job running now sees the state and cancels what it booked.
		next := sh.clone()
		now := s.clock()
		entry := next.note(now, StateCancelled, "已取消上门取件")
		next.State, next.UpdatedAt = StateCancelled, now
		next.Version++
		next.emitTransitions([]Transition{{From: sh.State, To: StateCancelled, Event: entry}}, now)
		err := s.store.SaveShipment(ctx, next, sh.Version)
		if err == nil {
			return *next, nil
		}
		if !errors.Is(err, apperr.Conflict) {
			return Shipment{}, err
		}
		if sh, err = s.store.Shipment(ctx, id); err != nil {
			return Shipment{}, err
		}
	}
	return Shipment{}, ErrStateConflict
}
