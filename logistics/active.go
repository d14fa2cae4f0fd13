package logistics

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// ActiveLimit bounds ActiveOf: a person has a handful of parcels under way.
const ActiveLimit = 20

// ActiveOf lists the user's shipments that are not final yet (to be picked
// up, on the way, out for delivery, or held up), most recently changed
// first, at most limit (ActiveLimit when limit is out of range); for the
// home screen's parcels to receive and in transit.
func (s *Service) ActiveOf(ctx context.Context, userID string, limit int) ([]Shipment, error) {
	if limit <= 0 || limit > ActiveLimit {
		limit = ActiveLimit
	}
	list, err := s.store.ActiveOfUser(ctx, userID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Shipment, 0, len(list))
	for _, sh := range list {
		out = append(out, *sh)
	}
	return out, nil
}

// ActiveOfUser implements Store (the user_id, state index).
func (s *MongoStore) ActiveOfUser(ctx context.Context, userID string, limit int) ([]*Shipment, error) {
	return s.find(ctx, bson.D{{Key: "user_id", Value: userID}, {Key: "state", Value: bson.D{{Key: "$in", Value: pollable}}}},
		options.Find().SetSort(bson.D{{Key: "updated_at", Value: -1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
}

// Subject is the event subject of a shipment's events (and of the
// reminders about it).
func Subject(shipmentID string) string { return "shipment:" + shipmentID }
