package console

import (
	"fmt"
	"runtime/debug"

	"github.com/gofiber/fiber/v2"
)

// Mount serves the console under /console on app. loginLimit guards the
// login post (the API's per-IP login budget; the account lockout is
// identity's, the same as the API's).
func (c *Console) Mount(app fiber.Router, loginLimit fiber.Handler) {
	g := app.Group("/console", c.recover, c.catch, securityHeaders)
	g.Get("/static/:name", c.serveStatic)
	g.Get("/login", c.loginPage)
	g.Post("/login", loginLimit, c.login)

	// The route table: each route names its page, which decides who may open it.
	r := router{c: c, g: g}
	r.get(pageHome, "/", c.home)
	r.post(pageHome, "/logout", c.logout)
	r.get(pageHall, "/hall", c.hall)
	r.post(pageHall, "/hall/checkin", c.checkIn)
	r.get(pageHotline, "/hotline", c.hotlineForm)
	r.post(pageHotline, "/hotline/search", c.hotlineSearch)
	r.get(pageHotlineCase, "/hotline/cases/:id", c.hotlineCase)
	r.post(pageHotlineCase, "/hotline/cases/:id/reveal", c.hotlineReveal)
	r.get(pageSessions, "/admin/sessions", c.sessions)
	r.post(pageSessions, "/admin/sessions/:ref/end", c.endSession)
	r.get(pageEvaluations, "/evaluations", c.evaluations)
	r.get(pageRectification, "/rectifications/:id", c.rectification)
	r.post(pageRectification, "/rectifications/:id/assign", c.rectifyPost("assign", c.rectifyAssign))
	r.post(pageRectification, "/rectifications/:id/reply", c.rectifyPost("reply", c.rectifyReply))
	r.post(pageRectification, "/rectifications/:id/callback", c.rectifyPost("callback", c.rectifyCallBack))
	r.post(pageRectification, "/rectifications/:id/close", c.rectifyPost("close", c.rectifyClose))
	r.get(pageSupervision, "/supervision", c.supervisionBoard)
	r.get(pageSupervision, "/supervision/cases", c.supervisionCases)
	r.get(pageSupervisionCase, "/supervision/cases/:id", c.supervisionCase)
	r.get(pageMoney, "/money", c.money)
	r.post(pageMoneyRun, "/money/reconcile", c.reconcile)
	r.get(pageMoneyPayment, "/money/payments/:id", c.payment)
	r.post(pageMoneyRefund, "/money/payments/:id/refund", c.refund)
	r.get(pageReminders, "/reminders", c.reminders)
	r.get(pageAudit, "/audit", c.auditLog)
	r.get(pageAdminHalls, "/admin/halls", c.adminHalls)
	r.post(pageAdminHalls, "/admin/halls/:id", c.saveHall)
	r.post(pageAdminHalls, "/admin/halls/:id/closures", c.addClosure)
	r.get(pageAdminCalendar, "/admin/calendar", c.adminCalendar)
	r.post(pageAdminCalendar, "/admin/calendar/overrides", c.putOverride)
	r.post(pageAdminCalendar, "/admin/calendar/overrides/:date/delete", c.deleteOverride)
}

// router registers a page's routes behind its guard.
type router struct {
	c *Console
	g fiber.Router
}

// get routes a page view: signed in, a role that opens p.
func (r router) get(p Page, path string, h fiber.Handler) { r.g.Get(path, r.c.guard(p), h) }

// post routes a form post: signed in, a role that opens p, the session's CSRF token.
func (r router) post(p Page, path string, h fiber.Handler) { r.g.Post(path, r.c.guard(p), h) }

// recover turns a panic in a console handler into the error page.
func (c *Console) recover(ctx *fiber.Ctx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			c.opt.Logger.Error("panic in console handler", "path", ctx.Path(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = c.showError(ctx, fmt.Errorf("panic: %v", v))
		}
	}()
	return ctx.Next()
}
