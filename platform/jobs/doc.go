// Package jobs is the durable job queue every outside side effect goes through
// (submit to the province, send a reminder, poll a courier, confirm a payment).
//
// A job is one document in the "jobs" collection. Domain code enqueues work with
// Queue.Enqueue under a stable idempotency key; a Runner in every replica
// claims due jobs with a lease, runs the registered handler, and records the
// outcome. Every state change is a single guarded write, so replicas never run
// the same job at the same time while its lease is alive.
//
// Delivery is at-least-once: a worker that dies mid-job leaves the job
// "running" with a lease; once the lease expires another worker runs it again.
// Handlers must therefore be idempotent, using Job.IdempotencyKey towards the
// outside system (or as the _id of the record they write).
//
// States: pending -> running -> done | pending (retry with backoff) | dead
// (max attempts reached or Permanent error). Dead jobs wait for an operator
// (Queue.Retry).
//
// On the embedded store a claim is chosen from the process's in-memory set
// of pending and running jobs and written by _id, with a periodic scanning
// claim as the safety net (duehint.go); on MongoDB it is one guarded write
// served by the state/run_at index.
package jobs
