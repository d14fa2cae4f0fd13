package casefile

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"zwfw/apperr"
	"zwfw/booking"
	"zwfw/logistics"
	"zwfw/payments"
)

// The most records of each kind a file shows, as the domains' list
// queries return them: the newest bookings, the oldest notices and parcels.
const (
	maxBookings  = booking.CaseBookingsLimit
	maxPayments  = 20 // payments' PaymentsOfCase
	maxShipments = 50 // logistics' ShipmentsOfCase
)

// maxIndexed bounds the ids read from one list of an index (the last
// added): a case has a few of each; more are bookings someone else made
// naming the case, which are read only to be left out.
const maxIndexed = 100

// recordReads bounds the record reads of one file in flight.
const recordReads = 8

// rebuildTimeout bounds a rebuild, which runs detached from the request
// that asked for it (see rebuilt).
const rebuildTimeout = 30 * time.Second

// indexed reads the file through the case's index: the case's and its
// number's index documents, each record by its id, and the reminders
// through notify's index. A case whose index was never built and which is
// older than the index (its Since mark) is rebuilt from the lists first.
func (s *Service) indexed(ctx context.Context, f *File) error {
	c := f.Case
	var ci, ni *Index
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { ci, err = s.d.Index.Index(gctx, CaseKey(c.ID)); return err })
	if c.CaseNumber != "" {
		g.Go(func() (err error) { ni, err = s.d.Index.Index(gctx, NumberKey(c.CaseNumber)); return err })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if ci == nil || ci.BuiltAt.IsZero() {
		since, err := s.since(ctx)
		if err != nil {
			return err
		}
		if !c.CreatedAt.After(since.Add(sinceMargin)) {
			return s.rebuilt(ctx, f)
		}
		// Created since the index is kept: its records' events put every
		// one of them in it (none yet when there is no document).
	}
	if ci == nil {
		ci = &Index{}
	}
	if ni == nil {
		ni = &Index{}
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(recordReads)
	bookings := readEach(gctx, g, last(ci.Bookings), s.d.Bookings.ByID)
	pays := readEach(gctx, g, last(ni.Payments), s.d.Payments.ByCode)
	shipments := readEach(gctx, g, last(ci.Shipments), s.d.Shipments.GetAny)
	if err := g.Wait(); err != nil {
		return err
	}
	for _, b := range bookings.list() {
		if b.CaseID == c.ID && b.UserID == c.OwnerID { // only the owner's own count (see listed)
			f.Bookings = append(f.Bookings, b)
		}
	}
	slices.SortFunc(f.Bookings, func(a, b *booking.Booking) int { return strings.Compare(b.ID, a.ID) })
	f.Bookings = f.Bookings[:min(len(f.Bookings), maxBookings)]
	for _, p := range pays.list() {
		if c.CaseNumber != "" && p.CaseNumber == c.CaseNumber {
			f.Payments = append(f.Payments, p)
		}
	}
	slices.SortFunc(f.Payments, func(a, b payments.Payment) int {
		return cmp.Or(a.IssuedAt.Compare(b.IssuedAt), strings.Compare(a.ID, b.ID))
	})
	f.Payments = f.Payments[:min(len(f.Payments), maxPayments)]
	for _, sh := range shipments.list() {
		if sh.CaseID == c.ID {
			f.Shipments = append(f.Shipments, sh)
		}
	}
	slices.SortFunc(f.Shipments, func(a, b logistics.Shipment) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	f.Shipments = f.Shipments[:min(len(f.Shipments), maxShipments)]
	var err error
	f.Reminders, err = s.d.Reminders.RemindersIndexed(ctx, c.OwnerID, f.subjects())
	return err
}

// rebuilt reads the file by the lists and records what it found as the
// case's index, marked built. One rebuild per case runs at a time,
// detached from the request (a rebuild cut off halfway would be repeated
// by every later view); the request waits for it as long as it lasts.
func (s *Service) rebuilt(ctx context.Context, f *File) error {
	c := f.Case
	done := s.rebuilds.DoChan(c.ID, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rebuildTimeout)
		defer cancel()
		built := &File{Case: c}
		return built, s.rebuild(rctx, built)
	})
	select {
	case r := <-done:
		if r.Err != nil {
			return r.Err
		}
		built := r.Val.(*File)
		f.Bookings, f.Payments, f.Shipments, f.Reminders = built.Bookings, built.Payments, built.Shipments, built.Reminders
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rebuild reads f by the lists, recording its reminders in notify's index,
// then its records' ids in the case's index: the case's document, marked
// built, last, so a rebuild that failed halfway is done again.
func (s *Service) rebuild(ctx context.Context, f *File) error {
	c := f.Case
	named, err := s.listed(ctx, f, true)
	if err != nil {
		return err
	}
	if c.CaseNumber != "" && len(f.Payments) > 0 {
		codes := make([]string, 0, len(f.Payments))
		for _, p := range f.Payments {
			codes = append(codes, p.ID)
		}
		if err := s.d.Index.Add(ctx, NumberKey(c.CaseNumber), PartPayments, codes...); err != nil {
			return err
		}
	}
	idx := &Index{Key: CaseKey(c.ID), Bookings: named, BuiltAt: s.d.Now().UTC()}
	for _, sh := range f.Shipments {
		idx.Shipments = append(idx.Shipments, sh.ID)
	}
	slices.Reverse(idx.Bookings) // oldest first, as events add them
	return s.d.Index.Rebuilt(ctx, idx)
}

// last are the last maxIndexed of ids (the newest added).
func last(ids []string) []string { return ids[max(0, len(ids)-maxIndexed):] }

// readEach starts reading every id in g; once g is done, list returns the
// records found (ids without one are skipped: the index is a hint).
func readEach[T any](ctx context.Context, g *errgroup.Group, ids []string, read func(context.Context, string) (T, error)) *reads[T] {
	r := &reads[T]{items: make([]T, len(ids)), found: make([]bool, len(ids))}
	for i, id := range ids {
		g.Go(func() error {
			it, err := read(ctx, id)
			switch {
			case err == nil:
				r.items[i], r.found[i] = it, true
			case apperr.KindOf(err) != apperr.KindNotFound:
				return err
			}
			return nil
		})
	}
	return r
}

// reads are the records readEach read, by the position of their ids.
type reads[T any] struct {
	items []T
	found []bool
}

func (r *reads[T]) list() []T {
	var out []T
	for i, ok := range r.found {
		if ok {
			out = append(out, r.items[i])
		}
	}
	return out
}
