package workdays

import (
	"sync"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// officialDay is one entry of the State Council schedule.
type officialDay struct {
	work bool // true for a make-up workday (调休上班), false for a holiday
	name string
}

// officialSchedule is lunar-go's holiday data, indexed once. HolidayUtil
// finds a date by scanning one long string, which is far too slow to do for
// every day AddWorkdays walks over.
type officialSchedule struct {
	days map[Date]officialDay
	// years holds the years whose schedule is published, taken from each
	// entry's target festival: the 2024 New Year arrangement starts on
	// 2023-12-30, which belongs to 2024's schedule, not 2023's.
	years map[int]bool
	first int // first year with a schedule
}

// The years scanned for lunar-go data: its data starts in 2001-12 and a later
// version of the library may ship new years, which are then picked up.
const (
	scanFirstYear = 1990
	scanLastYear  = 2100
)

// official returns the schedule, indexed on first use. Later calls to
// HolidayUtil.Fix are not seen: corrections go in as overrides.
var official = sync.OnceValue(func() *officialSchedule {
	s := &officialSchedule{days: map[Date]officialDay{}, years: map[int]bool{}}
	for y := scanFirstYear; y <= scanLastYear; y++ {
		for e := HolidayUtil.GetHolidaysByYear(y).Front(); e != nil; e = e.Next() {
			h := e.Value.(*HolidayUtil.Holiday)
			day, err := ParseDate(h.GetDay())
			if err != nil {
				continue // cannot happen with the shipped data
			}
			s.days[day] = officialDay{work: h.IsWork(), name: h.GetName()}
			if target, err := ParseDate(h.GetTarget()); err == nil {
				s.years[target.Year()] = true
				if s.first == 0 || target.Year() < s.first {
					s.first = target.Year()
				}
			}
		}
	}
	return s
})
