package booking

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"zwfw/apperr"
	"zwfw/platform/workdays"
)

func loc() *time.Location { return workdays.Location }

// Window is a service window (窗口) of a hall and the items it serves.
type Window struct {
	ID        string   `bson:"id" json:"id"`
	Name      string   `bson:"name" json:"name"`
	ItemCodes []string `bson:"item_codes" json:"item_codes"`
	// PerSlotCapacity is how many bookings the window takes per slot.
	PerSlotCapacity int `bson:"per_slot_capacity" json:"per_slot_capacity"`
}

// Session is an opening period of a working day, "HH:MM" in Asia/Shanghai.
type Session struct {
	Start string `bson:"start" json:"start"`
	End   string `bson:"end" json:"end"`
}

// Closure closes a hall from From to To inclusive (e.g. renovation).
type Closure struct {
	From   workdays.Date `json:"from"`
	To     workdays.Date `json:"to"`
	Reason string        `json:"reason"`
}

// DefaultSessions are the opening hours when a hall sets none.
var DefaultSessions = []Session{{Start: "09:00", End: "11:30"}, {Start: "13:30", End: "17:00"}}

// DefaultSlotMinutes is the slot length when a hall sets none.
const DefaultSlotMinutes = 30

// HallConfig is the booking configuration of one hall (collection
// hall_configs, _id = the hall id). The hall itself comes from the
// provincial catalog; Name, Address, Lat, Lng, Phone and Hours are a copy set
// by admins or a sync. Slots exist on working days of the official calendar
// (holidays none, make-up workdays yes) outside closures, in each session.
type HallConfig struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Address     string    `json:"address"`
	Lat         float64   `json:"lat"`
	Lng         float64   `json:"lng"`
	Phone       string    `json:"phone"`
	Hours       string    `json:"hours"`
	Windows     []Window  `json:"windows"`
	Sessions    []Session `json:"sessions"`
	SlotMinutes int       `json:"slot_minutes"`
	Closures    []Closure `json:"closures"`
	// Version is the optimistic-concurrency version: pass the version read
	// to PutHallConfig (0 to create).
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// normalize fills the defaults.
func (c *HallConfig) normalize() {
	c.ID = strings.TrimSpace(c.ID)
	if len(c.Sessions) == 0 {
		c.Sessions = slices.Clone(DefaultSessions)
	}
	if c.SlotMinutes == 0 {
		c.SlotMinutes = DefaultSlotMinutes
	}
	if c.Windows == nil {
		c.Windows = []Window{}
	}
	if c.Closures == nil {
		c.Closures = []Closure{}
	}
}

// parseClock reads "HH:MM" as minutes after midnight.
func parseClock(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// Validate checks the configuration (after defaults are filled).
func (c *HallConfig) Validate() error {
	var f []apperr.FieldError
	if c.ID == "" || len(c.ID) > 64 || strings.ContainsAny(c.ID, ":$ ") {
		f = append(f, apperr.Field("id", "INVALID", "大厅编号有误"))
	}
	if c.SlotMinutes < 5 || c.SlotMinutes > 240 {
		f = append(f, apperr.Field("slot_minutes", "INVALID", "时段长度应在 5 到 240 分钟之间"))
	}
	seen := map[string]bool{}
	for i, w := range c.Windows {
		p := fmt.Sprintf("windows[%d]", i)
		if w.ID == "" || seen[w.ID] {
			f = append(f, apperr.Field(p+".id", "INVALID", "窗口编号为空或重复"))
		}
		seen[w.ID] = true
		if w.PerSlotCapacity < 1 || w.PerSlotCapacity > 1000 {
			f = append(f, apperr.Field(p+".per_slot_capacity", "INVALID", "每时段可约人数应在 1 到 1000 之间"))
		}
		for _, code := range w.ItemCodes {
			if code == "" || strings.Contains(code, ":") {
				f = append(f, apperr.Field(p+".item_codes", "INVALID", "事项编码有误"))
			}
		}
	}
	prevEnd := -1
	for i, s := range c.Sessions {
		p := fmt.Sprintf("sessions[%d]", i)
		a, ok1 := parseClock(s.Start)
		b, ok2 := parseClock(s.End)
		switch {
		case !ok1 || !ok2:
			f = append(f, apperr.Field(p, "INVALID", "时间应为 HH:MM 格式"))
		case a >= b || a < prevEnd:
			f = append(f, apperr.Field(p, "INVALID", "时段须按时间先后排列且不重叠"))
		case b-a < c.SlotMinutes:
			f = append(f, apperr.Field(p, "INVALID", "办公时段短于一个预约时段"))
		default:
			prevEnd = b
		}
	}
	for i, cl := range c.Closures {
		if cl.From.IsZero() || cl.To.IsZero() || cl.To.Before(cl.From) {
			f = append(f, apperr.Field(fmt.Sprintf("closures[%d]", i), "INVALID", "闭厅起止日期有误"))
		}
	}
	if len(f) > 0 {
		return ErrInvalidConfig.WithFields(f...)
	}
	return nil
}

// Capacity is the capacity of one slot for itemCode: the sum of
// PerSlotCapacity over the windows serving it (0: the item is not served).
func (c *HallConfig) Capacity(itemCode string) int {
	n := 0
	for _, w := range c.Windows {
		if slices.Contains(w.ItemCodes, itemCode) {
			n += w.PerSlotCapacity
		}
	}
	return n
}

// Closed reports whether d falls in a closure.
func (c *HallConfig) Closed(d workdays.Date) bool {
	for _, cl := range c.Closures {
		if !d.Before(cl.From) && !d.After(cl.To) {
			return true
		}
	}
	return false
}

// Slot is one time range of a hall's template on one day.
type Slot struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// DaySlots returns the slots of the template on d when d is a working day
// of cal and the hall is open; nil otherwise. Times are UTC.
func (c *HallConfig) DaySlots(cal *workdays.Calendar, d workdays.Date) []Slot {
	if !cal.IsWorkday(d) || c.Closed(d) {
		return nil
	}
	minutes := c.SlotMinutes
	if minutes <= 0 {
		minutes = DefaultSlotMinutes
	}
	sessions := c.Sessions
	if len(sessions) == 0 {
		sessions = DefaultSessions
	}
	y, m, dd := d.Civil()
	var out []Slot
	for _, s := range sessions {
		a, ok1 := parseClock(s.Start)
		b, ok2 := parseClock(s.End)
		if !ok1 || !ok2 {
			continue
		}
		for t := a; t+minutes <= b; t += minutes {
			start := time.Date(y, m, dd, 0, t, 0, 0, loc())
			out = append(out, Slot{Start: start.UTC(), End: start.Add(time.Duration(minutes) * time.Minute).UTC()})
		}
	}
	return out
}

// slotAt finds the slot of the template that starts at start.
func (c *HallConfig) slotAt(cal *workdays.Calendar, start time.Time) (Slot, bool) {
	for _, s := range c.DaySlots(cal, workdays.DateOf(start)) {
		if s.Start.Equal(start) {
			return s, true
		}
	}
	return Slot{}, false
}

// SlotCounterID is the deterministic _id of a slot's counter.
func SlotCounterID(hallID, itemCode string, start time.Time) string {
	return "slot:" + hallID + ":" + itemCode + ":" + start.In(loc()).Format("200601021504")
}

// SlotCounter counts the places taken in one slot for one item (collection
// slot_counters). It is created lazily on the first booking.
type SlotCounter struct {
	ID       string    `bson:"_id" json:"id"`
	HallID   string    `bson:"hall_id" json:"hall_id"`
	ItemCode string    `bson:"item_code" json:"item_code"`
	Start    time.Time `bson:"start" json:"start"`
	End      time.Time `bson:"end" json:"end"`
	Capacity int       `bson:"capacity" json:"capacity"`
	Taken    int       `bson:"taken" json:"taken"`
	// ChangedAt is when a booking step last took or released a place.
	ChangedAt time.Time `bson:"changed_at,omitempty" json:"-"`
}
