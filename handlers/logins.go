package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/identity"
)

// Logins serves the caller's logins: list, link by proof, unlink.
type Logins struct {
	Svc       *identity.Service
	BodyLimit int
}

// LoginView is one login as the phone shows it (masked).
type LoginView struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`  // wechat | phone
	Label    string    `json:"label"` // 138****8000, or the openid shortened
	Via      string    `json:"via"`   // login | wechat_phone | sms | wechat | merge
	LinkedAt time.Time `json:"linked_at"`
	// Current marks the login this session was opened with.
	Current bool `json:"current"`
}

// MergeStepView is one step of a merge.
type MergeStepView struct {
	Name  string    `json:"name"`
	Moved int64     `json:"moved"`
	At    time.Time `json:"at"`
}

// MergeView is a merge the person took part in (the audit the person sees).
type MergeView struct {
	ID             string          `json:"id"`
	State          string          `json:"state"` // running | done | refused
	Role           string          `json:"role"`  // survivor | absorbed
	Via            string          `json:"via"`
	Login          string          `json:"login"`           // the login proven, masked
	AbsorbedLogins []string        `json:"absorbed_logins"` // masked
	RequestedAt    time.Time       `json:"requested_at"`
	FinishedAt     *time.Time      `json:"finished_at,omitempty"`
	Steps          []MergeStepView `json:"steps"`
}

func loginViews(u *identity.User, current string) []LoginView {
	out := make([]LoginView, 0, len(u.Logins))
	for _, l := range u.Logins {
		out = append(out, LoginView{ID: l.ID(), Kind: string(l.Kind), Label: l.Masked, Via: l.Via,
			LinkedAt: l.LinkedAt.In(Shanghai), Current: l.ID() == current})
	}
	return out
}

func mergeView(m *identity.Merge, userID string) MergeView {
	v := MergeView{ID: m.ID, State: string(m.State), Role: "survivor", Via: m.Via, Login: m.Login.Masked,
		AbsorbedLogins: []string{}, RequestedAt: m.RequestedAt.In(Shanghai), Steps: []MergeStepView{}}
	if m.Absorbed == userID {
		v.Role = "absorbed"
	}
	for _, l := range m.AbsorbedLogins {
		v.AbsorbedLogins = append(v.AbsorbedLogins, l.Masked)
	}
	if m.FinishedAt != nil {
		t := m.FinishedAt.In(Shanghai)
		v.FinishedAt = &t
	}
	for _, s := range m.Steps {
		v.Steps = append(v.Steps, MergeStepView{Name: s.Name, Moved: s.Moved, At: s.At.In(Shanghai)})
	}
	return v
}

// List handles GET /api/v1/me/logins.
func (h *Logins) List(c *fiber.Ctx) error {
	p := PrincipalFrom(c)
	u, merges, err := h.Svc.Logins(c.UserContext(), p)
	if err != nil {
		return err
	}
	ms := make([]MergeView, 0, len(merges))
	for i := range merges {
		ms = append(ms, mergeView(&merges[i], u.ID))
	}
	return c.JSON(fiber.Map{"logins": loginViews(u, h.Svc.SessionLogin(c.UserContext(), p)), "merges": ms})
}

// linked answers a link: 200 with the person's logins, or 202 while the
// merge it started is still running (GET /me/logins shows when it is done).
func (h *Logins) linked(c *fiber.Ctx, res *identity.LinkResult) error {
	out := fiber.Map{"user": NewUserView(res.User), "logins": loginViews(res.User, h.Svc.SessionLogin(c.UserContext(), PrincipalFrom(c)))}
	status := fiber.StatusOK
	if res.Merge != nil {
		out["merge"] = mergeView(res.Merge, res.User.ID)
		if res.Merge.State == identity.MergeRunning {
			status = fiber.StatusAccepted
		}
	}
	return c.Status(status).JSON(out)
}

type linkCodeRequest struct {
	Code string `json:"code"`
}

func (h *Logins) code(c *fiber.Ctx) (string, error) {
	var req linkCodeRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return "", err
	}
	if req.Code == "" {
		return "", apperr.InvalidInput.WithFields(apperr.Field("code", "REQUIRED", "缺少 code"))
	}
	return req.Code, nil
}

// LinkWeChatPhone handles POST /api/v1/me/logins/wechat-phone.
func (h *Logins) LinkWeChatPhone(c *fiber.Ctx) error {
	code, err := h.code(c)
	if err != nil {
		return err
	}
	res, err := h.Svc.LinkWeChatPhone(c.UserContext(), PrincipalFrom(c), code)
	if err != nil {
		return err
	}
	return h.linked(c, res)
}

// LinkWeChat handles POST /api/v1/me/logins/wechat.
func (h *Logins) LinkWeChat(c *fiber.Ctx) error {
	code, err := h.code(c)
	if err != nil {
		return err
	}
	res, err := h.Svc.LinkWeChat(c.UserContext(), PrincipalFrom(c), code)
	if err != nil {
		return err
	}
	return h.linked(c, res)
}

type linkSMSRequest struct {
	Phone string `json:"phone"`
	Code  string `json:"code"`
}

// LinkSMS handles POST /api/v1/me/logins/sms.
func (h *Logins) LinkSMS(c *fiber.Ctx) error {
	var req linkSMSRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	res, err := h.Svc.LinkSMS(c.UserContext(), PrincipalFrom(c), req.Phone, req.Code)
	if err != nil {
		return err
	}
	return h.linked(c, res)
}

// Unlink handles DELETE /api/v1/me/logins/:id.
func (h *Logins) Unlink(c *fiber.Ctx) error {
	p := PrincipalFrom(c)
	u, err := h.Svc.Unlink(c.UserContext(), p, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"logins": loginViews(u, h.Svc.SessionLogin(c.UserContext(), p))})
}
