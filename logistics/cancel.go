package logistics

import (
	"context"
	"errors"

	"zwfw/apperr"
	"zwfw/logistics/courier"
)

// Cancel cancels the user's pickup before the courier collected the
// parcel: the aggregator's order first, then the shipment (state
// cancelled). Cancelling a cancelled shipment returns it unchanged. Only
// the applicant's own pickups (to_hall) can be cancelled.
//
// Returns SHIPMENT_NOT_FOUND, SHIPMENT_ALREADY_PICKED_UP (collected, by
// what zwfw knows or by the aggregator's answer), SHIPMENT_STATE_CONFLICT
// (a result shipment, or one that has ended) or
// SHIPMENT_COURIER_UNAVAILABLE (nothing changed; try again).
func (s *Service) Cancel(ctx context.Context, userID, id string) (Shipment, error) {
	cur, err := s.Get(ctx, userID, id)
	if err != nil {
		return Shipment{}, err
	}
	sh := &cur
	for range maxWriteAttempts {
		switch {
		case sh.State == StateCancelled:
			return *sh, nil
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
		next.note(now, StateCancelled, "已取消上门取件")
		next.State, next.UpdatedAt = StateCancelled, now
		next.Version++
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
