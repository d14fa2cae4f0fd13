package booking

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// CaseBookingsLimit bounds the bookings OfCase returns: a case sees a few
// visits (a booking, a reschedule after a no-show), never a long list.
const CaseBookingsLimit = 20

// OfCase lists the bookings made for a case (BookRequest.CaseID), newest
// first, at most CaseBookingsLimit; for the views that show a case's file
// (its owner's and the hotline's). Who may see the case is the caller's
// business: the bookings are returned whoever made them.
func (s *Service) OfCase(ctx context.Context, caseID string) ([]*Booking, error) {
	if caseID == "" || !refPattern.MatchString(caseID) {
		return []*Booking{}, nil
	}
	return s.store.ListByCase(ctx, caseID, CaseBookingsLimit)
}

// ListByCase implements Store (the case_id index).
func (s *MongoStore) ListByCase(ctx context.Context, caseID string, limit int) ([]*Booking, error) {
	return s.findBookings(ctx, bson.D{{Key: "case_id", Value: caseID}}, bson.D{{Key: "_id", Value: -1}}, limit)
}

// Subject is the event subject of a booking's events (and of the reminders
// about it).
func Subject(bookingID string) string { return "booking:" + bookingID }
