package sandbox

import (
	"net/http"
	"strings"
	"time"

	"zwfw/sandbox/fake"
)

// The payment fakes (WeChat Pay, Alipay, the non-tax platform) run on one
// clock a control can move forward, so that a day's payments can be
// reconciled over HTTP the same day: closing a day moves that clock to
// 10:00 of the next (the channels publish a day's bills after it ends).
// zwfw's payment clients read the same clock when the sandbox is embedded.
// The other fakes keep the real time: a gateway's signature timestamps
// must stay close to zwfw's.

// chinaTime is the zone the channels' days are in.
var chinaTime = time.FixedZone("CST", 8*3600)

// BillsPublishedAt is when, on the day after, the channels have published a day's bills.
const BillsPublishedAt = 10 * time.Hour

// PaymentClock is the payment fakes' clock.
func (s *Sandbox) PaymentClock() *fake.OffsetClock { return s.payClock }

// CloseDay moves the payment fakes' clock forward to when the bills of day
// (YYYY-MM-DD, Asia/Shanghai) are published, if it is not there yet.
func (s *Sandbox) CloseDay(day time.Time) bool {
	y, m, d := day.In(chinaTime).Date()
	return s.payClock.AdvanceTo(time.Date(y, m, d+1, 0, 0, 0, 0, chinaTime).Add(BillsPublishedAt))
}

type clockState struct {
	Now           string `json:"now"`
	OffsetSeconds int64  `json:"offset_seconds"`
}

func (s *Sandbox) clockState() clockState {
	return clockState{Now: s.payClock.Now().In(chinaTime).Format(time.RFC3339), OffsetSeconds: int64(s.payClock.Offset() / time.Second)}
}

// getClock: GET /sandbox/clock
func (s *Sandbox) getClock(w http.ResponseWriter, _ *http.Request) {
	fake.WriteJSON(w, http.StatusOK, s.clockState())
}

// postClock: POST /sandbox/clock {"close_day":"YYYY-MM-DD"} or {"advance":"36h"}
func (s *Sandbox) postClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CloseDay string `json:"close_day"`
		Advance  string `json:"advance"`
	}
	const usage = `body must be JSON {"close_day":"YYYY-MM-DD"} (publish that day's bills) or {"advance":"36h"} (a Go duration, forward)`
	if err := fake.ReadJSON(w, r, &req); err != nil {
		fake.ControlError(w, http.StatusBadRequest, "%s: %v", usage, err)
		return
	}
	switch {
	case req.CloseDay != "" && req.Advance == "":
		day, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(req.CloseDay), chinaTime)
		if err != nil {
			fake.ControlError(w, http.StatusBadRequest, "close_day %q: %s", req.CloseDay, usage)
			return
		}
		s.CloseDay(day)
	case req.Advance != "" && req.CloseDay == "":
		d, err := time.ParseDuration(strings.TrimSpace(req.Advance))
		if err != nil || d <= 0 {
			fake.ControlError(w, http.StatusBadRequest, "advance %q: %s", req.Advance, usage)
			return
		}
		s.payClock.Advance(d)
	default:
		fake.ControlError(w, http.StatusBadRequest, "%s", usage)
		return
	}
	s.log.Info("sandbox payment clock moved", "now", s.payClock.Now(), "offset", s.payClock.Offset())
	fake.WriteJSON(w, http.StatusOK, s.clockState())
}

// deleteClock: DELETE /sandbox/clock puts the payment fakes back on the real time.
func (s *Sandbox) deleteClock(w http.ResponseWriter, _ *http.Request) {
	s.payClock.Reset()
	fake.WriteJSON(w, http.StatusOK, s.clockState())
}

// clockControls describes the clock's routes for the index.
var clockControls = []fake.Endpoint{
	{Method: "GET", Path: "/sandbox/clock", What: "the payment fakes' clock: now and offset_seconds"},
	{Method: "POST", Path: "/sandbox/clock", What: `move it forward: {"close_day":"YYYY-MM-DD"} to 10:00 the next day (the day's bills published), or {"advance":"36h"}`},
	{Method: "DELETE", Path: "/sandbox/clock", What: "back to the real time"},
}
