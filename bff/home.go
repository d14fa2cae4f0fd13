package bff

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/casefile"
	"zwfw/handlers"
	"zwfw/home"
	"zwfw/identity"
	"zwfw/links"
	"zwfw/platform/events"
)

// newLinks builds the deep-link maker from the configuration.
func newLinks(cfg Config) (*links.Maker, error) {
	return links.New(h5Base(cfg), cfg.AppScheme)
}

// h5Base is where the H5 pages are: ZWFW_H5_BASE_URL, else the first CORS
// origin (the H5 pages are what CORS lets in).
func h5Base(cfg Config) string {
	if cfg.H5BaseURL != "" {
		return cfg.H5BaseURL
	}
	if origins := splitList(cfg.CORSOrigins); len(origins) > 0 {
		return origins[0]
	}
	return "http://localhost:5173"
}

// buildViews wires the composed views: a case's file (the owner's case
// view and the hotline's) and the home screen.
func (a *App) buildViews() {
	a.files = casefile.New(casefile.Deps{
		Cases: a.cases, Bookings: a.booking, Payments: a.payments, Shipments: a.logistics, Reminders: a.notify,
		Calendar: a.calendar.Times(), Index: casefile.NewMongoIndexStore(a.db),
	})
	var rules home.Rules
	if a.cfg.HomeBudget > 0 {
		rules.Budgets = map[home.Source]time.Duration{}
		for src := range home.DefaultBudgets {
			rules.Budgets[src] = a.cfg.HomeBudget
		}
	}
	a.home = home.New(home.Deps{
		Rules: rules,
		Index: home.NewMongoIndexStore(a.db),
		Cases: a.cases, Bookings: a.booking, Payments: a.payments, Shipments: a.logistics, Messages: a.notify,
		Licenses: heldLicenses{a.identity}, Catalog: a.catalog, Names: displayNames{a}, Calendar: a.calendar.Times(),
	})
}

// consumerHomeIndex keeps the home screens' indexes from the domains' events.
const consumerHomeIndex = "home.index"

// runHomeIndex consumes the event log for the home index until ctx ends;
// every replica runs it, a lease lets one consume at a time.
func (a *App) runHomeIndex(ctx context.Context) {
	c := events.NewConsumer(a.db, consumerHomeIndex, a.home.HandleEvent, events.ConsumerOptions{
		Types: home.IndexedEvents(), Logger: a.log.With("component", "home-index"),
	})
	if err := c.Run(ctx); err != nil && ctx.Err() == nil {
		a.log.Error("home index consumer stopped", "err", err)
	}
}

// heldLicenses adapts identity (the province's e-licences of the person and
// their companies) to home.Licenses.
type heldLicenses struct{ svc *identity.Service }

func (h heldLicenses) Held(ctx context.Context, userID string) ([]home.License, error) {
	held, err := h.svc.Licenses(ctx, &identity.Principal{UserID: userID})
	if errors.Is(err, identity.ErrRealNameRequired) {
		return nil, nil // no verified identity: no licences to show
	}
	if err != nil {
		return nil, err
	}
	out := make([]home.License, 0, len(held))
	for _, l := range held {
		hl := home.License{ID: l.ID, Type: l.Type, Name: l.Name, HolderType: l.HolderType, Status: l.Status}
		if l.ExpiresOn != "" {
			if d, err := time.ParseInLocation(time.DateOnly, l.ExpiresOn, handlers.Shanghai); err == nil {
				hl.ExpiresOn = d
			}
		}
		out = append(out, hl)
	}
	return out, nil
}

// displayNames adapts the catalog (cached) and the halls' booking
// configuration to home.Names.
type displayNames struct{ a *App }

func (n displayNames) ItemName(ctx context.Context, code string) string {
	g, err := n.a.catalog.Guide(ctx, code)
	if err != nil {
		return ""
	}
	return g.Guide.Name
}

func (n displayNames) HallName(ctx context.Context, id string) string {
	h, err := n.a.booking.HallConfig(ctx, id)
	if err != nil {
		return ""
	}
	return h.Name
}

// clientDetection refuses a request naming an unknown client (X-Client),
// and lets handlers tell a signed-in caller's client from its sign-in when
// the request names none.
func (a *App) clientDetection() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if v := c.Get(handlers.HeaderClient); v != "" {
			if _, ok := links.ParseClient(v); !ok {
				return apperr.InvalidInput.WithFields(apperr.Field(handlers.HeaderClient, "CLIENT_INVALID", "X-Client 应为 miniprogram、app 或 h5"))
			}
		}
		c.Locals(handlers.LocalClientOf, a.clientOfSignIn)
		return c.Next()
	}
}

// clientOfSignIn is the client a caller's sign-in implies: the
// mini-program signs in by WeChat, the app by an SMS code; staff work in
// the web console (H5), and so does anyone it cannot tell. The session
// names the login it was opened with (a person may hold both kinds).
func (a *App) clientOfSignIn(c *fiber.Ctx) links.Client {
	p := handlers.PrincipalFrom(c)
	if p == nil || p.Kind != identity.KindPublic {
		return links.H5
	}
	u, err := a.identity.Me(c.UserContext(), p)
	if err != nil {
		return links.H5
	}
	kind := identity.LoginKind("")
	if l, ok := u.LoginByID(a.identity.SessionLogin(c.UserContext(), p)); ok {
		kind = l.Kind
	} else if len(u.Logins) == 1 { // a session opened before sessions named their login
		kind = u.Logins[0].Kind
	}
	switch kind {
	case identity.LoginWeChat:
		return links.MiniProgram
	case identity.LoginPhone:
		return links.App
	}
	return links.H5
}
