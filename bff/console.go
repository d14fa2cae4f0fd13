package bff

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"

	"zwfw/catalog"
	"zwfw/console"
	"zwfw/identity"
)

// buildConsole wires the staff console: its session store and the services
// its pages call (the same ones the API's routes call).
func (a *App) buildConsole(ctx context.Context, sec secrets) error {
	if err := a.buildRectify(ctx); err != nil {
		return err
	}
	a.buildSupervision()
	sessions := console.NewSessionStore(a.db)
	if err := sessions.EnsureIndexes(ctx); err != nil {
		return err
	}
	a.consoleSessions = sessions
	// The login form's token key, derived from the signing key every
	// replica shares (so a form served by one replica posts to any).
	m := hmac.New(sha256.New, sec.JWT)
	m.Write([]byte("zwfw console login form"))
	now := a.cfg.BookingClock
	c, err := console.New(console.Deps{
		Sessions: sessions, Staff: a.identity, Bookings: a.booking, Cases: a.cases, Files: a.files,
		Days:    console.NewRedisDayCache(a.rdb, a.keys, console.DayCacheTTL, a.log.With("component", "console-days")),
		Catalog: catalogNames{a.catalog}, Calendar: a.calendar.Times(), Audit: a.audit, Supervision: a.sv.svc,
		Payments: a.payments, Idempotency: a.idem, Reminders: a.notify, Directory: a.identity,
		HallAdmin: a.booking, Halls: catalogNames{a.catalog}, Holidays: a.calendar,
		Rectify: a.rectify,
	}, console.Options{
		IdleTimeout: a.cfg.ConsoleIdleTimeout, Secret: m.Sum(nil),
		TrustForwardedProto: len(splitList(a.cfg.TrustedProxies)) > 0,
		Now:                 now, Logger: a.log.With("component", "console"),
	})
	if err != nil {
		return err
	}
	a.console = c
	return nil
}

// catalogNames adapts the catalog (cached guides) to console.Catalog.
type catalogNames struct{ cat *catalog.Service }

func (n catalogNames) ItemName(ctx context.Context, code string) (string, error) {
	g, err := n.cat.Guide(ctx, code)
	if err != nil {
		return "", err
	}
	return g.Guide.Name, nil
}

func (n catalogNames) FieldLabels(ctx context.Context, code string) (map[string]string, error) {
	g, err := n.cat.Guide(ctx, code)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(g.Guide.FormFields))
	for _, f := range g.Guide.FormFields {
		out[f.Name] = f.Label
	}
	return out, nil
}

// Halls lists the catalog's halls for the console's hall configuration.
func (n catalogNames) Halls(ctx context.Context) ([]console.HallInfo, error) {
	list, err := n.cat.Halls(ctx, "", "")
	if err != nil {
		return nil, err
	}
	out := make([]console.HallInfo, len(list))
	for i, h := range list {
		out[i] = console.HallInfo{ID: h.ID, Name: h.Name, Address: h.Address, Phone: h.Phone, Hours: h.Hours, Lat: h.Lat, Lng: h.Lng}
	}
	return out, nil
}

// consoleLanding is the console page a demo account (roles "a,b") starts on.
func consoleLanding(roles string) string {
	var rs []identity.Role
	for _, r := range splitList(roles) {
		rs = append(rs, identity.Role(r))
	}
	return console.Landing(rs)
}
