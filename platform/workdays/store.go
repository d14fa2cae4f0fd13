package workdays

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"zwfw/apperr"
)

// Kind says what an override makes of its date.
type Kind string

// The kinds of override.
const (
	KindHoliday Kind = "holiday" // no work that day, even on a weekday
	KindWorkday Kind = "workday" // a working day, even on a weekend
)

// maxNameLen bounds an override's name, in characters.
const maxNameLen = 64

// Errors of the workdays package (besides ErrInvalidDate).
var (
	ErrInvalidOverride  = apperr.New(apperr.KindInvalid, "WORKDAYS_OVERRIDE_INVALID", "节假日调整信息有误")
	ErrOverrideNotFound = apperr.New(apperr.KindNotFound, "WORKDAYS_OVERRIDE_NOT_FOUND", "该日期没有节假日调整")
)

// Override is an admin's decision about one date. It wins over the official
// schedule and over the day of the week.
type Override struct {
	Date Date   `json:"date"`
	Kind Kind   `json:"kind"`
	Name string `json:"name"` // e.g. "国庆节" or "台风停止办公"
	// Official marks an entry of a published State Council schedule (e.g.
	// next year's, entered each November before lunar-go ships it): the year
	// of its date then counts as known (Known, Gaps). A one-off special day
	// leaves it false, so it does not hide a missing schedule.
	Official  bool      `json:"official,omitempty"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks an override before it is stored.
func (o Override) Validate() error {
	var fields []apperr.FieldError
	if o.Date.IsZero() {
		fields = append(fields, apperr.Field("date", "REQUIRED", "请填写日期"))
	}
	if o.Kind != KindHoliday && o.Kind != KindWorkday {
		fields = append(fields, apperr.Field("kind", "INVALID", "类型应为 holiday（放假）或 workday（上班）"))
	}
	name := strings.TrimSpace(o.Name)
	switch {
	case name == "":
		fields = append(fields, apperr.Field("name", "REQUIRED", "请填写名称，如“国庆节”"))
	case utf8.RuneCountInString(name) > maxNameLen:
		fields = append(fields, apperr.Field("name", "TOO_LONG", "名称过长"))
	}
	if len(fields) > 0 {
		return ErrInvalidOverride.WithFields(fields...)
	}
	return nil
}

// OverrideStore persists overrides, one per date.
type OverrideStore interface {
	// Put creates or replaces the override of o.Date. It sets UpdatedAt to
	// now when it is zero.
	Put(ctx context.Context, o Override) error
	// Delete removes the override of d; ErrOverrideNotFound when there is none.
	Delete(ctx context.Context, d Date) error
	// List returns the overrides from from to to inclusive, in date order.
	// A zero from or to leaves that end open.
	List(ctx context.Context, from, to Date) ([]Override, error)
}

// inRange reports whether d lies in [from, to], zero bounds being open.
func inRange(d, from, to Date) bool {
	return (from.IsZero() || !d.Before(from)) && (to.IsZero() || !d.After(to))
}

// normalize trims the name and stamps UpdatedAt, as every store does on Put.
// Times are kept in UTC at millisecond precision, as MongoDB stores them.
func normalize(o Override, now time.Time) Override {
	o.Name = strings.TrimSpace(o.Name)
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = now
	}
	o.UpdatedAt = o.UpdatedAt.UTC().Truncate(time.Millisecond)
	return o
}

// MemoryStore is an OverrideStore in memory, for tests and tools.
type MemoryStore struct {
	mu sync.Mutex
	m  map[Date]Override
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: map[Date]Override{}} }

// Put implements OverrideStore.
func (s *MemoryStore) Put(_ context.Context, o Override) error {
	if err := o.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[o.Date] = normalize(o, time.Now())
	return nil
}

// Delete implements OverrideStore.
func (s *MemoryStore) Delete(_ context.Context, d Date) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[d]; !ok {
		return ErrOverrideNotFound
	}
	delete(s.m, d)
	return nil
}

// List implements OverrideStore.
func (s *MemoryStore) List(_ context.Context, from, to Date) ([]Override, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Override
	for d, o := range s.m {
		if inRange(d, from, to) {
			out = append(out, o)
		}
	}
	sortOverrides(out)
	return out, nil
}

func sortOverrides(list []Override) {
	slices.SortFunc(list, func(a, b Override) int { return a.Date.Compare(b.Date) })
}
