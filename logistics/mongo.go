package logistics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/apperr"
	"zwfw/platform/mongox"
)

// Collection names of the logistics store.
const (
	ShipmentsCollection = "shipments"
	KeysCollection      = "shipment_keys" // waybill:<carrier>:<number>
)

// MongoStore implements Store on MongoDB. Shipments are read and written
// by _id; pushes reach theirs through a waybill key document, also by _id.
// Its collections are mongox.Collections, so every rewrite of a document
// takes the guard on the embedded FerretDB, and a write that stores
// outbox events wakes the relay.
type MongoStore struct {
	shipments, keys *mongox.Collection
}

var _ Store = (*MongoStore)(nil)

// NewMongoStore uses db's logistics collections.
func NewMongoStore(db *mongo.Database) *MongoStore {
	return &MongoStore{shipments: mongox.C(db, ShipmentsCollection), keys: mongox.C(db, KeysCollection)}
}

// EnsureIndexes creates the secondary indexes; idempotent, call at start-up.
func (s *MongoStore) EnsureIndexes(ctx context.Context) error {
	return s.shipments.EnsureIndexes(ctx,
		mongo.IndexModel{Keys: bson.D{{Key: "case_id", Value: 1}, {Key: "created_at", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "user_id", Value: 1}, {Key: "state", Value: 1}}}, // the home screen's parcels
		mongo.IndexModel{Keys: bson.D{{Key: "state", Value: 1}, {Key: "last_checked_at", Value: 1}}},
		mongo.IndexModel{Keys: bson.D{{Key: "updated_at", Value: 1}}},
	)
}

func byID(id string) bson.D { return bson.D{{Key: "_id", Value: id}} }

// InsertShipment implements Store.
func (s *MongoStore) InsertShipment(ctx context.Context, sh *Shipment) (*Shipment, bool, error) {
	if _, err := s.shipments.InsertOne(ctx, sh); err != nil {
		if mongox.IsDuplicateKey(err) {
			existing, gerr := s.Shipment(ctx, sh.ID)
			return existing, false, gerr
		}
		return nil, false, fmt.Errorf("logistics: insert shipment: %w", err)
	}
	return sh, true, nil
}

// Shipment implements Store.
func (s *MongoStore) Shipment(ctx context.Context, id string) (*Shipment, error) {
	var sh Shipment
	if err := s.shipments.FindOne(ctx, byID(id)).Decode(&sh); err != nil {
		if mongox.IsNoDocuments(err) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("logistics: shipment: %w", err)
	}
	return &sh, nil
}

// SaveShipment implements Store.
func (s *MongoStore) SaveShipment(ctx context.Context, next *Shipment, prevVersion int64) error {
	err := s.shipments.ReplaceIfVersion(ctx, next.ID, prevVersion, next)
	if err != nil && !errors.Is(err, apperr.Conflict) {
		return fmt.Errorf("logistics: save shipment: %w", err)
	}
	return err
}

// Touch implements Store. Like every update it takes the collection's
// guard (mongox.Collection): on FerretDB an update rewrites the whole
// document, so an unguarded $set beside a versioned timeline update could
// write back a stale timeline.
func (s *MongoStore) Touch(ctx context.Context, id string, at time.Time) error {
	_, err := s.shipments.UpdateOne(ctx, byID(id), bson.D{{Key: "$set", Value: bson.D{{Key: "last_checked_at", Value: at}}}})
	if err != nil {
		return fmt.Errorf("logistics: touch shipment: %w", err)
	}
	return nil
}

// ShipmentsOfCase implements Store.
func (s *MongoStore) ShipmentsOfCase(ctx context.Context, caseID string) ([]*Shipment, error) {
	return s.find(ctx, bson.D{{Key: "case_id", Value: caseID}},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(50))
}

// pollable are the states in which a waybill may still change.
var pollable = bson.A{StateCreated, StatePickedUp, StateInTransit, StateOutForDelivery, StateException}

// DueForPoll implements Store.
func (s *MongoStore) DueForPoll(ctx context.Context, checkedBefore time.Time, limit int) ([]*Shipment, error) {
	return s.find(ctx, bson.D{
		{Key: "state", Value: bson.D{{Key: "$in", Value: pollable}}},
		{Key: "last_checked_at", Value: bson.D{{Key: "$lt", Value: checkedBefore}}},
		{Key: "waybill_number", Value: bson.D{{Key: "$gt", Value: ""}}},
	}, options.Find().SetSort(bson.D{{Key: "last_checked_at", Value: 1}}).SetLimit(int64(limit)))
}

// ChangedSince implements Store.
func (s *MongoStore) ChangedSince(ctx context.Context, since time.Time, limit int) ([]*Shipment, error) {
	return s.find(ctx, bson.D{{Key: "updated_at", Value: bson.D{{Key: "$gte", Value: since}}}},
		options.Find().SetSort(bson.D{{Key: "updated_at", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit)))
}

func (s *MongoStore) find(ctx context.Context, filter bson.D, opts *options.FindOptionsBuilder) ([]*Shipment, error) {
	cur, err := s.shipments.Find(ctx, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("logistics: list shipments: %w", err)
	}
	out := []*Shipment{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("logistics: list shipments: %w", err)
	}
	return out, nil
}

func waybillKeyID(carrier, number string) string { return "waybill:" + carrier + ":" + number }

// PutWaybill implements Store. An upsert by _id: a retried booking job
// writes the same mapping again.
func (s *MongoStore) PutWaybill(ctx context.Context, carrier, number, shipmentID string) error {
	_, err := s.keys.UpdateOne(ctx, byID(waybillKeyID(carrier, number)),
		bson.D{{Key: "$set", Value: bson.D{{Key: "shipment_id", Value: shipmentID}}}},
		options.UpdateOne().SetUpsert(true))
	if err != nil && !mongox.IsDuplicateKey(err) { // two concurrent upserts: the other one wrote the same
		return fmt.Errorf("logistics: waybill key: %w", err)
	}
	return nil
}

// WaybillShipment implements Store.
func (s *MongoStore) WaybillShipment(ctx context.Context, carrier, number string) (string, bool, error) {
	var d struct {
		ShipmentID string `bson:"shipment_id"`
	}
	err := s.keys.FindOne(ctx, byID(waybillKeyID(carrier, number))).Decode(&d)
	if mongox.IsNoDocuments(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("logistics: waybill key: %w", err)
	}
	return d.ShipmentID, true, nil
}
