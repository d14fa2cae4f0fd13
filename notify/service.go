package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"zwfw/links"
	"zwfw/platform/jobs"
)

// Names the lead wires: the job type of every send and the event consumer.
const (
	// JobSend is the job type whose handler is Service.Dispatch; its key is
	// the message's dedup id (with "@defer:<unix>" for quiet-hour deferrals).
	JobSend = "notify.send"
	// ConsumerName is the event-log cursor of the reminder engine.
	ConsumerName = "notify.reminders"
)

// Queue enqueues durable jobs (implemented by *jobs.Queue).
type Queue interface {
	Enqueue(ctx context.Context, req jobs.EnqueueRequest) (jobs.Job, bool, error)
}

// Recipients tells how to reach a user (implemented over identity by the
// lead). A user that cannot be found is a zero Recipient with a nil error:
// the message then only goes to the inbox.
type Recipients interface {
	Recipient(ctx context.Context, userID string) (Recipient, error)
}

// BookingDetails is what a booking reminder says beyond the event's data.
type BookingDetails struct {
	ItemName string
	HallName string // with the address when short
	Bring    []string
	NoShows  int       // no-shows counted by the ban rule
	BanUntil time.Time // zero when not banned
}

// CaseProgress is where a case stands, for scheduled case reminders.
type CaseProgress struct {
	Status        string    // cases.Status
	LastChangedAt time.Time // time of the last status change
	DueOn         time.Time // promised time limit; zero when unknown
	Evaluated     bool
}

// Lookups re-read the domains before a scheduled reminder goes out (a
// booking cancelled or moved, a fee paid, a licence renewed) and fill in
// what events do not carry. Implemented by the lead over the domain services.
type Lookups interface {
	// BookingActive reports whether the booking is still confirmed for the slot starting at slotStart.
	BookingActive(ctx context.Context, bookingID string, slotStart time.Time) (bool, error)
	// BookingDetails returns names and the no-show standing for a booking's messages.
	BookingDetails(ctx context.Context, bookingID string) (BookingDetails, error)
	// PaymentOpen reports whether the payment notice is still unpaid and payable.
	PaymentOpen(ctx context.Context, paymentCode string) (bool, error)
	// CaseProgress returns the case's status for the reassurance and evaluation reminders.
	CaseProgress(ctx context.Context, caseID string) (CaseProgress, error)
	// LicenseExpiresAt returns the licence's current expiry (zero when it no longer exists).
	LicenseExpiresAt(ctx context.Context, userID, licenseID string) (time.Time, error)
}

// Limits bound what one user receives; zero fields take the defaults.
type Limits struct {
	// PerUserPerDay caps messages sent outside the inbox per user per day. Default 20.
	PerUserPerDay int
	// PerChannelPerDay caps sends per user, channel and day. Defaults wechat 10, push 20, sms 5.
	PerChannelPerDay map[Channel]int
	// ChannelRetries is how many temporary failures of one channel a
	// message waits out (with the job's backoff) before falling back. Default 3.
	ChannelRetries int
	// SendLease bounds one worker's hold on a message. Default 2 min.
	SendLease time.Duration
	// MaxDevices is how many of a user's apps get a push. Default 3.
	MaxDevices int
}

func (l Limits) withDefaults() Limits {
	if l.PerUserPerDay <= 0 {
		l.PerUserPerDay = 20
	}
	def := map[Channel]int{ChannelWeChat: 10, ChannelPush: 20, ChannelSMS: 5}
	if l.PerChannelPerDay == nil {
		l.PerChannelPerDay = map[Channel]int{}
	}
	for c, n := range def {
		if l.PerChannelPerDay[c] <= 0 {
			l.PerChannelPerDay[c] = n
		}
	}
	if l.ChannelRetries <= 0 {
		l.ChannelRetries = 3
	}
	if l.SendLease <= 0 {
		l.SendLease = 2 * time.Minute
	}
	if l.MaxDevices <= 0 {
		l.MaxDevices = 3
	}
	return l
}

// Deps are the collaborators of a Service. Store, Queue and Recipients are
// required; a nil channel is a channel that is not configured; a nil
// Lookups sends scheduled reminders without re-checking (tests only).
type Deps struct {
	Store      Store
	Queue      Queue
	WeChat     WeChatSender
	Push       PushSender
	SMS        SMSSender
	Recipients Recipients
	Lookups    Lookups
	// Links makes the messages' links (a WeChat card's page, an app push's
	// URL, an SMS's H5 path); nil: the default app scheme and a local H5 base (tests).
	Links *links.Maker
	// Rules default to DefaultRules().
	Rules  map[string]Rule
	Limits Limits
	Now    func() time.Time
	Logger *slog.Logger
	// Owner names this replica in message leases. Default host-pid-random.
	Owner string
}

// Service is the reminder engine: it turns domain events into messages
// (HandleEvent), delivers them (Dispatch, the JobSend handler), and serves
// the users' preferences, consents, devices and inbox.
type Service struct {
	store      Store
	queue      Queue
	wechat     WeChatSender
	push       PushSender
	sms        SMSSender
	recipients Recipients
	lookups    Lookups
	rules      map[string]Rule
	links      *links.Maker
	templates  map[string][]string // WeChat template id -> rule ids
	limits     Limits
	now        func() time.Time
	log        *slog.Logger
	owner      string
}

// NewService builds the service.
func NewService(d Deps) *Service {
	if d.Rules == nil {
		d.Rules = DefaultRules()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Links == nil {
		d.Links, _ = links.New("http://localhost", "")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		d.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	s := &Service{store: d.Store, queue: d.Queue, wechat: d.WeChat, push: d.Push, sms: d.SMS,
		recipients: d.Recipients, lookups: d.Lookups, rules: d.Rules, links: d.Links, templates: map[string][]string{},
		limits: d.Limits.withDefaults(), now: d.Now, log: d.Logger.With("component", "notify"), owner: d.Owner}
	for id, r := range d.Rules {
		if r.WeChat.TemplateID != "" && !r.Disabled {
			s.templates[r.WeChat.TemplateID] = append(s.templates[r.WeChat.TemplateID], id)
		}
	}
	return s
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Rules returns the rules in force.
func (s *Service) Rules() map[string]Rule { return s.rules }

// DedupID is the _id of the one message a user gets for a rule and subject.
func DedupID(userID, ruleID, subject string) string {
	return "dedup:" + userID + ":" + ruleID + ":" + subject
}
