// Package notify sends reminders to citizens and businesses: the right
// message, once, on the channel the person agreed to, at a decent hour.
//
// It consumes the domain event log (cases, booking, payments, logistics)
// with its own cursor (ConsumerName). Each event maps to rules (rules.go,
// stable rule ids); each (user, rule, subject) becomes one message whose
// deterministic id (DedupID) is the exactly-once guarantee: duplicated
// events, several replicas and restarts all meet the same _id. Messages
// are sent by durable jobs (JobSend), at once or at their scheduled time
// (the 18:00 day-before and 1-hour booking reminders, the evaluation
// invitation a day after completion, licence renewals); a scheduled job
// re-reads the domain (Lookups) before it sends, so a cancelled or moved
// booking cancels or moves its reminder.
//
// Dispatch tries WeChat subscribe messages (only while a one-time consent
// is left, consumed by the send; 43101 is recorded, not retried), then app
// push (if the app registered a device), then SMS (only for important
// rules, through AliyunSMS, the Dysmsapi client also used for login codes),
// and always writes the in-app inbox. Quiet hours (default 22:00–08:00)
// defer non-urgent messages; urgent ones may use SMS or push at night. A
// channel that is down is retried with backoff, then the next channel is
// tried; every attempt is recorded, and messages no channel delivered are
// listed for admins.
package notify
