package handlers

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/identity"
)

// Me serves the caller's real-name verification, companies and e-licences.
type Me struct {
	Svc       *identity.Service
	BodyLimit int
	// Observe is told of the licences a user just read (their renewal
	// reminders are kept in step with them); nil for none.
	Observe func(ctx context.Context, userID string, held []identity.HeldLicense)
}

type realNameRequest struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
}

// RealName handles POST /api/v1/me/realname.
func (h *Me) RealName(c *fiber.Ctx) error {
	var req realNameRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	u, err := h.Svc.VerifyRealName(c.UserContext(), PrincipalFrom(c), req.Name, req.IDNumber)
	if err != nil {
		return err
	}
	return c.JSON(NewUserView(u))
}

type bindCompanyRequest struct {
	USCC string `json:"uscc"`
}

// BindCompany handles POST /api/v1/me/companies.
func (h *Me) BindCompany(c *fiber.Ctx) error {
	var req bindCompanyRequest
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	u, err := h.Svc.BindCompany(c.UserContext(), PrincipalFrom(c), req.USCC)
	if err != nil {
		return err
	}
	return c.JSON(NewUserView(u))
}

// LicenseView is an e-licence as the phone shows it (numbers masked).
type LicenseView struct {
	ID               string     `json:"id"`
	Type             string     `json:"type"`
	Name             string     `json:"name"`
	HolderType       string     `json:"holder_type,omitempty"`
	NumberMasked     string     `json:"number_masked"`
	HolderNameMasked string     `json:"holder_name_masked"`
	Issuer           string     `json:"issuer"`
	IssuedOn         string     `json:"issued_on"`
	ExpiresOn        string     `json:"expires_on,omitempty"`
	Status           string     `json:"status"`
	VerifyCode       string     `json:"verify_code,omitempty"`
	VerifyExpiresAt  *time.Time `json:"verify_code_expires_at,omitempty"`
}

func licenseView(l identity.HeldLicense) LicenseView {
	return LicenseView{ID: l.ID, Type: l.Type, Name: l.Name, HolderType: l.HolderType, NumberMasked: l.NumberMasked,
		HolderNameMasked: l.HolderNameMasked, Issuer: l.Issuer, IssuedOn: l.IssuedOn, ExpiresOn: l.ExpiresOn, Status: l.Status}
}

// Licenses handles GET /api/v1/me/licenses.
func (h *Me) Licenses(c *fiber.Ctx) error {
	p := PrincipalFrom(c)
	ls, err := h.Svc.Licenses(c.UserContext(), p)
	if err != nil {
		return err
	}
	if h.Observe != nil {
		h.Observe(c.UserContext(), p.UserID, ls)
	}
	out := make([]LicenseView, 0, len(ls))
	for _, l := range ls {
		out = append(out, licenseView(l))
	}
	return c.JSON(fiber.Map{"licenses": out})
}

// License handles GET /api/v1/me/licenses/:id: the licence with a fresh
// verification code for a clerk (亮证).
func (h *Me) License(c *fiber.Ctx) error {
	l, err := h.Svc.License(c.UserContext(), PrincipalFrom(c), c.Params("id"))
	if err != nil {
		return err
	}
	v := licenseView(l.HeldLicense)
	v.VerifyCode = l.VerifyCode
	exp := l.ExpiresAt.In(Shanghai)
	v.VerifyExpiresAt = &exp
	return c.JSON(v)
}

// CheckLicense handles GET /api/v1/staff/licenses/verify?code=: a clerk
// checks the code on a citizen's phone.
func (h *Me) CheckLicense(c *fiber.Ctx) error {
	res, err := h.Svc.CheckLicenseCode(c.UserContext(), c.Query("code"))
	if err != nil {
		return err
	}
	out := fiber.Map{"valid": res.Valid}
	if res.Valid {
		out["license"] = licenseView(identity.HeldLicense{License: res.License})
	}
	return c.JSON(out)
}
