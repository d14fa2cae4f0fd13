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
	// InsertShipment stores a new shipment (with the events in its outbox).
	// If one with the id exists it returns that one and false: ids are
	// deterministic (a case's n-th pickup, its result), so the insert is
	// what makes creation happen once.
	InsertShipment(ctx context.Context, sh *Shipment) (*Shipment, bool, error)
	// Shipment returns ErrNotFound when there is no such shipment.
	Shipment(ctx context.Context, id string) (*Shipment, error)
	// SaveShipment replaces the shipment (its state, timeline and outbox in
	// one write) if its stored version is still prevVersion;
	// apperr.Conflict when another change won.
	SaveShipment(ctx context.Context, next *Shipment, prevVersion int64) error
	// Touch records that zwfw heard about the shipment's waybill at at
	// (last_checked_at) without changing anything else.
	Touch(ctx context.Context, id string, at time.Time) error
	// ShipmentsOfCase lists a case's shipments, oldest first.
	ShipmentsOfCase(ctx context.Context, caseID string) ([]*Shipment, error)
	// ActiveOfUser lists the user's shipments that are not final, most
	// recently changed first.
	ActiveOfUser(ctx context.Context, userID string, limit int) ([]*Shipment, error)
	// DueForPoll lists shipments with a waybill, not final, whose
	// last_checked_at is before checkedBefore, least recently checked first.
	DueForPoll(ctx context.Context, checkedBefore time.Time, limit int) ([]*Shipment, error)
	// ChangedSince lists up to limit shipments changed (updated_at) at or
	// after since, least recently changed first (the self-check).
	ChangedSince(ctx context.Context, since time.Time, limit int) ([]*Shipment, error)

	// PutWaybill records waybill:<carrier>:<number> -> shipmentID, so a
	// push finds its shipment by _id.
	PutWaybill(ctx context.Context, carrier, number, shipmentID string) error
	// WaybillShipment returns the shipment id of a waybill; found false when unknown.
	WaybillShipment(ctx context.Context, carrier, number string) (string, bool, error)
}
