package push

import (
	"encoding/json"
	"maps"
	"time"
)

// Kinds of Message.
const (
	KindNotification = "notification" // shown in the notification bar
	KindMessage      = "message"      // JPush 自定义消息: handed to the running app, not shown
)

// Message is what reached one device from one push.
type Message struct {
	MsgID          string `json:"msg_id"`
	SendNo         string `json:"sendno"`
	RegistrationID string `json:"registration_id"`
	Platform       string `json:"platform"`
	Kind           string `json:"kind"`
	// Alert is the notification's text (msg_content for a message).
	Alert string `json:"alert"`
	// Title is the platform's title (android.title, the iOS alert's title,
	// or message.title); empty means the phone shows the app's name.
	Title  string         `json:"title,omitempty"`
	Extras map[string]any `json:"extras,omitempty"`
	Sound  string         `json:"sound,omitempty"` // iOS
	Badge  string         `json:"badge,omitempty"` // iOS: "+1", "3"
	// APNsProduction is the APNs environment the push asked for (iOS):
	// an app built for the other environment would not get it.
	APNsProduction bool      `json:"apns_production"`
	TimeToLive     int64     `json:"time_to_live"`
	Time           time.Time `json:"time"`
}

// render is what p delivers to d: a notification and/or a message.
func (p *pushRequest) render(d *Device, msgID string, now time.Time) []Message {
	base := Message{
		MsgID: msgID, SendNo: p.sendNo, RegistrationID: d.RegistrationID, Platform: d.Platform,
		APNsProduction: p.apnsProduction, TimeToLive: p.timeToLive, Time: now,
	}
	var out []Message
	if n := p.notification; n != nil {
		m := base
		m.Kind = KindNotification
		if n.Alert != nil {
			m.Alert = *n.Alert
		}
		switch d.Platform {
		case PlatformAndroid:
			if a := n.Android; a != nil {
				if a.Alert != nil {
					m.Alert = *a.Alert // the platform's alert wins over the shared one
				}
				m.Title, m.Extras = a.Title, maps.Clone(a.Extras)
			}
		case PlatformIOS:
			if p.iosAlert.set {
				m.Alert, m.Title = p.iosAlert.body, p.iosAlert.title
			}
			if i := n.IOS; i != nil {
				m.Extras = maps.Clone(i.Extras)
				m.Sound = soundText(i.Sound)
				if len(i.Badge) > 0 {
					m.Badge, _ = badgeText(i.Badge) // checked in parsePush
				}
			}
		}
		out = append(out, m)
	}
	if c := p.message; c != nil {
		m := base
		m.Kind, m.Alert, m.Title, m.Extras = KindMessage, *c.MsgContent, c.Title, maps.Clone(c.Extras)
		out = append(out, m)
	}
	return out
}

// soundText is a sound's file name, or its dictionary as JSON.
func soundText(raw json.RawMessage) string {
	if absent(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// Messages returns what reached the device with registrationID (every
// device when empty), oldest first.
func (s *Server) Messages(registrationID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Message{}
	for _, m := range s.messages {
		if registrationID == "" || m.RegistrationID == registrationID {
			out = append(out, m)
		}
	}
	return out
}
