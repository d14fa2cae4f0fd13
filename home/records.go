package home

import (
	"context"
	"slices"
	"sync"
	"time"

	"zwfw/booking"
	"zwfw/cases"
	"zwfw/logistics"
	"zwfw/payments"
)

// maxPerPart bounds the ids read from one list of an index (they are few:
// what is still open, or finished within the rating period).
const maxPerPart = 50

// records reads what the person's screen is made of: by the ids of their
// index, each record by its id and each list within its source's budget;
// an index never built (or built more than RebuildAfter ago) is rebuilt
// from the domains' lists first. Ids whose records no longer matter are
// taken off the index.
func (s *Service) records(ctx context.Context, userID string, now time.Time) records {
	ir := <-within(ctx, s.rules.Budgets[SourceCases], func(ctx context.Context) (*Index, error) {
		return s.d.Index.Index(ctx, userID)
	})
	if ir.err == nil && (ir.v == nil || now.Sub(ir.v.BuiltAt) > s.rules.RebuildAfter) {
		return s.rebuilt(ctx, userID, now)
	}
	var rec records
	idx := Index{UserID: userID}
	if ir.err != nil {
		rec.missing = []Source{SourceCases, SourceBookings, SourceShipments}
	} else {
		idx = *ir.v
	}
	csC := within(ctx, s.rules.Budgets[SourceCases], func(ctx context.Context) (fetched[*cases.Case], error) {
		return readEach(ctx, idx.Cases, s.d.Cases.ByID)
	})
	bkC := within(ctx, s.rules.Budgets[SourceBookings], func(ctx context.Context) (fetched[*booking.Booking], error) {
		return readEach(ctx, idx.Bookings, s.d.Bookings.ByID)
	})
	shC := within(ctx, s.rules.Budgets[SourceShipments], func(ctx context.Context) (fetched[logistics.Shipment], error) {
		return readEach(ctx, idx.Shipments, s.d.Shipments.GetAny)
	})
	pyC := within(ctx, s.rules.Budgets[SourcePayments], func(ctx context.Context) (payFetch, error) {
		var found []payments.Payment
		var discoverErr error
		wanted := idx.Payments
		if codes, ok := s.outside.noticesOf(userID, now, s.rules.NoticesFresh); ok {
			// Asked a moment ago: the notices it named are in the store.
			wanted = append(slices.Clone(codes), idx.Payments...)
		} else if found, discoverErr = s.d.Payments.Discover(ctx, userID); discoverErr == nil {
			codes := make([]string, 0, len(found))
			for _, p := range found {
				codes = append(codes, p.ID)
			}
			s.outside.keepNotices(userID, now, codes)
		}
		var known []string
		for i, code := range wanted {
			if slices.Index(wanted, code) < i {
				continue // named twice
			}
			if !slices.ContainsFunc(found, func(p payments.Payment) bool { return p.ID == code }) {
				known = append(known, code)
			}
		}
		f, err := readEach(ctx, known, s.d.Payments.ByCode)
		f.items = append(found, f.items...)
		return payFetch{f, discoverErr}, err
	})
	prune := map[Part][]string{}
	if r := <-csC; r.err != nil {
		rec.missing = append(rec.missing, SourceCases)
	} else {
		rec.cases, prune[PartCases] = keep(r.v, func(c *cases.Case) string { return c.ID }, s.caseMatters(userID, now))
	}
	if r := <-bkC; r.err != nil {
		rec.missing = append(rec.missing, SourceBookings)
	} else {
		rec.bookings, prune[PartBookings] = keep(r.v, func(b *booking.Booking) string { return b.ID }, bookingMatters(userID, now))
	}
	if r := <-shC; r.err != nil {
		rec.missing = append(rec.missing, SourceShipments)
	} else {
		rec.shipments, prune[PartShipments] = keep(r.v, func(sh logistics.Shipment) string { return sh.ID }, shipmentMatters(userID))
	}
	if r := <-pyC; r.err != nil {
		rec.missing = append(rec.missing, SourcePayments)
	} else {
		if r.v.discoverErr != nil {
			rec.missing = append(rec.missing, SourcePayments) // new notices unknown; the known ones are shown
		}
		rec.payments, prune[PartPayments] = keep(r.v.fetched, func(p payments.Payment) string { return p.ID }, paymentMatters)
	}
	if ir.err == nil {
		for part, ids := range prune {
			_ = s.d.Index.Remove(ctx, userID, part, ids...) // best effort: a stale id costs one read next time
		}
	}
	rec.missing = compactSources(rec.missing)
	return rec
}

// rebuilt waits, within the screen's budget, for the person's index to be
// rebuilt. The rebuild itself runs once per person at a time, detached from
// the request and with a generous deadline: the domains' lists may take
// longer than a screen can wait (on the embedded FerretDB they read whole
// collections), and an index that is never finished would have every later
// screen try again.
func (s *Service) rebuilt(ctx context.Context, userID string, now time.Time) records {
	done := s.rebuilds.DoChan(userID, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.rules.RebuildTimeout)
		defer cancel()
		return s.rebuild(rctx, userID, now), nil
	})
	wait := time.NewTimer(s.rules.Budgets[SourcePayments])
	defer wait.Stop()
	select {
	case r := <-done:
		return r.Val.(records)
	case <-wait.C:
		return records{missing: []Source{SourceCases, SourceBookings, SourcePayments, SourceShipments}}
	case <-ctx.Done():
		return records{missing: []Source{SourceCases, SourceBookings, SourcePayments, SourceShipments}}
	}
}

// rebuild reads the person's records from the domains' lists and, when
// every list answered, records their ids as the index.
func (s *Service) rebuild(ctx context.Context, userID string, now time.Time) records {
	all := s.rules.RebuildTimeout
	csC := within(ctx, all, func(ctx context.Context) ([]*cases.Case, error) {
		list, _, err := s.d.Cases.List(ctx, userID, "", "", s.rules.CaseScan)
		return list, err
	})
	bkC := within(ctx, all, func(ctx context.Context) ([]*booking.Booking, error) {
		list, _, err := s.d.Bookings.List(ctx, userID, booking.StatusConfirmed, "")
		return list, err
	})
	pyC := within(ctx, all, func(ctx context.Context) ([]payments.Payment, error) {
		return s.d.Payments.List(ctx, userID, payments.StatusUnpaid)
	})
	shC := within(ctx, all, func(ctx context.Context) ([]logistics.Shipment, error) {
		return s.d.Shipments.ActiveOf(ctx, userID, logistics.ActiveLimit)
	})
	var rec records
	idx := &Index{UserID: userID, BuiltAt: now}
	if r := <-csC; r.err != nil {
		rec.missing = append(rec.missing, SourceCases)
	} else {
		rec.cases, _ = keep(fetched[*cases.Case]{items: r.v}, func(c *cases.Case) string { return c.ID }, s.caseMatters(userID, now))
		for _, c := range rec.cases {
			idx.Cases = append(idx.Cases, c.ID)
		}
	}
	if r := <-bkC; r.err != nil {
		rec.missing = append(rec.missing, SourceBookings)
	} else {
		rec.bookings, _ = keep(fetched[*booking.Booking]{items: r.v}, func(b *booking.Booking) string { return b.ID }, bookingMatters(userID, now))
		for _, b := range rec.bookings {
			idx.Bookings = append(idx.Bookings, b.ID)
		}
	}
	if r := <-pyC; r.err != nil {
		rec.missing = append(rec.missing, SourcePayments)
	} else {
		rec.payments, _ = keep(fetched[payments.Payment]{items: r.v}, func(p payments.Payment) string { return p.ID }, paymentMatters)
		for _, p := range rec.payments {
			idx.Payments = append(idx.Payments, p.ID)
		}
	}
	if r := <-shC; r.err != nil {
		rec.missing = append(rec.missing, SourceShipments)
	} else {
		rec.shipments, _ = keep(fetched[logistics.Shipment]{items: r.v}, func(sh logistics.Shipment) string { return sh.ID }, shipmentMatters(userID))
		for _, sh := range rec.shipments {
			idx.Shipments = append(idx.Shipments, sh.ID)
		}
	}
	if len(rec.missing) == 0 {
		_ = s.d.Index.Rebuilt(ctx, idx) // best effort: the next screen rebuilds again
	}
	return rec
}

// caseMatters: the owner's case, past its draft, still open, or finished
// and not yet rated within the rating period.
func (s *Service) caseMatters(userID string, now time.Time) func(*cases.Case) bool {
	return func(c *cases.Case) bool {
		switch {
		case c.OwnerID != userID || c.Status == cases.StatusDraft:
			return false
		case !c.Status.Final():
			return true
		}
		return finished(c) && c.Evaluation == nil && finishedAt(c).Add(s.rules.EvaluateWithin).After(now)
	}
}

// bookingMatters: the user's confirmed visit whose slot has not ended.
func bookingMatters(userID string, now time.Time) func(*booking.Booking) bool {
	return func(b *booking.Booking) bool {
		return b.UserID == userID && b.Status == booking.StatusConfirmed && b.SlotEnd.After(now)
	}
}

// shipmentMatters: the user's parcel not delivered, returned or cancelled yet.
func shipmentMatters(userID string) func(logistics.Shipment) bool {
	return func(sh logistics.Shipment) bool { return sh.UserID == userID && !sh.State.Final() }
}

// paymentMatters: a notice still to pay.
func paymentMatters(p payments.Payment) bool { return p.Status == payments.StatusUnpaid }

// fetched are the records read by id, and the ids that had none.
type fetched[T any] struct {
	items []T
	gone  []string
}

type payFetch struct {
	fetched[payments.Payment]
	discoverErr error
}

// readEach reads every id at once (at most maxPerPart, the last added).
func readEach[T any](ctx context.Context, ids []string, read func(context.Context, string) (T, error)) (fetched[T], error) {
	if len(ids) > maxPerPart {
		ids = ids[len(ids)-maxPerPart:]
	}
	items := make([]T, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			items[i], errs[i] = read(ctx, id)
		}()
	}
	wg.Wait()
	var out fetched[T]
	for i, err := range errs {
		switch {
		case err == nil:
			out.items = append(out.items, items[i])
		case ignoreNotFound(err) == nil:
			out.gone = append(out.gone, ids[i])
		default:
			return fetched[T]{}, err
		}
	}
	return out, nil
}

// keep splits records into those that matter and the ids of the rest
// (with the ids that had no record).
func keep[T any](f fetched[T], id func(T) string, matters func(T) bool) ([]T, []string) {
	var out []T
	drop := f.gone
	for _, it := range f.items {
		if matters(it) {
			out = append(out, it)
		} else {
			drop = append(drop, id(it))
		}
	}
	return out, drop
}

// compactSources drops repeated sources, keeping the first of each.
func compactSources(list []Source) []Source {
	var out []Source
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
