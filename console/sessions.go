package console

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"zwfw/identity"
)

// sessionsLimit bounds the admins' list of live sessions.
const sessionsLimit = 200

type sessionsBody struct {
	Sessions []sessionRow
}

type sessionRow struct {
	Ref, Username, Name, Roles, IP string
	CreatedAt, SeenAt, IdleUntil   string
	Mine                           bool
}

// sessions handles GET /console/admin/sessions: who is signed in to the
// console now (admins).
func (c *Console) sessions(ctx *fiber.Ctx) error {
	list, err := c.d.Sessions.Live(ctx.UserContext(), c.now(), sessionsLimit)
	if err != nil {
		return err
	}
	return c.page(ctx, fiber.StatusOK, "sessions.html", c.sessionsPage(ctx, list, ""))
}

func (c *Console) sessionsPage(ctx *fiber.Ctx, list []Session, notice string) *pageData {
	st := stateOf(ctx)
	body := sessionsBody{}
	for _, s := range list {
		var roles []string
		for _, r := range strings.Split(s.Roles, ",") {
			if r != "" {
				roles = append(roles, roleLabel(identity.Role(r)))
			}
		}
		body.Sessions = append(body.Sessions, sessionRow{Ref: s.Ref, Username: s.Username, Name: s.DisplayName,
			Roles: strings.Join(roles, "、"), IP: s.IP, CreatedAt: formatDateTime(s.CreatedAt), SeenAt: formatDateTime(s.SeenAt),
			IdleUntil: formatDateTime(s.IdleUntil), Mine: s.ID == st.sess.ID})
	}
	return &pageData{Body: body, Notice: notice}
}

// endSession handles POST /console/admin/sessions/:ref/end: an admin signs
// a staff member out of the console (and out of the identity session of
// that login).
func (c *Console) endSession(ctx *fiber.Ctx) error {
	rctx := ctx.UserContext()
	gone, err := c.d.Sessions.DeleteByRef(rctx, ctx.Params("ref"))
	if err != nil {
		return err
	}
	notice := "该会话已结束"
	if gone != nil {
		if err := c.d.Staff.Logout(rctx, &identity.Principal{UserID: gone.UserID, SessionID: gone.FamilyID}); err != nil {
			return err
		}
		notice = "已强制 " + gone.Username + " 下线"
		c.opt.Logger.Info("console session ended by an admin", "admin", stateOf(ctx).sess.Username, "username", gone.Username)
	}
	list, err := c.d.Sessions.Live(rctx, c.now(), sessionsLimit)
	if err != nil {
		return err
	}
	return c.page(ctx, fiber.StatusOK, "sessions.html", c.sessionsPage(ctx, list, notice))
}
