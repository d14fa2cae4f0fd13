package fake

import (
	"sync/atomic"
	"time"
)

// OffsetClock is a Clock that a control moves forward: its base clock plus
// an offset. The sandbox's payment fakes share one, so that a tester can
// end a day (and have its bills published) without waiting for midnight.
type OffsetClock struct {
	base   Clock
	offset atomic.Int64 // nanoseconds, never negative
}

// NewOffsetClock starts at base (the wall clock when nil) with no offset.
func NewOffsetClock(base Clock) *OffsetClock { return &OffsetClock{base: base.OrWall()} }

// Now is the base time plus the offset.
func (c *OffsetClock) Now() time.Time { return c.base().Add(c.Offset()) }

// Offset is how far ahead of its base the clock runs.
func (c *OffsetClock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Advance moves the clock forward by d (a negative d is ignored: time in
// the fakes never runs backwards except by Reset).
func (c *OffsetClock) Advance(d time.Duration) {
	if d > 0 {
		c.offset.Add(int64(d))
	}
}

// AdvanceTo moves the clock forward to t if it is behind it; it reports
// whether it moved.
func (c *OffsetClock) AdvanceTo(t time.Time) bool {
	for {
		cur := c.offset.Load()
		d := t.Sub(c.base().Add(time.Duration(cur)))
		if d <= 0 {
			return false
		}
		if c.offset.CompareAndSwap(cur, cur+int64(d)) {
			return true
		}
	}
}

// Reset puts the clock back on its base.
func (c *OffsetClock) Reset() { c.offset.Store(0) }
