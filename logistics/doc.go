// Package logistics owns the shipments of a case: materials sent to the
// hall (direction to_hall, a courier picks them up at the applicant's
// address in a chosen window) and the result sent to the applicant
// (to_applicant, created when the province completes a case with result
// "mail"). It books pickups through a courier aggregator (the Courier
// interface, implemented by *courier.Client of logistics/courier), follows
// each waybill by signed pushes and, as a safety net, by polling, and keeps
// a normalized timeline:
//
//	created -> picked_up -> in_transit -> out_for_delivery -> delivered
//	                 any of these -> exception -> back on the main line
//	                 any of these -> returned
//	created (before pickup) -> cancelled
//
// delivered, returned and cancelled are final. A tracking event is applied
// only if it is newer than the newest one applied, so duplicated and
// out-of-order pushes change nothing; the main line never moves backwards.
// Each transition is one guarded, versioned single-document write that
// also stores its domain events (shipment.created, picked_up, delivered,
// exception, returned, cancelled; see events.go) in the document's outbox,
// under ids derived from the fact, so the outbox relay appends each once
// and a crash cannot separate a change from its event. A case has one
// pickup under way at a time (its id is the case's pickup number); the
// result shipment's id is the case's. Invariants checks that every
// shipment's state is the one its timeline leads to.
//
// Personal data (names, phones, street lines) is stored SM4-encrypted
// through the injected Protector, with a masked copy for display. Outside
// side effects (booking, subscribing, polling) run as durable jobs.
package logistics
