package notify

import (
	"context"
	"encoding/base64"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"zwfw/apperr"
)

// PageSize is the length of inbox and failed-list pages.
const PageSize = 20

// TemplateInfo tells the mini-program which templates to request consent
// for (wx.requestSubscribeMessage takes up to three ids at a time).
type TemplateInfo struct {
	TemplateID string   `json:"template_id"`
	Rules      []string `json:"rules"`
	Remaining  int      `json:"remaining"` // accepted sends not yet used
}

// Templates returns the WeChat templates in use, with the user's remaining
// consents. Returns internal errors only.
func (s *Service) Templates(ctx context.Context, userID string) ([]TemplateInfo, error) {
	counts, err := s.store.Consents(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]TemplateInfo, 0, len(s.templates))
	for id, rules := range s.templates {
		rs := append([]string(nil), rules...)
		sort.Strings(rs)
		out = append(out, TemplateInfo{TemplateID: id, Rules: rs, Remaining: counts[id]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TemplateID < out[j].TemplateID })
	return out, nil
}

// Subscribe records the answers of wx.requestSubscribeMessage: each accept
// allows one more message of that template. Called by the user. Returns
// NOTIFICATION_TEMPLATE_UNKNOWN for a template not in use and
// NOTIFICATION_SUBSCRIPTION_INVALID for a result that is not accept,
// reject, ban or filter, or names a template not listed.
func (s *Service) Subscribe(ctx context.Context, userID string, templateIDs []string, results map[string]string) ([]TemplateInfo, error) {
	if len(templateIDs) == 0 || len(templateIDs) > 10 {
		return nil, ErrInvalidSubscribe.WithMessage("请提供 1-10 个模板")
	}
	listed := map[string]bool{}
	for _, id := range templateIDs {
		if _, ok := s.templates[id]; !ok {
			return nil, ErrUnknownTemplate.WithDetail("template_id", clip(id, 64))
		}
		listed[id] = true
	}
	for id, r := range results {
		if !listed[id] {
			return nil, ErrInvalidSubscribe.WithMessage("订阅结果包含未申请的模板")
		}
		switch ConsentResult(r) {
		case ConsentAccept, ConsentReject, ConsentBan, ConsentFilter:
		default:
			return nil, ErrInvalidSubscribe.WithMessage("订阅结果应为 accept、reject、ban 或 filter")
		}
	}
	now := s.clock()
	for _, id := range templateIDs {
		r, ok := results[id]
		if !ok {
			continue // no answer for it: nothing was granted
		}
		if err := s.store.AddConsent(ctx, userID, id, ConsentResult(r), now); err != nil {
			return nil, err
		}
	}
	return s.Templates(ctx, userID)
}

var registrationIDPattern = regexp.MustCompile(`^[A-Za-z0-9_\-]{8,64}$`)

// RegisterDevice records the app installation that registered with JPush,
// so that the user's reminders can be pushed to it. Returns
// NOTIFICATION_DEVICE_INVALID for a malformed id or platform.
func (s *Service) RegisterDevice(ctx context.Context, userID, registrationID, platform string) (Device, error) {
	var fields []apperr.FieldError
	if !registrationIDPattern.MatchString(registrationID) {
		fields = append(fields, apperr.Field("registration_id", "INVALID", "设备注册号格式有误"))
	}
	if platform != "ios" && platform != "android" {
		fields = append(fields, apperr.Field("platform", "INVALID", "平台应为 ios 或 android"))
	}
	if len(fields) > 0 {
		return Device{}, ErrInvalidDevice.WithFields(fields...)
	}
	d := Device{UserID: userID, RegistrationID: registrationID, Platform: platform, UpdatedAt: s.clock()}
	if err := s.store.PutDevice(ctx, d); err != nil {
		return Device{}, err
	}
	d.ID = ""
	return d, nil
}

// Settings returns the user's preferences, defaults filled in.
func (s *Service) Settings(ctx context.Context, userID string) (Settings, error) {
	set, _, err := s.store.Settings(ctx, userID)
	if err != nil {
		return Settings{}, err
	}
	return withDefaultKinds(set), nil
}

// PutSettings replaces the user's preferences (kinds left out keep every
// channel). Returns NOTIFICATION_SETTINGS_INVALID listing bad fields.
func (s *Service) PutSettings(ctx context.Context, userID string, set Settings) (Settings, error) {
	if err := set.Validate(); err != nil {
		return Settings{}, err
	}
	set = withDefaultKinds(set)
	if err := s.store.PutSettings(ctx, userID, set, s.clock()); err != nil {
		return Settings{}, err
	}
	return set, nil
}

func withDefaultKinds(set Settings) Settings {
	out := Settings{Channels: map[Kind][]Channel{}, Quiet: set.Quiet}
	for k, v := range set.Channels {
		out.Channels[k] = append([]Channel{}, v...)
	}
	for _, k := range Kinds {
		if _, ok := out.Channels[k]; !ok {
			out.Channels[k] = append([]Channel(nil), channelOrder...)
		}
	}
	return out
}

// Inbox returns a page of the user's messages, newest first, and the cursor
// of the next page ("" at the end). Returns NOTIFICATION_CURSOR_INVALID.
func (s *Service) Inbox(ctx context.Context, userID, cursor string) ([]Message, string, error) {
	c, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	list, err := s.store.Inbox(ctx, userID, c, PageSize)
	if err != nil {
		return nil, "", err
	}
	return list, nextCursor(list, func(m Message) time.Time { return m.CreatedAt }), nil
}

// MarkRead marks the user's message read (again is harmless). Returns
// NOTIFICATION_NOT_FOUND when it is not the user's.
func (s *Service) MarkRead(ctx context.Context, userID, publicID string) (*Message, error) {
	if publicID == "" || len(publicID) > 64 {
		return nil, ErrNotFound
	}
	return s.store.MarkRead(ctx, userID, publicID, s.clock())
}

// Failed returns a page of undeliverable messages for admins, most
// recently failed first. Returns NOTIFICATION_CURSOR_INVALID.
func (s *Service) Failed(ctx context.Context, cursor string) ([]Message, string, error) {
	c, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	list, err := s.store.Failed(ctx, c, PageSize)
	if err != nil {
		return nil, "", err
	}
	return list, nextCursor(list, func(m Message) time.Time { return m.UpdatedAt }), nil
}

// Cursors are base64url("<unix millis>.<public id>").
func decodeCursor(s string) (PageCursor, error) {
	if s == "" {
		return PageCursor{}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) > 100 {
		return PageCursor{}, ErrInvalidCursor
	}
	ms, id, ok := strings.Cut(string(raw), ".")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || id == "" {
		return PageCursor{}, ErrInvalidCursor
	}
	return PageCursor{At: time.UnixMilli(n).UTC(), ID: id}, nil
}

func nextCursor(list []Message, at func(Message) time.Time) string {
	if len(list) < PageSize {
		return ""
	}
	last := list[len(list)-1]
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at(last).UnixMilli(), 10) + "." + last.PublicID))
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
