package booking

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/apperr"
	"zwfw/platform/workdays"
)

// HallDayLimit bounds the bookings HallDay returns. A hall's day is its
// windows times its slots times their places: a few hundred even at a big
// hall, so a day over the limit means a misconfigured hall, not paging.
const HallDayLimit = 2000

// HallDay lists the bookings of one hall on one day (Asia/Shanghai), every
// status, in slot order and then in booking order: the hall clerks' screen
// of the day (who is expected when, who has a queue number, who did not
// come). Which halls a clerk may see is the caller's business.
//
// Returns REQUEST_INVALID for a malformed hall id or a zero day.
func (s *Service) HallDay(ctx context.Context, hallID string, day workdays.Date) ([]*Booking, error) {
	if !refPattern.MatchString(hallID) || day.IsZero() {
		return nil, apperr.InvalidInput.WithFields(apperr.Field("hall_id", "HALL_INVALID", "服务大厅或日期不正确"))
	}
	return s.store.ListByHallDay(ctx, hallID, day, HallDayLimit)
}

// hallDayIndex serves ListByHallDay: one hall's slots of a day in order.
var hallDayIndex = mongo.IndexModel{Keys: bson.D{{Key: "hall_id", Value: 1}, {Key: "slot_start", Value: 1}, {Key: "_id", Value: 1}}}

// ListByHallDay implements Store (the hall_id, slot_start index).
func (s *MongoStore) ListByHallDay(ctx context.Context, hallID string, day workdays.Date, limit int) ([]*Booking, error) {
	filter := bson.D{{Key: "hall_id", Value: hallID}, {Key: "slot_start", Value: bson.D{
		{Key: "$gte", Value: day.Start().UTC()}, {Key: "$lt", Value: day.AddDays(1).Start().UTC()}}}}
	return s.findBookings(ctx, filter, bson.D{{Key: "slot_start", Value: 1}, {Key: "_id", Value: 1}}, limit)
}
