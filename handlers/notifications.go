package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/links"
	"zwfw/notify"
)

// Notifications serves reminders: WeChat subscribe consents, push devices,
// preferences, the in-app inbox and the admins' list of undeliverable messages.
type Notifications struct {
	Svc       *notify.Service
	BodyLimit int
	// Links makes each message's link in the caller's client form.
	Links *links.Maker
}

// NotificationView is one inbox message.
type NotificationView struct {
	ID        string      `json:"id"`
	Rule      string      `json:"rule"`
	Kind      string      `json:"kind"`
	Title     string      `json:"title"`
	Body      string      `json:"body"`
	Page      string      `json:"page,omitempty"`
	Link      *links.Link `json:"link,omitempty"` // what the message is about, in the caller's client form
	Channel   string      `json:"channel,omitempty"`
	State     string      `json:"state"`
	Read      bool        `json:"read"`
	ReadAt    *time.Time  `json:"read_at,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
}

func notificationView(m *notify.Message) NotificationView {
	v := NotificationView{ID: m.PublicID, Rule: m.RuleID, Kind: string(m.Kind), Title: m.Title, Body: m.Body, Page: m.Page,
		Channel: string(m.Channel), State: string(m.State), Read: m.ReadAt != nil, CreatedAt: m.CreatedAt.In(Shanghai)}
	if m.ReadAt != nil {
		t := m.ReadAt.In(Shanghai)
		v.ReadAt = &t
	}
	return v
}

// AttemptView is one channel attempt, for admins.
type AttemptView struct {
	Channel string    `json:"channel"`
	At      time.Time `json:"at"`
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail,omitempty"`
}

// FailedNotificationView is an undeliverable message with its attempts.
type FailedNotificationView struct {
	NotificationView
	UserID    string        `json:"user_id"`
	Subject   string        `json:"subject"`
	Attempts  []AttemptView `json:"attempts"`
	UpdatedAt time.Time     `json:"updated_at"`
}

type subscriptionsRequest struct {
	TemplateIDs []string          `json:"template_ids"`
	Results     map[string]string `json:"results"`
}

// Subscriptions handles POST /api/v1/me/subscriptions: the answers of
// wx.requestSubscribeMessage. It returns the templates with the consents left.
func (h *Notifications) Subscriptions(c *fiber.Ctx) error {
	var req subscriptionsRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	list, err := h.Svc.Subscribe(c.UserContext(), PrincipalFrom(c).UserID, req.TemplateIDs, req.Results)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"templates": list})
}

// Templates handles GET /api/v1/me/subscriptions: the templates to request
// consent for, with the consents left.
func (h *Notifications) Templates(c *fiber.Ctx) error {
	list, err := h.Svc.Templates(c.UserContext(), PrincipalFrom(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"templates": list})
}

type deviceRequest struct {
	RegistrationID string `json:"registration_id"`
	Platform       string `json:"platform"`
}

// Devices handles POST /api/v1/me/devices: the app registers its JPush id.
func (h *Notifications) Devices(c *fiber.Ctx) error {
	var req deviceRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	d, err := h.Svc.RegisterDevice(c.UserContext(), PrincipalFrom(c).UserID, req.RegistrationID, req.Platform)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"registration_id": d.RegistrationID, "platform": d.Platform,
		"updated_at": d.UpdatedAt.In(Shanghai)})
}

// GetSettings handles GET /api/v1/me/notification-settings.
func (h *Notifications) GetSettings(c *fiber.Ctx) error {
	set, err := h.Svc.Settings(c.UserContext(), PrincipalFrom(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(set)
}

// PutSettings handles PUT /api/v1/me/notification-settings.
func (h *Notifications) PutSettings(c *fiber.Ctx) error {
	var req notify.Settings
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	set, err := h.Svc.PutSettings(c.UserContext(), PrincipalFrom(c).UserID, req)
	if err != nil {
		return err
	}
	return c.JSON(set)
}

// PatchSettings handles PATCH /api/v1/me/notification-settings: what the
// body names replaces its part (one kind's channels, one quiet-hours
// field); everything else stays. PUT replaces the whole; this changes part.
// Two PATCHes of the same user at the same instant: the later write wins.
func (h *Notifications) PatchSettings(c *fiber.Ctx) error {
	var req struct {
		Channels map[notify.Kind][]notify.Channel `json:"channels"`
		Quiet    *struct {
			Enabled *bool   `json:"enabled"`
			Start   *string `json:"start"`
			End     *string `json:"end"`
		} `json:"quiet_hours"`
	}
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	user := PrincipalFrom(c).UserID
	set, err := h.Svc.Settings(c.UserContext(), user)
	if err != nil {
		return err
	}
	if set.Channels == nil {
		set.Channels = map[notify.Kind][]notify.Channel{}
	}
	for k, list := range req.Channels {
		set.Channels[k] = list
	}
	if q := req.Quiet; q != nil {
		if q.Enabled != nil {
			set.Quiet.Enabled = *q.Enabled
		}
		if q.Start != nil {
			set.Quiet.Start = *q.Start
		}
		if q.End != nil {
			set.Quiet.End = *q.End
		}
	}
	set, err = h.Svc.PutSettings(c.UserContext(), user, set)
	if err != nil {
		return err
	}
	return c.JSON(set)
}

// Inbox handles GET /api/v1/me/notifications?cursor=.
func (h *Notifications) Inbox(c *fiber.Ctx) error {
	list, next, err := h.Svc.Inbox(c.UserContext(), PrincipalFrom(c).UserID, c.Query("cursor"))
	if err != nil {
		return err
	}
	items := make([]NotificationView, 0, len(list))
	for i := range list {
		items = append(items, h.linked(c, notificationView(&list[i]), &list[i]))
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}

// Read handles POST /api/v1/me/notifications/:id/read.
func (h *Notifications) Read(c *fiber.Ctx) error {
	m, err := h.Svc.MarkRead(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(h.linked(c, notificationView(m), m))
}

// linked adds the message's link in the caller's client form.
func (h *Notifications) linked(c *fiber.Ctx, v NotificationView, m *notify.Message) NotificationView {
	if h.Links != nil {
		l := LinkFor(c, h.Links, m.Target())
		v.Link = &l
	}
	return v
}

// AdminFailed handles GET /api/v1/admin/notifications/failed?cursor=.
func (h *Notifications) AdminFailed(c *fiber.Ctx) error {
	list, next, err := h.Svc.Failed(c.UserContext(), c.Query("cursor"))
	if err != nil {
		return err
	}
	items := make([]FailedNotificationView, 0, len(list))
	for i := range list {
		m := &list[i]
		v := FailedNotificationView{NotificationView: notificationView(m), UserID: m.UserID, Subject: m.Subject,
			Attempts: make([]AttemptView, 0, len(m.Attempts)), UpdatedAt: m.UpdatedAt.In(Shanghai)}
		for _, a := range m.Attempts {
			v.Attempts = append(v.Attempts, AttemptView{Channel: string(a.Channel), At: a.At.In(Shanghai), Outcome: a.Outcome, Detail: a.Detail})
		}
		items = append(items, v)
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": next})
}
