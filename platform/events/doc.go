// Package events is the domain event log: domains append facts
// ("case.status_changed", "booking.confirmed", "payment.succeeded", ...) and
// consumers such as the reminder service read them in order, each with its own
// stored cursor. There are no change streams on the embedded store, so the
// log is an ordinary collection ordered by a sequence number.
//
// Writing: Log.Append takes the next number from the counter document
// {_id: "events"} in "counters" and inserts the event with _id = that number.
//
// Reading: a Consumer keeps its position in "event_cursors" {_id: name, seq},
// holds a lease on that document so only one replica consumes a name at a
// time, and calls its handler for each event in sequence order.
//
// Gaps. Taking a number and inserting the event are two writes, so numbers
// become visible out of order: writer A takes 5 and stalls, writer B takes 6
// and inserts it; for a moment 6 exists and 5 does not. A consumer that moved
// past 5 would never see it. So a consumer handles only the contiguous run
// after its cursor and waits at a hole. A hole can also be permanent: a writer
// that died (or failed) between taking the number and inserting leaves it
// empty forever. The consumer tells the two apart by age: once the first
// event after the hole is older than ConsumerOptions.GapGrace (default 10 s),
// every writer that took a number below it has had that long to insert, so
// the hole is skipped (and logged). Append gives up on its insert well within
// the default grace (appendInsertBudget), which is what makes the rule safe;
// the grace also absorbs clock skew between replicas, since event times come
// from the writer's clock and are compared with the consumer's.
//
// Delivery is at-least-once: the cursor moves after each handled event, so an
// event whose handler succeeded just before a crash is handled again by the
// next owner. Handlers must be idempotent.
package events
