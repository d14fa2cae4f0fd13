package courier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// resultv2 asks for status names, areas and sub-state codes on every
// track entry, so that each entry gets its own normalized state.
const resultv2 = "4"

// chinaTime is UTC+8: Kuaidi100 writes local times of China, which has had
// no daylight saving since 1991, so a fixed zone is exact and needs no tzdata.
var chinaTime = time.FixedZone("CST", 8*3600)

// Tracking is a parcel's track as the aggregator knows it.
type Tracking struct {
	Carrier string // Kuaidi100 company code (com)
	Number  string // waybill number (nu)
	State   State  // normalized current state
	// RawState is Kuaidi100's state code as received ("0" 在途 ... "14" 拒签).
	RawState string
	// Checked is Kuaidi100's ischeck: the parcel was signed for (by the
	// receiver, or by the sender after a return); nothing more will happen.
	Checked bool
	Events  []TrackEvent // oldest first
	// MonitorStatus and MonitorMessage come with pushes only: polling,
	// shutdown (signed for, monitoring ended), abort (Kuaidi100 gave up,
	// e.g. "3天查询无记录": subscribe again later) or updateall.
	MonitorStatus  string
	MonitorMessage string
}

// TrackEvent is one entry of a track.
type TrackEvent struct {
	At      time.Time // UTC
	Context string    // the carrier's own text, unchanged
	// RawStatus is data[].status as received: a Chinese name (在途, 签收...).
	RawStatus string
	// StatusCode is data[].statusCode (resultv2=4), e.g. 1002 干线, 304 投柜或站签收.
	StatusCode string
	State      State // normalized from StatusCode, else RawStatus; StateUnknown when both are absent
	AreaCode   string
	AreaName   string
}

// wireTrack is Kuaidi100's track: the query's answer and a push's lastResult.
type wireTrack struct {
	Message string      `json:"message"`
	Nu      string      `json:"nu"`
	IsCheck string      `json:"ischeck"`
	Com     string      `json:"com"`
	Status  string      `json:"status"`
	State   string      `json:"state"`
	Data    []wireEntry `json:"data"`
}

// wireEntry is one entry of a wire track.
type wireEntry struct {
	Time       string `json:"time"`
	FTime      string `json:"ftime"`
	Context    string `json:"context"`
	Status     string `json:"status"`
	StatusCode string `json:"statusCode"`
	AreaCode   string `json:"areaCode"`
	AreaName   string `json:"areaName"`
}

// tracking normalizes a wire track.
func (w wireTrack) tracking() (Tracking, error) {
	t := Tracking{
		Carrier: w.Com, Number: w.Nu, RawState: w.State, State: stateFromCode(w.State),
		Checked: w.IsCheck == "1", Events: make([]TrackEvent, 0, len(w.Data)),
	}
	// Kuaidi100 lists the newest entry first unless asked otherwise; read
	// backwards, then sort by time, stable so equal times keep that order.
	for i := len(w.Data) - 1; i >= 0; i-- {
		d := w.Data[i]
		at, err := parseTime(d.FTime, d.Time)
		if err != nil {
			return Tracking{}, ErrBadResponse.WithCause(err)
		}
		t.Events = append(t.Events, TrackEvent{
			At: at, Context: d.Context, RawStatus: d.Status, StatusCode: d.StatusCode,
			State: eventState(d.StatusCode, d.Status), AreaCode: d.AreaCode, AreaName: d.AreaName,
		})
	}
	slices.SortStableFunc(t.Events, func(a, b TrackEvent) int { return a.At.Compare(b.At) })
	// The sub-state of the newest entry refines 揽收 into "ordered, not collected".
	if n := len(t.Events); n > 0 && t.State == StatePickedUp && t.Events[n-1].State == StateCreated {
		t.State = StateCreated
	}
	return t, nil
}

// parseTime reads a track time (China time) as UTC: ftime, else time.
func parseTime(ftime, raw string) (time.Time, error) {
	for _, s := range []string{ftime, raw} {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04"} {
			if t, err := time.ParseInLocation(layout, s, chinaTime); err == nil {
				return t.UTC(), nil
			}
		}
		return time.Time{}, fmt.Errorf("kuaidi100: track time %q", s)
	}
	return time.Time{}, fmt.Errorf("kuaidi100: track entry without time")
}

// Track asks for a waybill's whole track now (实时查询). phone is the
// sender's or receiver's mobile, full or its last 4 digits; carriers such
// as 顺丰 (shunfeng) refuse without it. Returns ErrNoTracking when there is
// no track yet, ErrPhoneMismatch, ErrInvalidRequest (unknown carrier, bad
// number), ErrAuthFailed, ErrUnavailable, ErrTimeout or ErrBadResponse.
func (c *Client) Track(ctx context.Context, carrier, number, phone string) (Tracking, error) {
	if carrier == "" || number == "" {
		return Tracking{}, ErrInvalidRequest.WithCause(fmt.Errorf("courier: carrier and number are required"))
	}
	param, err := json.Marshal(struct {
		Com      string `json:"com"`
		Num      string `json:"num"`
		Phone    string `json:"phone,omitempty"`
		Resultv2 string `json:"resultv2"`
		Show     string `json:"show"`
		Order    string `json:"order"`
	}{carrier, number, phone, resultv2, "0", "desc"})
	if err != nil {
		return Tracking{}, err
	}
	form := url.Values{
		"customer": {c.customer},
		"param":    {string(param)},
		"sign":     {md5Upper(string(param), c.key, c.customer)},
	}
	body, err := c.post(ctx, "/poll/query.do", form)
	if err != nil {
		return Tracking{}, err
	}
	// A failure is an envelope with result=false; a track has no result.
	var probe struct {
		Result *bool `json:"result"`
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return Tracking{}, ErrBadResponse.WithCause(err)
	}
	if probe.Result != nil {
		env, err := decodeEnvelope(body)
		if err != nil {
			return Tracking{}, err
		}
		switch {
		case env.ReturnCode == "500":
			return Tracking{}, refused(ErrNoTracking, env)
		case env.ReturnCode == "408":
			return Tracking{}, refused(ErrPhoneMismatch, env)
		case commonError(env) != nil:
			return Tracking{}, commonError(env)
		}
		return Tracking{}, refused(ErrRejected, env)
	}
	var w wireTrack
	if err := json.Unmarshal(body, &w); err != nil || w.Status != "200" {
		return Tracking{}, ErrBadResponse.WithCause(fmt.Errorf("kuaidi100 query: %.200s", body))
	}
	return w.tracking()
}

// Subscribe asks the aggregator to push every change of a waybill's track
// to callbackURL, signed with salt (ParsePush checks it). A subscription
// already in force counts as success (Kuaidi100 returnCode 501), so a
// retried job is harmless. phone: as for Track. Returns ErrInvalidRequest,
// ErrAuthFailed, ErrUnavailable, ErrTimeout, ErrBadResponse or ErrRejected.
func (c *Client) Subscribe(ctx context.Context, carrier, number, phone, callbackURL, salt string) error {
	if carrier == "" || number == "" || callbackURL == "" || salt == "" {
		return ErrInvalidRequest.WithCause(fmt.Errorf("courier: carrier, number, callbackURL and salt are required"))
	}
	type parameters struct {
		CallbackURL string `json:"callbackurl"`
		Salt        string `json:"salt"`
		Resultv2    string `json:"resultv2"`
		Phone       string `json:"phone,omitempty"`
	}
	param, err := json.Marshal(struct {
		Company    string     `json:"company"`
		Number     string     `json:"number"`
		Key        string     `json:"key"`
		Parameters parameters `json:"parameters"`
	}{carrier, number, c.key, parameters{callbackURL, salt, resultv2, phone}})
	if err != nil {
		return err
	}
	body, err := c.post(ctx, "/poll", url.Values{"schema": {"json"}, "param": {string(param)}})
	if err != nil {
		return err
	}
	env, err := decodeEnvelope(body)
	if err != nil {
		return err
	}
	switch {
	case env.ReturnCode == "200" && *env.Result, env.ReturnCode == "501":
		return nil // 501 is 重复订阅 here: the subscription is in force
	case env.ReturnCode == "500":
		return refused(ErrUnavailable, env)
	case commonError(env) != nil:
		return commonError(env)
	}
	return refused(ErrRejected, env)
}
