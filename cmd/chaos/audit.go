package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/platform/events"
	"zwfw/platform/jobs"
	"zwfw/platform/mongox"
)

// settle waits until zwfw has no work left that the counts depend on:
// every outbox drained into the log and, with consumers, every event
// consumer (reminders, result shipments) caught up with the log's head and
// no job due or running (a reminder is made by the job its event queued),
// three polls in a row. After a kill -9 the consumers resume only when the
// dead process's cursor lease runs out.
func (d *deployment) settle(ctx context.Context, limit time.Duration, consumers bool) error {
	quiet := 0
	return waitUntil(ctx, limit, "the outbox drained and the consumers caught up", func() (bool, error) {
		idle, err := d.idle(ctx, consumers)
		if err != nil {
			return false, err
		}
		if idle {
			quiet++
		} else {
			quiet = 0
		}
		return quiet >= 3, nil
	})
}

func (d *deployment) idle(ctx context.Context, consumers bool) (bool, error) {
	pending, err := pendingEvents(ctx, d.store)
	if err != nil || len(pending) > 0 || !consumers {
		return len(pending) == 0 && err == nil, err
	}
	var head struct {
		Seq int64 `bson:"seq"`
	}
	err = mongox.C(d.store, events.CountersCollection).FindOne(ctx, bson.D{{Key: "_id", Value: "events"}}).Decode(&head)
	if err != nil && err != mongo.ErrNoDocuments {
		return false, err
	}
	cursors, err := all[events.Cursor](ctx, d.store, events.CursorsCollection, nil)
	if err != nil {
		return false, err
	}
	for _, c := range cursors {
		if c.Seq < head.Seq {
			return false, nil
		}
	}
	due, err := mongox.C(d.store, jobs.CollectionName).CountDocuments(ctx, bson.D{{Key: "$or", Value: bson.A{
		bson.D{{Key: "state", Value: "running"}},
		bson.D{{Key: "state", Value: "pending"}, {Key: "run_at", Value: bson.D{{Key: "$lte", Value: time.Now()}}}},
	}}})
	return due == 0, err
}

// auditLog counts, over the whole event log, the events appended more than
// once under one deterministic id, and the events still stuck in an
// outbox. It returns the log for the scenario's own counts.
func auditLog(ctx context.Context, s *scenario) []eventRow {
	log, err := eventLog(ctx, s.d.store)
	if err != nil {
		s.err = err
		return nil
	}
	perID := map[string]int{}
	for _, e := range log {
		if e.ID != "" {
			perID[e.ID]++
		}
	}
	dup, worst := 0, ""
	for id, n := range perID {
		if n > 1 {
			dup += n - 1
			worst = id
		}
	}
	detail := fmt.Sprintf("%d events in the log under %d deterministic ids", len(log), len(perID))
	if worst != "" {
		detail += ", e.g. " + worst + " appended more than once"
	}
	s.count("events per deterministic id", 0, dup, "%s", detail)

	pending, err := pendingEvents(ctx, s.d.store)
	if err != nil {
		s.err = err
		return log
	}
	var stuck []string
	for _, p := range pending {
		stuck = append(stuck, p.ID)
	}
	s.count("outboxes drained", len(pending), 0, "%d events left unrelayed in documents%s", len(pending), listed(stuck))
	return log
}

// auditReminders counts reminders per (user, rule, subject): zwfw must
// never make two of one; want lists those that must exist.
func auditReminders(ctx context.Context, s *scenario, want []reminderKey) {
	rows, err := reminders(ctx, s.d.store)
	if err != nil {
		s.err = err
		return
	}
	per := map[reminderKey]int{}
	for _, r := range rows {
		per[reminderKey{r.UserID, r.Rule, r.Subject}]++
	}
	dup := 0
	for _, n := range per {
		if n > 1 {
			dup += n - 1
		}
	}
	var missing []string
	for _, k := range want {
		if per[k] == 0 && !(strings.HasSuffix(k.subject, "#") && anyWithPrefix(per, k)) {
			missing = append(missing, k.rule+" "+k.subject)
		}
	}
	s.count("reminders per (user, rule, subject)", len(missing), dup, "%d reminders, %d expected present%s",
		len(rows), len(want), listed(missing))
}

// reminderKey names a reminder; a subject ending in "#" stands for any
// subject it begins (a refund's reminder is about "payment:<code>#<refund>").
type reminderKey struct{ user, rule, subject string }

func anyWithPrefix(per map[reminderKey]int, k reminderKey) bool {
	for got := range per {
		if got.user == k.user && got.rule == k.rule && strings.HasPrefix(got.subject, k.subject) {
			return true
		}
	}
	return false
}

// eventCount counts the events of a subject by type (and, for
// case.status_changed, by "type/status").
func eventCount(log []eventRow) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, e := range log {
		m := out[e.Subject]
		if m == nil {
			m = map[string]int{}
			out[e.Subject] = m
		}
		m[e.Type]++
		if st := e.status(); st != "" {
			m[e.Type+"/"+st]++
		}
	}
	return out
}

// exactlyOnce files, for each expectation, a missing one as lost and a
// repeated one as duplicated, as one check.
func exactlyOnce(s *scenario, what string, counts map[string]int) {
	lost, dup := 0, 0
	var bad []string
	for k, n := range counts {
		switch {
		case n == 0:
			lost++
			bad = append(bad, k+" missing")
		case n > 1:
			dup += n - 1
			bad = append(bad, fmt.Sprintf("%s ×%d", k, n))
		}
	}
	s.count(what, lost, dup, "%d expected once each%s", len(counts), listed(bad))
}

// listed is ": a, b, c" for a few problems (sorted), or "".
func listed(items []string) string {
	if len(items) == 0 {
		return ""
	}
	sort.Strings(items)
	if len(items) > 4 {
		items = append(items[:4], fmt.Sprintf("and %d more", len(items)-4))
	}
	return ": " + strings.Join(items, ", ")
}
