package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
)

// contentSecurityPolicy allows the console's own files and nothing else:
// no inline script or style (the pages have none), no other origin, no
// framing, forms post only back to zwfw.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// securityHeaders is on every console response, error pages included.
func securityHeaders(c *fiber.Ctx) error {
	c.Set("Content-Security-Policy", contentSecurityPolicy)
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	// Page addresses carry case ids: no other site learns them.
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Permissions-Policy", "geolocation=(), microphone=(), payment=()")
	// Pages show personal data: never kept by the browser or a proxy (static files override this).
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// Cookie names. The session cookie is scoped to /console: the API never sees it.
const (
	sessionCookie = "zwfw_console"
	// loginCookie carries the login form's anti-forgery secret before there is a session.
	loginCookie = "zwfw_console_login"
	cookiePath  = "/console"
)

// Errors the console itself raises.
var (
	ErrCSRF = apperr.New(apperr.KindForbidden, "CONSOLE_CSRF_INVALID",
		"安全校验未通过：表单已过期或并非从本系统页面提交。请返回、刷新页面后重试")
	ErrPageForbidden = apperr.New(apperr.KindForbidden, "CONSOLE_PAGE_FORBIDDEN", "您的角色无权打开该页面")
	ErrPageNotFound  = apperr.New(apperr.KindNotFound, "CONSOLE_PAGE_NOT_FOUND", "页面不存在")
)

// secure reports whether the request reached zwfw over TLS, directly or
// through a trusted proxy that says so: the cookie is then Secure.
func (c *Console) secure(ctx *fiber.Ctx) bool {
	if ctx.Context().IsTLS() {
		return true
	}
	return c.opt.TrustForwardedProto && ctx.Protocol() == "https"
}

func (c *Console) setCookie(ctx *fiber.Ctx, name, value string) {
	ctx.Cookie(&fiber.Cookie{Name: name, Value: value, Path: cookiePath, HTTPOnly: true,
		SameSite: fiber.CookieSameSiteStrictMode, Secure: c.secure(ctx), SessionOnly: true})
}

func (c *Console) clearCookie(ctx *fiber.Ctx, name string) {
	ctx.Cookie(&fiber.Cookie{Name: name, Value: "", Path: cookiePath, HTTPOnly: true,
		SameSite: fiber.CookieSameSiteStrictMode, Secure: c.secure(ctx), Expires: time.Unix(0, 0)})
}

// csrfField is the name of the hidden field every form carries.
const csrfField = "_csrf"

// checkCSRF refuses an unsafe request whose form does not carry the
// session's token (a synchronizer token: stored with the session, compared
// in constant time), or that the browser says came from another site.
func checkCSRF(ctx *fiber.Ctx, want string) error {
	if ctx.Get("Sec-Fetch-Site") == "cross-site" {
		return ErrCSRF
	}
	got := ctx.FormValue(csrfField)
	if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return ErrCSRF
	}
	return nil
}

// loginToken is the login form's token: an HMAC of the login cookie's
// random value under the console secret, so a page on another site can
// neither read nor forge it, and any replica can check it.
func (c *Console) loginToken(cookie string) string {
	m := hmac.New(sha256.New, c.opt.Secret)
	m.Write([]byte("zwfw-console-login:"))
	m.Write([]byte(cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkLoginCSRF refuses a login post without the login cookie and the
// matching form token.
func (c *Console) checkLoginCSRF(ctx *fiber.Ctx) error {
	cookie := ctx.Cookies(loginCookie)
	if cookie == "" || len(cookie) > 128 {
		return ErrCSRF
	}
	return checkCSRF(ctx, c.loginToken(cookie))
}
