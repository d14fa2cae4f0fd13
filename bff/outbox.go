package bff

// outboxCollections are the collections whose documents carry pending domain
// events (events.Outbox): the relay sweeps them at start and periodically, so
// events written just before a crash still reach the log.
var outboxCollections = []string{
	"bookings",        // booking.Booking
	"cases",           // cases.Case
	"payments",        // payments.Payment (payments.OutboxCollections)
	"payment_refunds", // payments.Refund
	"shipments",       // logistics.Shipment
	"rectifications",  // rectify.Rectification (rectify.Collection)
}
