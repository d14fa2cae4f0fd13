// Package idempotency is zwfw's one mechanism for retried writes (the IETF
// draft "The Idempotency-Key HTTP Header Field", as Stripe practises it).
//
// A request that carries an Idempotency-Key claims the key before any work:
// an insert by _id of {scope, key} together with a fingerprint of the
// request, atomic on MongoDB and on the embedded FerretDB alike. Then:
//
//   - the claimer does the work and stores its answer (status, content type,
//     body) on the record; a later duplicate gets that answer byte for byte;
//   - a duplicate that arrives while the first is still working waits briefly
//     for its answer, or is told to retry (409 IDEMPOTENCY_KEY_IN_USE with
//     Retry-After);
//   - the same key with a different request (another body, another resource)
//     is refused (422 IDEMPOTENCY_KEY_REUSED);
//   - only a successful answer (2xx) is kept: a refused request changed
//     nothing (the domains' rule), and a failed one (5xx) must be retried, so
//     either releases the key and the client's retry runs again;
//   - a claimer that died mid-work holds the key only until its lease ends.
//
// Keys are scoped to the user and the route, and kept for Retention (24 h by
// default; the daily maintenance job purges older ones). The HTTP side is a
// Fiber middleware in bff; the staff console calls the same Store.
package idempotency
