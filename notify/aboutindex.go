package notify

import (
	"context"
	"errors"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"golang.org/x/sync/errgroup"

	"zwfw/platform/mongox"
)

// AboutCollection holds, per subject root ("case:<id>", "booking:<id>",
// "payment:<code>", "shipment:<id>"), the ids of the messages about it and
// about the subjects derived from it ("case:<id>#<round>",
// "booking:<id>@<slot>"), in the order they were made: _id
// "about:<subject root>". A case's file reads its reminders through it,
// by _id only (the embedded FerretDB reads every message for About's
// filter).
const AboutCollection = "notify_about"

// aboutWindow is how many of a subject's newest message ids are read: a
// file shows AboutLimit reminders, some of those read are someone else's
// or cancelled.
const aboutWindow = 2 * AboutLimit

// aboutReads bounds the message reads of one RemindersIndexed in flight.
const aboutReads = 8

// SubjectRoot is the subject a (possibly derived) subject belongs to:
// "booking:<id>@<slot>" -> "booking:<id>", "case:<id>#<round>" -> "case:<id>".
func SubjectRoot(subject string) string {
	if i := strings.IndexAny(subject, "#@"); i >= 0 {
		return subject[:i]
	}
	return subject
}

// aboutKinds are the subjects a case's file shows reminders about; only
// their messages are indexed.
var aboutKinds = []string{"case", "booking", "payment", "shipment"}

func aboutKey(root string) string { return "about:" + root }

// aboutDoc is one subject root's message ids.
type aboutDoc struct {
	ID  string   `bson:"_id"`
	IDs []string `bson:"ids"`
}

func (s *MongoStore) aboutColl() *mongox.Collection {
	return mongox.C(s.messages.Database(), AboutCollection)
}

// noteAbout records m's id under its subject root. InsertMessage calls it
// BEFORE inserting the message (the id is the deterministic dedup id, known
// in advance): a crash between the two leaves an id without a message,
// which readers skip, never a message the index misses; a failure fails the
// insert, and the send job retries both. Cancelled messages (a reminder
// that no longer applied) are never shown and are not noted.
func (s *MongoStore) noteAbout(ctx context.Context, m *Message) error {
	if m.State == StateCancelled {
		return nil
	}
	root := SubjectRoot(m.Subject)
	kind, _, ok := strings.Cut(root, ":")
	if !ok || !slices.Contains(aboutKinds, kind) {
		return nil
	}
	return s.AddAbout(ctx, root, m.ID)
}

// AddAbout implements Store: one upsert adding ids (once each, in order)
// to a subject root's list.
func (s *MongoStore) AddAbout(ctx context.Context, root string, ids ...string) error {
	if root == "" || len(ids) == 0 {
		return nil
	}
	_, err := s.aboutColl().UpdateOne(ctx, bson.D{{Key: "_id", Value: aboutKey(root)}},
		bson.D{{Key: "$addToSet", Value: bson.D{{Key: "ids", Value: bson.D{{Key: "$each", Value: ids}}}}}},
		options.UpdateOne().SetUpsert(true))
	if mongox.IsDuplicateKey(err) { // two first upserts raced: the other created it, add again
		return s.AddAbout(ctx, root, ids...)
	}
	if err != nil {
		return storeErr("note reminder subject", err)
	}
	return nil
}

// AboutIDs implements Store: the ids noted under a subject root, oldest
// first (none when nothing was noted).
func (s *MongoStore) AboutIDs(ctx context.Context, root string) ([]string, error) {
	var d aboutDoc
	err := s.aboutColl().FindOne(ctx, bson.D{{Key: "_id", Value: aboutKey(root)}}).Decode(&d)
	if mongox.IsNoDocuments(err) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr("reminder subject", err)
	}
	return d.IDs, nil
}

// RemindersIndexed is RemindersAbout read through the subjects' index
// (AboutCollection): one read by _id per subject root, then each message
// by _id, the same answer at any number of messages in the store. A
// message made since the index was kept is always in it (see noteAbout);
// messages made before are there once ReindexRemindersAbout recorded them,
// which the caller does once per subject set (casefile, when it rebuilds a
// case's index). The index is a hint: every message is checked for the
// user, its subject and its state.
func (s *Service) RemindersIndexed(ctx context.Context, userID string, subjects []string) ([]Message, error) {
	if userID == "" || len(subjects) == 0 {
		return []Message{}, nil
	}
	roots := subjectRoots(subjects)
	lists := make([][]string, len(roots))
	if err := parallel(ctx, len(roots), func(ctx context.Context, i int) (err error) {
		ids, err := s.store.AboutIDs(ctx, roots[i])
		lists[i] = ids[max(0, len(ids)-aboutWindow):]
		return err
	}); err != nil {
		return nil, err
	}
	var ids []string
	for _, l := range lists {
		ids = append(ids, l...)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	found := make([]*Message, len(ids))
	if err := parallel(ctx, len(ids), func(ctx context.Context, i int) error {
		m, err := s.store.Message(ctx, ids[i])
		if errors.Is(err, ErrNotFound) {
			return nil // noted before an insert that never happened
		}
		found[i] = m
		return err
	}); err != nil {
		return nil, err
	}
	out := []Message{}
	for _, m := range found {
		if m != nil && m.UserID == userID && m.State != StateCancelled && isAbout(subjects, m.Subject) {
			out = append(out, *m)
		}
	}
	slices.SortStableFunc(out, func(a, b Message) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.PublicID, a.PublicID)
	})
	return out[:min(len(out), AboutLimit)], nil
}

// ReindexRemindersAbout is RemindersAbout (the scan) that also records the
// ids it found under their subjects' roots, for the messages made before
// the index was kept: called once per subject set (casefile's rebuild of a
// case's index). Recording twice is harmless.
func (s *Service) ReindexRemindersAbout(ctx context.Context, userID string, subjects []string) ([]Message, error) {
	list, err := s.RemindersAbout(ctx, userID, subjects)
	if err != nil {
		return nil, err
	}
	byRoot := map[string][]string{}
	for i := len(list) - 1; i >= 0; i-- { // oldest first, as they were made
		root := SubjectRoot(list[i].Subject)
		byRoot[root] = append(byRoot[root], list[i].ID)
	}
	for root, ids := range byRoot {
		if err := s.store.AddAbout(ctx, root, ids...); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// subjectRoots are the distinct roots of subjects, in order.
func subjectRoots(subjects []string) []string {
	var out []string
	for _, sub := range subjects {
		if r := SubjectRoot(sub); !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// isAbout reports whether subject is one of subjects or derived from one
// (About's pattern, without the regular expression).
func isAbout(subjects []string, subject string) bool {
	for _, sub := range subjects {
		if rest, ok := strings.CutPrefix(subject, sub); ok && (rest == "" || rest[0] == '#' || rest[0] == '@') {
			return true
		}
	}
	return false
}

// parallel runs f for 0..n-1, at most aboutReads at once; the first error wins.
func parallel(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(aboutReads)
	for i := range n {
		g.Go(func() error { return f(gctx, i) })
	}
	return g.Wait()
}
