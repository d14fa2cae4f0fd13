package console

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/identity"
	"zwfw/platform/workdays"
)

// state is the signed-in staff member of one request.
type state struct {
	sess *Session
	user *identity.User
	page Page
}

const localState = "console_state"

func stateOf(ctx *fiber.Ctx) *state {
	st, _ := ctx.Locals(localState).(*state)
	return st
}

// touchEvery is how often use moves a session's idle deadline: a write at
// most every minute (or a tenth of the timeout), not on every page.
func (c *Console) touchEvery() time.Duration {
	return min(c.opt.IdleTimeout/10, time.Minute)
}

// session loads the request's session and the account behind it. It
// returns nil (and clears the cookie) when there is no usable session;
// expired says one was there but timed out.
func (c *Console) session(ctx *fiber.Ctx) (st *state, expired bool, err error) {
	token := ctx.Cookies(sessionCookie)
	if token == "" {
		return nil, false, nil
	}
	rctx := ctx.UserContext()
	sess, err := c.d.Sessions.ByToken(rctx, token)
	if err != nil {
		return nil, false, err
	}
	now := c.now()
	if sess == nil || !sess.live(now) {
		if sess != nil {
			if err := c.end(rctx, sess); err != nil {
				return nil, false, err
			}
		}
		c.clearCookie(ctx, sessionCookie)
		return nil, sess != nil, nil
	}
	// The account is read on every page (cached by identity), so a role
	// taken away or a hall reassigned counts at once.
	u, err := c.d.Staff.Person(rctx, sess.UserID)
	if errors.Is(err, identity.ErrUserNotFound) || (err == nil && u.Kind != identity.KindStaff) {
		if err := c.d.Sessions.Delete(rctx, sess.ID); err != nil {
			return nil, false, err
		}
		c.clearCookie(ctx, sessionCookie)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if now.Sub(sess.SeenAt) >= c.touchEvery() {
		if err := c.d.Sessions.Touch(rctx, sess.ID, now, now.Add(c.opt.IdleTimeout)); err != nil {
			return nil, false, err
		}
	}
	return &state{sess: sess, user: u}, false, nil
}

// guard is in front of every route of page p: a signed-in session (else
// the login page), a role that opens p (else 403), and on every form post
// the session's CSRF token (else 403).
func (c *Console) guard(p Page) fiber.Handler {
	return func(ctx *fiber.Ctx) error {
		st, expired, err := c.session(ctx)
		if err != nil {
			return err
		}
		if st == nil {
			return c.toLogin(ctx, expired)
		}
		st.page = p
		ctx.Locals(localState, st)
		if m := ctx.Method(); m != fiber.MethodGet && m != fiber.MethodHead {
			if err := checkCSRF(ctx, st.sess.CSRF); err != nil {
				c.opt.Logger.Warn("console form post refused: CSRF token missing or wrong",
					"username", st.sess.Username, "path", ctx.Path(), "ip", ctx.IP())
				return err
			}
		}
		if !p.opens(st.user.Roles) {
			return ErrPageForbidden
		}
		return ctx.Next()
	}
}

func (c *Console) toLogin(ctx *fiber.Ctx, expired bool) error {
	q := url.Values{}
	if ctx.Method() == fiber.MethodGet {
		q.Set("next", ctx.OriginalURL())
	}
	if expired {
		q.Set("expired", "1")
	}
	return ctx.Redirect("/console/login?"+q.Encode(), fiber.StatusSeeOther)
}

// decorate fills what the layout shows of the signed-in account.
func (c *Console) decorate(st *state, d *pageData) {
	if d.Title == "" {
		d.Title = st.page.Title
	}
	name := st.user.DisplayName
	if name == "" {
		name = st.user.Username
	}
	d.Nav = navFor(st.user.Roles, st.page)
	d.Account = &accountView{Name: name, Username: st.user.Username, Roles: rolesLabel(st.user.Roles),
		IdleMinutes: int(c.opt.IdleTimeout / time.Minute)}
	d.CSRF = st.sess.CSRF
}

// page renders a signed-in page.
func (c *Console) page(ctx *fiber.Ctx, status int, name string, d *pageData) error {
	c.decorate(stateOf(ctx), d)
	return c.render(ctx, status, name, d)
}

// safeNext keeps a post-login destination inside the console.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/console") ||
		strings.HasPrefix(next, "//") || strings.Contains(next, "\\") || strings.HasPrefix(u.Path, "/console/login") {
		return "/console/"
	}
	return u.RequestURI()
}

type loginBody struct {
	Username, Next string
}

// loginPage handles GET /console/login.
func (c *Console) loginPage(ctx *fiber.Ctx) error {
	if st, _, err := c.session(ctx); err != nil {
		return err
	} else if st != nil {
		return ctx.Redirect(safeNext(ctx.Query("next")), fiber.StatusSeeOther)
	}
	d := &pageData{Title: "工作人员登录", Body: loginBody{Next: safeNext(ctx.Query("next"))}}
	switch {
	case ctx.Query("expired") != "":
		d.Problem = fmt.Sprintf("长时间未操作（超过 %d 分钟），登录已失效，请重新登录", int(c.opt.IdleTimeout/time.Minute))
	case ctx.Query("bye") != "":
		d.Notice = "您已安全退出"
	}
	return c.renderLogin(ctx, fiber.StatusOK, d)
}

// renderLogin renders the login form with a fresh anti-forgery pair.
func (c *Console) renderLogin(ctx *fiber.Ctx, status int, d *pageData) error {
	secret := newToken()
	c.setCookie(ctx, loginCookie, secret)
	d.CSRF = c.loginToken(secret)
	return c.render(ctx, status, "login.html", d)
}

// login handles POST /console/login: identity's staff login (the API's
// passwords and lockout), then a console session.
func (c *Console) login(ctx *fiber.Ctx) error {
	if err := c.checkLoginCSRF(ctx); err != nil {
		return err
	}
	username := strings.TrimSpace(ctx.FormValue("username"))
	next := safeNext(ctx.FormValue("next"))
	rctx := ctx.UserContext()
	s, err := c.d.Staff.LoginStaff(rctx, username, ctx.FormValue("password"))
	if err != nil {
		e := apperr.From(err)
		if e.Kind != apperr.KindUnauthorized && e.Kind != apperr.KindTooMany {
			return err
		}
		d := &pageData{Title: "工作人员登录", Problem: e.Message, Body: loginBody{Username: username, Next: next}}
		if until, ok := e.Details["locked_until"].(string); ok {
			if t, perr := time.Parse(time.RFC3339, until); perr == nil {
				d.Problem += "（" + t.In(workdays.Location).Format("15:04") + " 后可再试）"
			}
		}
		return c.renderLogin(ctx, e.Kind.HTTPStatus(), d)
	}
	p, err := c.d.Staff.Authenticate(rctx, s.AccessToken)
	if err != nil {
		return err
	}
	now := c.now()
	roles := make([]string, len(s.User.Roles))
	for i, r := range s.User.Roles {
		roles[i] = string(r)
	}
	token, err := c.d.Sessions.Create(rctx, &Session{UserID: s.User.ID, Username: s.User.Username, DisplayName: s.User.DisplayName,
		Roles: strings.Join(roles, ","), FamilyID: p.SessionID, IP: ctx.IP(), UserAgent: truncate(ctx.Get(fiber.HeaderUserAgent), 200),
		CreatedAt: now, SeenAt: now, IdleUntil: now.Add(c.opt.IdleTimeout), ExpiresAt: now.Add(c.opt.MaxAge)})
	if err != nil {
		return err
	}
	c.setCookie(ctx, sessionCookie, token)
	c.clearCookie(ctx, loginCookie)
	c.opt.Logger.Info("console login", "username", s.User.Username, "ip", ctx.IP())
	return ctx.Redirect(next, fiber.StatusSeeOther)
}

// logout handles POST /console/logout: the session record goes, and the
// identity session family of its login is revoked.
func (c *Console) logout(ctx *fiber.Ctx) error {
	st := stateOf(ctx)
	if err := c.end(ctx.UserContext(), st.sess); err != nil {
		return err
	}
	c.clearCookie(ctx, sessionCookie)
	return ctx.Redirect("/console/login?bye=1", fiber.StatusSeeOther)
}

// end ends a session: its record, then the identity session family of its
// login. (A session that times out and is never presented again is purged
// by the housekeeping job; its family's refresh token never left zwfw and
// expires in identity.)
func (c *Console) end(ctx context.Context, sess *Session) error {
	if err := c.d.Sessions.Delete(ctx, sess.ID); err != nil {
		return err
	}
	return c.d.Staff.Logout(ctx, &identity.Principal{UserID: sess.UserID, SessionID: sess.FamilyID})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
