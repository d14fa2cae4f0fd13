package notify

import (
	"fmt"
	"time"

	"zwfw/apperr"
)

// QuietHours is the daily window (Asia/Shanghai) in which non-urgent
// reminders wait; urgent ones may still go by SMS or app push.
type QuietHours struct {
	Enabled bool   `bson:"enabled" json:"enabled"`
	Start   string `bson:"start" json:"start"` // "HH:MM", e.g. "22:00"
	End     string `bson:"end" json:"end"`     // "HH:MM", e.g. "08:00"; before Start means overnight
}

// Settings are one user's reminder preferences.
type Settings struct {
	// Channels lists, per kind, the channels the user allows (the inbox is
	// always on). A kind missing from the map allows every channel.
	Channels map[Kind][]Channel `bson:"channels" json:"channels"`
	Quiet    QuietHours         `bson:"quiet_hours" json:"quiet_hours"`
}

// DefaultSettings: every channel for every kind, quiet 22:00–08:00.
func DefaultSettings() Settings {
	s := Settings{Channels: map[Kind][]Channel{}, Quiet: QuietHours{Enabled: true, Start: "22:00", End: "08:00"}}
	for _, k := range Kinds {
		s.Channels[k] = append([]Channel(nil), channelOrder...)
	}
	return s
}

// Validate returns NOTIFICATION_SETTINGS_INVALID listing every bad field.
func (s Settings) Validate() error {
	var fields []apperr.FieldError
	for k, list := range s.Channels {
		if !k.Valid() {
			fields = append(fields, apperr.Field("channels."+string(k), "KIND_UNKNOWN", "未知的提醒类别"))
			continue
		}
		seen := map[Channel]bool{}
		for _, c := range list {
			if !c.Valid() || seen[c] {
				fields = append(fields, apperr.Field("channels."+string(k), "CHANNEL_INVALID", "提醒渠道应为 wechat、push、sms 且不重复"))
				break
			}
			seen[c] = true
		}
	}
	if s.Quiet.Enabled {
		if _, err := minuteOfDay(s.Quiet.Start); err != nil {
			fields = append(fields, apperr.Field("quiet_hours.start", "TIME_INVALID", "时间格式应为 HH:MM"))
		}
		if _, err := minuteOfDay(s.Quiet.End); err != nil {
			fields = append(fields, apperr.Field("quiet_hours.end", "TIME_INVALID", "时间格式应为 HH:MM"))
		}
	}
	if len(fields) > 0 {
		return ErrInvalidSettings.WithFields(fields...)
	}
	return nil
}

// Allows reports whether the user accepts kind k on channel c.
func (s Settings) Allows(k Kind, c Channel) bool {
	list, ok := s.Channels[k]
	if !ok {
		return true
	}
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

// minuteOfDay parses "HH:MM".
func minuteOfDay(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("notify: %q is not HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Until reports whether t is inside the quiet window and, if so, when the
// window ends (the instant non-urgent reminders go out).
func (q QuietHours) Until(t time.Time) (time.Time, bool) {
	if !q.Enabled {
		return time.Time{}, false
	}
	start, err1 := minuteOfDay(q.Start)
	end, err2 := minuteOfDay(q.End)
	if err1 != nil || err2 != nil || start == end {
		return time.Time{}, false
	}
	local := t.In(shanghai)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, shanghai)
	now := local.Hour()*60 + local.Minute()
	at := func(d time.Time, m int) time.Time { return d.Add(time.Duration(m) * time.Minute) }
	switch {
	case start < end: // same-day window, e.g. 12:00–14:00
		if now >= start && now < end {
			return at(day, end).UTC(), true
		}
	case now >= start: // overnight window, evening part
		return at(day.AddDate(0, 0, 1), end).UTC(), true
	case now < end: // overnight window, morning part
		return at(day, end).UTC(), true
	}
	return time.Time{}, false
}
