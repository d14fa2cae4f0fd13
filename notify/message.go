package notify

import (
	"time"

	"zwfw/links"
)

// Channel is a way to reach a person outside the app's inbox.
type Channel string

// Channels, in the order the dispatcher tries them.
const (
	ChannelWeChat Channel = "wechat" // mini-program subscribe message (needs a one-time consent)
	ChannelPush   Channel = "push"   // app push through JPush (needs a registered device)
	ChannelSMS    Channel = "sms"    // text message (only for rules marked important)
)

// channelOrder is the fallback order of every message.
var channelOrder = []Channel{ChannelWeChat, ChannelPush, ChannelSMS}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool { return c == ChannelWeChat || c == ChannelPush || c == ChannelSMS }

// Kind groups rules for per-user preferences ("which channels for bookings").
type Kind string

// Kinds of reminders.
const (
	KindBooking    Kind = "booking"
	KindCase       Kind = "case"
	KindPayment    Kind = "payment"
	KindShipment   Kind = "shipment"
	KindLicense    Kind = "license"
	KindEvaluation Kind = "evaluation"
)

// Kinds lists every kind, in the order settings show them.
var Kinds = []Kind{KindBooking, KindCase, KindPayment, KindShipment, KindLicense, KindEvaluation}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// State is where a message is in its delivery.
type State string

// Message states. Sent, InboxOnly, Failed and Cancelled are final.
const (
	StatePending   State = "pending"    // created, not yet delivered (or waiting for a retry)
	StateSending   State = "sending"    // a worker holds the send lease
	StateDeferred  State = "deferred"   // quiet hours: waits for DeferredUntil
	StateSent      State = "sent"       // delivered through Channel
	StateInboxOnly State = "inbox_only" // no channel applied (no consent, device, phone or permission)
	StateFailed    State = "failed"     // every applicable channel failed: shown to admins
	StateCancelled State = "cancelled"  // the reminder no longer applied (booking cancelled, paid...)
)

// Final reports whether nothing more will happen to the message.
func (s State) Final() bool {
	return s == StateSent || s == StateInboxOnly || s == StateFailed || s == StateCancelled
}

// Attempt outcomes recorded per message.
const (
	OutcomeSent        = "sent"
	OutcomeNoConsent   = "no_consent"
	OutcomeNoDevice    = "no_device"
	OutcomeRateLimited = "rate_limited"
	OutcomeTemporary   = "temporary"
	OutcomeRefused     = "refused"
)

// Attempt is one try of one channel for a message.
type Attempt struct {
	Channel Channel   `bson:"channel" json:"channel"`
	At      time.Time `bson:"at" json:"at"`
	Outcome string    `bson:"outcome" json:"outcome"`
	Detail  string    `bson:"detail,omitempty" json:"detail,omitempty"`
}

// Message is one reminder to one user, stored under its dedup id: the
// insert of that unique _id is what makes it exactly-once across duplicated
// events, replicas and restarts. It doubles as the user's inbox entry.
type Message struct {
	// ID is "dedup:<user>:<rule>:<subject>".
	ID string `bson:"_id"`
	// PublicID is the opaque id clients use (the dedup id names the user).
	PublicID string            `bson:"pid"`
	UserID   string            `bson:"user_id"`
	RuleID   string            `bson:"rule_id"`
	Kind     Kind              `bson:"kind"`
	Subject  string            `bson:"subject"`
	Title    string            `bson:"title"`
	Body     string            `bson:"body"`
	Fields   map[string]string `bson:"fields,omitempty"`
	// Link is what the message opens; Page is its mini-program form (the
	// page of the WeChat card), kept with the message as it was sent.
	Link   *links.Ref `bson:"link,omitempty"`
	Page   string     `bson:"page,omitempty"`
	Urgent bool       `bson:"urgent"`
	State  State      `bson:"state"`
	// Channel is the channel that delivered it (State sent).
	Channel  Channel   `bson:"channel,omitempty"`
	Attempts []Attempt `bson:"attempts"`
	// Inbox: shown in the user's in-app inbox (every message that applied).
	Inbox bool `bson:"inbox"`
	// LeaseOwner / LeaseUntil: the worker sending it (State sending).
	LeaseOwner    string     `bson:"lease_owner,omitempty"`
	LeaseUntil    time.Time  `bson:"lease_until,omitempty"`
	DeferredUntil *time.Time `bson:"deferred_until,omitempty"`
	ReadAt        *time.Time `bson:"read_at,omitempty"`
	CreatedAt     time.Time  `bson:"created_at"`
	UpdatedAt     time.Time  `bson:"updated_at"`
}

// Target is what the message opens: its Link, or (for messages stored
// before links) the message itself in the inbox.
func (m Message) Target() links.Ref {
	if m.Link != nil && m.Link.Target.Valid() {
		return *m.Link
	}
	return links.To(links.Message, m.PublicID)
}

// Recipient is how a user can be reached; empty fields mean "not on that channel".
type Recipient struct {
	// UserID is the person the reminder reaches now: after a merge of two
	// persons, the survivor's id ("" = the id asked about).
	UserID string
	OpenID string // mini-program openid
	Phone  string // mobile number in full (used only to send)
	Name   string
}

// Device is an installed app registered for push.
type Device struct {
	ID             string    `bson:"_id"` // device:<user>:<registration id>
	UserID         string    `bson:"user_id"`
	RegistrationID string    `bson:"registration_id"`
	Platform       string    `bson:"platform"` // ios | android
	UpdatedAt      time.Time `bson:"updated_at"`
}

// ConsentResult is a user's answer to wx.requestSubscribeMessage for one template.
type ConsentResult string

// Answers wx.requestSubscribeMessage reports per template.
const (
	ConsentAccept ConsentResult = "accept"
	ConsentReject ConsentResult = "reject"
	ConsentBan    ConsentResult = "ban"    // the template was banned by WeChat
	ConsentFilter ConsentResult = "filter" // filtered by WeChat (same title as another)
)
