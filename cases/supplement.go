package cases

import (
	"context"
	"time"

	"zwfw/province"
)

// DefaultSupplementDays is the applicant's time to answer a supplement
// request (补正期限), in working days, when neither the province's request
// nor the item's guide states one.
const DefaultSupplementDays = 10

// shanghai is where dates are days.
var shanghai = time.FixedZone("CST", 8*3600)

// supplementTerms are what a supplement request asks, as the applicant is told.
type supplementTerms struct {
	names []string   // the requested materials by their guide names
	due   *time.Time // the start of the last day to answer
}

// supplementTerms names the materials of a supplement request after the
// item's guide and fixes its deadline: the province's when it set one, else
// the guide's supplement_days (or DefaultSupplementDays) in working days
// from the request, on the official calendar. The guide is read through the
// province's cache; when it cannot be read the names stay the ids and the
// default rule applies, so a province update is never held up by it.
func (s *Service) supplementTerms(ctx context.Context, itemCode string, u ProvinceUpdate) supplementTerms {
	var g province.Guide
	if res, err := s.province.GetItem(ctx, itemCode); err == nil {
		g = res.Guide
	} else {
		s.log.Warn("guide unavailable for a supplement request; ids and the default deadline used", "item_code", itemCode, "err", err)
	}
	t := supplementTerms{names: make([]string, 0, len(u.Materials))}
	for _, id := range u.Materials {
		t.names = append(t.names, materialName(g, id))
	}
	if d, err := time.ParseInLocation(time.DateOnly, u.SupplementDue, shanghai); err == nil {
		t.due = &d
		return t
	}
	if s.calendar == nil {
		return t
	}
	days := g.SupplementDays
	if days <= 0 {
		days = DefaultSupplementDays
	}
	from := u.At
	if from.IsZero() {
		from = s.clock()
	}
	d := s.calendar.AddWorkdays(from, days)
	t.due = &d
	return t
}
