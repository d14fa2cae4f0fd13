package home

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"zwfw/booking"
	"zwfw/cases"
	"zwfw/catalog"
	"zwfw/logistics"
	"zwfw/notify"
	"zwfw/payments"
	"zwfw/province"
)

type unread struct {
	list  []notify.Message
	count int
}

// records are a person's cases, bookings, notices and parcels that may
// need them, as the screen is made of them.
type records struct {
	cases     []*cases.Case
	bookings  []*booking.Booking
	payments  []payments.Payment
	shipments []logistics.Shipment
	missing   []Source
}

// Screen composes v's home screen. It never fails: a source that fails or
// runs out of its budget is named in the sections it feeds, and the
// sections from the other sources are complete.
func (s *Service) Screen(ctx context.Context, v Viewer) *Screen {
	now := s.d.Now()
	// Every source at once, each within its budget.
	recC := make(chan records, 1)
	go func() { recC <- s.records(ctx, v.UserID, now) }()
	msC := within(ctx, s.rules.Budgets[SourceMessages], func(ctx context.Context) (unread, error) {
		list, n, err := s.d.Messages.Unread(ctx, v.UserID, s.rules.MessageLimit)
		return unread{list, n}, err
	})
	lcC := within(ctx, s.rules.Budgets[SourceLicenses], func(ctx context.Context) ([]License, error) {
		if list, ok := s.outside.licensesOf(v.UserID, now, s.rules.LicensesFresh); ok {
			return list, nil
		}
		list, err := s.d.Licenses.Held(ctx, v.UserID)
		if err == nil {
			s.outside.keepLicenses(v.UserID, now, list)
		}
		return list, err
	})
	seasonal := s.seasons(v, now)
	ssC := within(ctx, s.rules.Budgets[SourceCatalog], func(ctx context.Context) ([]Recommendation, error) {
		return s.seasonal(ctx, seasonal)
	})

	sc := &Screen{
		Todos:       newSection[Todo](SourceCases, SourceBookings, SourcePayments, SourceShipments),
		Cases:       newSection[CaseInProgress](SourceCases),
		Shipments:   newSection[logistics.Shipment](SourceShipments),
		Licenses:    newSection[ExpiringLicense](SourceLicenses),
		Messages:    newSection[notify.Message](SourceMessages),
		Recommended: newSection[Recommendation](SourceLicenses, SourceCatalog),
	}
	rec := <-recC
	for _, src := range rec.missing {
		sc.Todos.miss(src)
		sc.Cases.miss(src)
		sc.Shipments.miss(src)
	}
	todos := s.caseTodos(ctx, rec.cases, now)
	todos = append(todos, s.bookingTodos(ctx, rec.bookings, now)...)
	todos = append(todos, paymentTodos(rec.payments)...)
	todos = append(todos, shipmentTodos(rec.shipments, now)...)
	rank(todos)
	if todos != nil {
		sc.Todos.Items = todos[:min(len(todos), s.rules.TodoLimit)]
	}
	sc.Cases.Items = s.inProgress(rec.cases, now)
	sc.Shipments.Items = rec.shipments[:min(len(rec.shipments), s.rules.SectionLimit)]
	if r := <-msC; r.err != nil {
		sc.Messages.miss(SourceMessages)
	} else {
		sc.Messages.Items, sc.Unread = r.v.list, r.v.count
	}
	var renewals []Recommendation
	if r := <-lcC; r.err != nil {
		sc.Licenses.miss(SourceLicenses)
		sc.Recommended.miss(SourceLicenses)
	} else {
		sc.Licenses.Items = s.expiring(r.v, now)
		var err error
		if renewals, err = s.renewals(ctx, sc.Licenses.Items); err != nil {
			sc.Recommended.miss(SourceCatalog)
		}
	}
	if r := <-ssC; r.err != nil {
		sc.Recommended.miss(SourceCatalog)
		sc.Recommended.Items = s.dedup(renewals)
	} else {
		sc.Recommended.Items = s.dedup(append(renewals, r.v...))
	}
	return sc
}

// inProgress are the cases the province is working on, the least time left first.
func (s *Service) inProgress(list []*cases.Case, now time.Time) []CaseInProgress {
	out := []CaseInProgress{}
	for _, c := range list {
		if c.Status == cases.StatusDraft || c.Status.Final() {
			continue
		}
		out = append(out, CaseInProgress{Case: c, TimeLimit: cases.TimeLimitOf(c, s.d.Calendar, now)})
	}
	slices.SortStableFunc(out, func(a, b CaseInProgress) int {
		switch {
		case a.TimeLimit.DueOn == nil && b.TimeLimit.DueOn == nil:
			return 0
		case a.TimeLimit.DueOn == nil:
			return 1
		case b.TimeLimit.DueOn == nil:
			return -1
		}
		return cmp.Compare(a.TimeLimit.DaysLeft, b.TimeLimit.DaysLeft)
	})
	return out[:min(len(out), s.rules.SectionLimit)]
}

// expiring are the valid licences whose last day is within the window, the soonest first.
func (s *Service) expiring(list []License, now time.Time) []ExpiringLicense {
	today := startOfDay(now)
	out := []ExpiringLicense{}
	for _, l := range list {
		if l.ExpiresOn.IsZero() || l.Status != province.LicenseValid {
			continue
		}
		days := int(startOfDay(l.ExpiresOn).Sub(today).Hours()+12) / 24 // whole days, DST-proof
		if days >= 0 && days <= s.rules.LicenseWindowDays {
			out = append(out, ExpiringLicense{License: l, DaysLeft: days})
		}
	}
	slices.SortStableFunc(out, func(a, b ExpiringLicense) int { return cmp.Compare(a.DaysLeft, b.DaysLeft) })
	return out[:min(len(out), s.rules.SectionLimit)]
}

// renewals finds, for each expiring licence, the catalog item that renews
// it: an item found by the licence's name whose own name is a renewal
// (换领, 换证 ...). Searches are served from the catalog cache.
func (s *Service) renewals(ctx context.Context, expiring []ExpiringLicense) ([]Recommendation, error) {
	if len(expiring) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.rules.Budgets[SourceCatalog])
	defer cancel()
	var out []Recommendation
	for _, l := range expiring[:min(len(expiring), s.rules.RecommendLimit)] {
		audience := "citizen"
		if l.HolderType == province.HolderBusiness {
			audience = "business"
		}
		page, err := s.d.Catalog.Search(ctx, catalog.Query{Q: l.Name, Audience: audience, Limit: 20})
		if err != nil {
			return out, err
		}
		for _, it := range page.Items {
			if s.renews(it.Name) {
				out = append(out, Recommendation{ItemCode: it.Code, Name: it.Name,
					Reason: "您的" + l.Name + "将于" + l.ExpiresOn.In(shanghai).Format("2006年1月2日") + "到期"})
				break
			}
		}
	}
	return out, nil
}

func (s *Service) renews(name string) bool {
	for _, w := range s.rules.RenewalWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// seasons are the seasonal rules that apply to v now.
func (s *Service) seasons(v Viewer, now time.Time) []Season {
	var out []Season
	month := now.In(shanghai).Month()
	for _, se := range s.rules.Seasons {
		if slices.Contains(se.Months, month) && (!se.Business || v.Business) {
			out = append(out, se)
		}
	}
	return out
}

// seasonal finds the first catalog item of each seasonal rule.
func (s *Service) seasonal(ctx context.Context, seasons []Season) ([]Recommendation, error) {
	var out []Recommendation
	for _, se := range seasons {
		audience := ""
		if se.Business {
			audience = "business"
		}
		page, err := s.d.Catalog.Search(ctx, catalog.Query{Q: se.Query, Audience: audience, Limit: 1})
		if err != nil {
			return nil, err
		}
		if len(page.Items) > 0 {
			out = append(out, Recommendation{ItemCode: page.Items[0].Code, Name: page.Items[0].Name, Reason: se.Reason})
		}
	}
	return out, nil
}

// dedup keeps each item once, in order, up to RecommendLimit.
func (s *Service) dedup(list []Recommendation) []Recommendation {
	out := []Recommendation{}
	for _, r := range list {
		if len(out) == s.rules.RecommendLimit {
			break
		}
		if !slices.ContainsFunc(out, func(o Recommendation) bool { return o.ItemCode == r.ItemCode }) {
			out = append(out, r)
		}
	}
	return out
}
