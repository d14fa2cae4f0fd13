package logistics

import (
	"context"
	"time"
)

// Store persists shipments and their lookup keys. Every method is one
// single-document read or write; state changes are versioned replaces that
// fail with apperr.Conflict when another writer won. Not-found reads
// return ErrNotFound.
type Store interface {
	// InsertShipment stores a new shipment. If one with the id exists it
	// returns that one and false (deterministic ids make creation idempotent).
	InsertShipment(ctx context.Context, sh *Shipment) (*Shipment, bool, error)
	// Shipment returns ErrNotFound when there is no such shipment.
	Shipment(ctx context.Context, id string) (*Shipment, error)
	// SaveShipment replaces the shipment if its stored version is still
	// prevVersion; apperr.Conflict when another change won.
	SaveShipment(ctx context.Context, next *Shipment, prevVersion int64) error
	// Touch records that zwfw heard about the shipment's waybill at at
	// (last_checked_at) without changing anything else.
	Touch(ctx context.Context, id string, at time.Time) error
	// ShipmentsOfCase lists a case's shipments, oldest first.
	ShipmentsOfCase(ctx context.Context, caseID string) ([]*Shipment, error)
	// DueForPoll lists shipments with a waybill, not final, whose
	// last_checked_at is before checkedBefore, least recently checked first.
	DueForPoll(ctx context.Context, checkedBefore time.Time, limit int) ([]*Shipment, error)

	// ClaimIdem inserts idem:<user>:<key>. When the key exists it returns
	// the stored record and claimed false.
	ClaimIdem(ctx context.Context, userID, key string, rec IdemRecord) (IdemRecord, bool, error)
	// ReleaseIdem deletes the key if it still names shipmentID.
	ReleaseIdem(ctx context.Context, userID, key, shipmentID string) error

	// PutWaybill records waybill:<carrier>:<number> -> shipmentID, so a
	// push finds its shipment by _id.
	PutWaybill(ctx context.Context, carrier, number, shipmentID string) error
	// WaybillShipment returns the shipment id of a waybill; found false when unknown.
	WaybillShipment(ctx context.Context, carrier, number string) (string, bool, error)
}

// IdemRecord is what an Idempotency-Key remembers: the shipment it made
// and a hash of the request (never the address itself).
type IdemRecord struct {
	ShipmentID  string    `bson:"shipment_id"`
	Fingerprint string    `bson:"fingerprint"`
	CreatedAt   time.Time `bson:"created_at"`
}
