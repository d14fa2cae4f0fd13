// Package console is the staff console in the browser: the pages 12345
// hotline operators, hall clerks and admins work in, served by zwfw itself
// under /console/. It is an HTTP adapter like package handlers — it turns
// form posts into calls of the domain services and their answers into
// server-rendered HTML (html/template, embedded files, no build step) — and
// owns only what a browser needs on top of the API: its own cookie session
// (server-side records, idle timeout), a CSRF token on every form, strict
// security headers, and pages that open by role.
//
// Adding a page: declare it in pages (pages.go) with the roles that may open
// it, write its template in templates/ (it defines "content"), and route
// its handlers in routes (routes.go) with r.get / r.post. The session, the
// role check, the CSRF check, the navigation and the error pages come with
// the route; a page that shows personal data writes the audit log itself.
package console

import (
	"context"
	"log/slog"
	"time"

	"zwfw/booking"
	"zwfw/cases"
	"zwfw/identity"
	"zwfw/platform/workdays"
)

// Staff is identity's staff login, used exactly as the API uses it
// (implemented by *identity.Service): the same argon2id passwords and the
// same lockout after wrong passwords.
type Staff interface {
	// LoginStaff returns AUTH_STAFF_INVALID_CREDENTIALS or AUTH_STAFF_LOCKED.
	LoginStaff(ctx context.Context, username, password string) (*identity.Session, error)
	// Authenticate reads the access token a login returned.
	Authenticate(ctx context.Context, accessToken string) (*identity.Principal, error)
	// Logout revokes the identity session family a login opened.
	Logout(ctx context.Context, p *identity.Principal) error
	// Person reads the account (cached), so roles and halls are current on every page.
	Person(ctx context.Context, userID string) (*identity.User, error)
}

// Bookings is what the hall page needs of booking (implemented by *booking.Service).
type Bookings interface {
	HallDay(ctx context.Context, hallID string, day workdays.Date) ([]*booking.Booking, error)
	CheckIn(ctx context.Context, staffHallIDs []string, code string) (*booking.Booking, error)
	HallConfig(ctx context.Context, hallID string) (*booking.HallConfig, error)
}

// Cases is what the hotline pages need of cases (implemented by *cases.Service).
type Cases interface {
	HotlineLookup(ctx context.Context, audit cases.AuditLog, op cases.Operator, ticket string, q cases.HotlineQuery) ([]*cases.Case, error)
	HotlineCase(ctx context.Context, audit cases.AuditLog, op cases.Operator, ticket, caseID string) (*cases.Case, error)
	Reveal(ctx context.Context, audit cases.AuditLog, op cases.Operator, ticket, caseID, field, reason string) (string, error)
}

// Catalog names service items and their form fields by code (the
// province's catalog, cached there).
type Catalog interface {
	ItemName(ctx context.Context, code string) (string, error)
	// FieldLabels maps the item's form field names to their labels.
	FieldLabels(ctx context.Context, code string) (map[string]string, error)
}

// Deps are the services the console calls; all but Days are required.
type Deps struct {
	Sessions *SessionStore
	Staff    Staff
	Bookings Bookings
	Cases    Cases
	Files    CaseFiles
	Catalog  Catalog
	// Days caches the hall screen's day (optional: nil reads the store every time).
	Days DayCache
	// Calendar counts a case's working days left on the hotline's list.
	Calendar cases.Calendar
	// Audit is the audit log every look-up, opened case and revealed field
	// is written to (the API's hotline look-ups write the same log).
	Audit cases.AuditLog
	// Rectify is the 好差评 pages' counts and rectifications (rectify.go).
	Rectify Rectifications
	// Supervision is the supervision pages' board (supervision.go).
	Supervision Supervision
	// The money, reminders, audit and admin pages (money.go, reminders.go,
	// audit.go, admin.go).
	Payments    Payments
	Idempotency Idempotency
	Reminders   Reminders
	Directory   StaffDirectory
	HallAdmin   HallAdmin
	Halls       HallDirectory
	Holidays    Holidays
}

// Options are the console's settings.
type Options struct {
	// IdleTimeout ends a session unused this long (ZWFW_CONSOLE_IDLE_TIMEOUT).
	IdleTimeout time.Duration
	// MaxAge ends a session this long after its login whatever its use (a shift).
	MaxAge time.Duration
	// Secret keys the login form's CSRF token (before there is a session);
	// every replica must share it.
	Secret []byte
	// TrustForwardedProto believes X-Forwarded-Proto (zwfw is behind
	// configured trusted proxies) when deciding whether the cookie is Secure.
	TrustForwardedProto bool
	// Now is the clock of "today" on the hall page and of session expiry
	// (time.Now when nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// DefaultMaxAge is a session's longest life: a working day's shift.
const DefaultMaxAge = 12 * time.Hour

// Console serves the staff console.
type Console struct {
	d     Deps
	opt   Options
	views *views
	// bills keeps the money page's reports and anomalies briefly (money.go).
	bills *moneyCache
	items *nameCache
	frags fragments // the supervision pages' rendered tables
}

// New builds the console; the templates are parsed here, so a broken
// template fails at start-up, not on a clerk's screen.
func New(d Deps, opt Options) (*Console, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = 30 * time.Minute
	}
	if opt.MaxAge <= 0 {
		opt.MaxAge = DefaultMaxAge
	}
	v, err := loadViews()
	if err != nil {
		return nil, err
	}
	return &Console{d: d, opt: opt, views: v, items: newNameCache(d.Catalog, 10*time.Minute), bills: newMoneyCache(moneyCacheTTL)}, nil
}

func (c *Console) now() time.Time { return c.opt.Now().UTC().Truncate(time.Millisecond) }
