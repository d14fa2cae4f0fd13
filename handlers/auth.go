package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/identity"
)

// Auth serves login, token refresh, logout and the caller's profile.
type Auth struct {
	Svc       *identity.Service
	BodyLimit int
}

// UserView is a user as the phone sees it: personal data masked.
type UserView struct {
	ID               string        `json:"id"`
	Kind             string        `json:"kind"`
	Roles            []string      `json:"roles"`
	DisplayName      string        `json:"display_name,omitempty"`
	Phone            string        `json:"phone,omitempty"`
	Username         string        `json:"username,omitempty"`
	WeChatBound      bool          `json:"wechat_bound"`
	RealNameVerified bool          `json:"real_name_verified"`
	RealName         string        `json:"real_name,omitempty"` // masked
	IDNumber         string        `json:"id_number,omitempty"` // masked
	Companies        []CompanyView `json:"companies,omitempty"`
	CreatedAt        time.Time     `json:"created_at"`
}

// CompanyView is a company the user acts for.
type CompanyView struct {
	USCC string `json:"uscc"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// NewUserView shapes a user for a response.
func NewUserView(u *identity.User) UserView {
	roles := make([]string, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = string(r)
	}
	var companies []CompanyView
	for _, c := range u.Companies {
		companies = append(companies, CompanyView{USCC: c.USCC, Name: c.Name, Role: c.Role})
	}
	return UserView{
		ID: u.ID, Kind: string(u.Kind), Roles: roles, DisplayName: u.DisplayName,
		Phone: u.PhoneMasked, Username: u.Username, WeChatBound: u.WeChatOpenID != "",
		RealNameVerified: u.RealNameVerified, RealName: u.NameMasked, IDNumber: u.IDNumberMasked,
		Companies: companies, CreatedAt: u.CreatedAt.In(Shanghai),
	}
}

// SessionView is the body of a successful login or refresh.
type SessionView struct {
	AccessToken  string   `json:"access_token"`
	TokenType    string   `json:"token_type"`
	ExpiresIn    int      `json:"expires_in"`
	RefreshToken string   `json:"refresh_token"`
	User         UserView `json:"user"`
}

func sessionView(s *identity.Session) SessionView {
	return SessionView{AccessToken: s.AccessToken, TokenType: "Bearer", ExpiresIn: int(s.ExpiresIn.Seconds()),
		RefreshToken: s.RefreshToken, User: NewUserView(s.User)}
}

type wechatLoginRequest struct {
	Code string `json:"code"`
}

// WeChat handles POST /api/v1/auth/wechat.
func (h *Auth) WeChat(c *fiber.Ctx) error {
	var req wechatLoginRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	if req.Code == "" {
		return apperr.InvalidInput.WithFields(apperr.Field("code", "REQUIRED", "缺少微信登录凭证 code"))
	}
	s, err := h.Svc.LoginWeChat(c.UserContext(), req.Code)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusOK).JSON(sessionView(s))
}

type smsSendRequest struct {
	Phone string `json:"phone"`
}

// SMSSend handles POST /api/v1/auth/sms/send.
func (h *Auth) SMSSend(c *fiber.Ctx) error {
	var req smsSendRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	if err := h.Svc.SendLoginCode(c.UserContext(), req.Phone); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"sent": true, "expires_in": 300, "resend_after": 60})
}

type smsVerifyRequest struct {
	Phone string `json:"phone"`
	Code  string `json:"code"`
}

// SMSVerify handles POST /api/v1/auth/sms/verify.
func (h *Auth) SMSVerify(c *fiber.Ctx) error {
	var req smsVerifyRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	s, err := h.Svc.LoginSMS(c.UserContext(), req.Phone, req.Code)
	if err != nil {
		return err
	}
	return c.JSON(sessionView(s))
}

type staffLoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// Staff handles POST /api/v1/auth/staff.
func (h *Auth) Staff(c *fiber.Ctx) error {
	var req staffLoginRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	s, err := h.Svc.LoginStaff(c.UserContext(), req.Username, req.Password)
	if err != nil {
		return err
	}
	return c.JSON(sessionView(s))
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// Refresh handles POST /api/v1/auth/refresh.
func (h *Auth) Refresh(c *fiber.Ctx) error {
	var req refreshRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	s, err := h.Svc.Refresh(c.UserContext(), req.RefreshToken)
	if err != nil {
		return err
	}
	return c.JSON(sessionView(s))
}

// Logout handles POST /api/v1/auth/logout.
func (h *Auth) Logout(c *fiber.Ctx) error {
	if err := h.Svc.Logout(c.UserContext(), PrincipalFrom(c)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// Me handles GET /api/v1/me.
func (h *Auth) Me(c *fiber.Ctx) error {
	u, err := h.Svc.Me(c.UserContext(), PrincipalFrom(c))
	if err != nil {
		return err
	}
	return c.JSON(NewUserView(u))
}
