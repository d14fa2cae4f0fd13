package home

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Source is where part of the screen comes from; a source that fails or
// does not answer within its budget is named in the sections it feeds.
type Source string

// The sources of the home screen.
const (
	SourceCases     Source = "cases"
	SourceBookings  Source = "bookings"
	SourcePayments  Source = "payments"
	SourceShipments Source = "shipments"
	SourceMessages  Source = "messages"
	SourceLicenses  Source = "licenses"
	SourceCatalog   Source = "catalog"
)

// Sources lists every source (the OpenAPI enum).
var Sources = []Source{SourceCases, SourceBookings, SourcePayments, SourceShipments, SourceMessages, SourceLicenses, SourceCatalog}

// what names a source's data for people.
var what = map[Source]string{
	SourceCases:     "办件进度",
	SourceBookings:  "预约信息",
	SourcePayments:  "缴费信息",
	SourceShipments: "寄递信息",
	SourceMessages:  "消息",
	SourceLicenses:  "电子证照（省级平台）",
	SourceCatalog:   "事项推荐",
}

// Status is how complete a section is.
type Status string

// Section statuses.
const (
	StatusOK          Status = "ok"          // every source answered
	StatusPartial     Status = "partial"     // some sources did not: items are incomplete
	StatusUnavailable Status = "unavailable" // no source answered: no items
)

// Section is one part of the screen: its items (bounded), the sources it
// is made of and those that failed.
type Section[T any] struct {
	Items   []T
	Sources []Source
	Missing []Source
}

// Status is ok when every source answered, unavailable when none did.
func (s Section[T]) Status() Status {
	switch {
	case len(s.Missing) == 0:
		return StatusOK
	case len(s.Missing) >= len(s.Sources):
		return StatusUnavailable
	}
	return StatusPartial
}

// Message tells people what is missing ("" when nothing is).
func (s Section[T]) Message() string {
	if len(s.Missing) == 0 {
		return ""
	}
	names := make([]string, 0, len(s.Missing))
	for _, m := range s.Missing {
		names = append(names, what[m])
	}
	return strings.Join(names, "、") + "暂时无法获取，请稍后下拉刷新"
}

func newSection[T any](sources ...Source) Section[T] {
	return Section[T]{Items: []T{}, Sources: sources, Missing: []Source{}}
}

// miss records that src failed, once.
func (s *Section[T]) miss(src Source) {
	if slices.Contains(s.Sources, src) && !slices.Contains(s.Missing, src) {
		s.Missing = append(s.Missing, src)
	}
}

// result is a source's answer, or why there is none.
type result[T any] struct {
	v   T
	err error
}

// within runs fetch with its own deadline and returns its answer or the
// deadline's error, whichever comes first: a source that ignores its
// context costs the screen no more than its budget (its goroutine finishes
// on its own and its answer is dropped).
func within[T any](ctx context.Context, budget time.Duration, fetch func(context.Context) (T, error)) <-chan result[T] {
	out := make(chan result[T], 1)
	go func() {
		ctx, cancel := context.WithTimeout(ctx, budget)
		defer cancel()
		done := make(chan result[T], 1)
		go func() {
			v, err := fetch(ctx)
			done <- result[T]{v, err}
		}()
		select {
		case r := <-done:
			out <- r
		case <-ctx.Done():
			out <- result[T]{err: ctx.Err()}
		}
	}()
	return out
}
