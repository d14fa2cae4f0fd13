package cases

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"zwfw/province"
)

// guideOnly is a Province that serves one guide (or fails).
type guideOnly struct {
	Province
	guide province.Guide
	err   error
}

func (g guideOnly) GetItem(context.Context, string) (province.GuideResult, error) {
	return province.GuideResult{Guide: g.guide}, g.err
}

// A supplement request's deadline is the province's when it set one, else
// the guide's supplement_days in working days from the request, else the
// default; its materials are named after the guide.
func TestSupplementTerms(t *testing.T) {
	requested := time.Date(2026, 11, 20, 10, 0, 0, 0, shanghai) // a Friday
	g := province.Guide{SupplementDays: 5, Materials: []province.Material{{ID: "m1", Name: "居民身份证"}, {ID: "m2", Name: "近期免冠照片"}}}
	tests := []struct {
		name  string
		guide guideOnly
		due   string
		want  string
		names []string
	}{
		{"the province's date", guideOnly{guide: g}, "2026-12-01", "2026-12-01", []string{"居民身份证", "近期免冠照片"}},
		{"the guide's five working days", guideOnly{guide: g}, "", "2026-11-27", []string{"居民身份证", "近期免冠照片"}},
		{"no rule in the guide: the default ten", guideOnly{guide: province.Guide{}}, "", "2026-12-04", []string{"m1", "m2"}},
		{"no guide at all: ids and the default", guideOnly{err: errors.New("down")}, "", "2026-12-04", []string{"m1", "m2"}},
	}
	for _, tt := range tests {
		s := NewService(Deps{Province: tt.guide, Calendar: weekdays{}, Logger: slog.New(slog.DiscardHandler)})
		got := s.supplementTerms(context.Background(), "X", ProvinceUpdate{At: requested, Materials: []string{"m1", "m2"}, SupplementDue: tt.due})
		if got.due == nil || got.due.In(shanghai).Format(time.DateOnly) != tt.want || !slices.Equal(got.names, tt.names) {
			t.Errorf("%s: due %v, names %v; want %s, %v", tt.name, got.due, got.names, tt.want, tt.names)
		}
	}
}
