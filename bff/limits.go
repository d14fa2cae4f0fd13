package bff

import (
	"context"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"zwfw/apperr"
	"zwfw/handlers"
	"zwfw/identity"
	"zwfw/platform/ratelimit"
)

// limits counts an API request's rate limits in one round trip. The
// limits in a route's chain (per IP for all of /api/v1, per user, per
// route) only note what to count as the request passes them; the
// signed-in gate sends them with the per-user limit, the token's
// revocation check and the read of the caller's cached user in one
// pipeline, and every other route sends them just before its handler
// (validatedRouter places settle there). With the embedded Redis, the
// limiter counts in memory and the reads are answered from the miniredis's
// memory (redisx.DirectReads): no round trip at all.
type limits struct {
	limiter  *ratelimit.Limiter
	revoke   *identity.RedisRevocations
	identity *identity.Service
	perUser  ratelimit.Limit
	degraded func()
}

// pendingKey is the Locals key of a request's *pendingLimits.
const pendingKey = "zwfw.limits"

// pendingLimits are the checks noted and not yet counted.
type pendingLimits struct {
	checks []ratelimit.Check
	buf    [4]ratelimit.Check
	res    [5]ratelimit.Result
}

// results is room for the answers of the checks noted.
func (p *pendingLimits) results() []ratelimit.Result {
	if len(p.checks) <= len(p.res) {
		return p.res[:len(p.checks)]
	}
	return make([]ratelimit.Result, len(p.checks))
}

var pendingPool = sync.Pool{New: func() any {
	p := &pendingLimits{}
	p.checks = p.buf[:0]
	return p
}}

// entry is the API group's first handler: it notes the per-IP limit and,
// once the chain returned, counts whatever no handler counted (a request
// that matched no route), so that nothing escapes the budget.
func (l *limits) entry(perIP ratelimit.Limit) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if strings.HasPrefix(c.Path(), "/api/v1/callbacks/") {
			return c.Next()
		}
		p := pendingPool.Get().(*pendingLimits)
		p.checks = append(p.checks[:0], ratelimit.Check{Key: "api:ip:" + c.IP(), Limit: perIP})
		c.Locals(pendingKey, p)
		err := c.Next()
		if len(p.checks) > 0 {
			l.limiter.AllowAll(c.UserContext(), p.checks, p.results(), nil)
		}
		c.Locals(pendingKey, nil)
		p.checks = p.buf[:0]
		pendingPool.Put(p)
		return err
	}
}

func pendingOf(c *fiber.Ctx) *pendingLimits {
	p, _ := c.Locals(pendingKey).(*pendingLimits)
	return p
}

// limit notes one more limit of a route; key says what it counts.
func (l *limits) limit(limit ratelimit.Limit, key limitKey) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if p := pendingOf(c); p != nil {
			p.checks = append(p.checks, ratelimit.Check{Key: key(c), Limit: limit})
			return c.Next()
		}
		// Outside the API group: counted at once.
		var res [1]ratelimit.Result
		l.limiter.AllowAll(c.UserContext(), []ratelimit.Check{{Key: key(c), Limit: limit}}, res[:], nil)
		if err := l.verdict(c, res[:]); err != nil {
			return err
		}
		return c.Next()
	}
}

// settle counts the limits noted so far (validatedRouter puts it before
// each route's handler).
func (l *limits) settle(c *fiber.Ctx) error {
	p := pendingOf(c)
	if p == nil || len(p.checks) == 0 {
		return c.Next()
	}
	res := p.results()
	l.limiter.AllowAll(c.UserContext(), p.checks, res, nil)
	p.checks = p.checks[:0]
	if err := l.verdict(c, res); err != nil {
		return err
	}
	return c.Next()
}

// signedIn authenticates the bearer token and, when roles are given,
// checks that the caller holds one of them, counting the limits noted so
// far and the caller's own in the round trip that checks the token's
// revocation. A refusal by the limits noted before (per IP) comes first,
// then the token's, then the per-user limit's.
func (l *limits) signedIn(roles ...identity.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := pendingOf(c)
		if p == nil { // outside the API group
			p = &pendingLimits{}
			p.checks = p.buf[:0]
		}
		token, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		token = strings.TrimSpace(token)
		var principal *identity.Principal
		var authErr error
		switch {
		case !ok || token == "":
			authErr = identity.ErrTokenMissing
		default:
			principal, authErr = l.identity.VerifyToken(token)
		}
		before := len(p.checks)
		var check func() (bool, string, error)
		var ahead func(context.Context) context.Context
		var also func(redis.Pipeliner)
		if authErr == nil {
			p.checks = append(p.checks, ratelimit.Check{Key: "api:user:" + principal.UserID, Limit: l.perUser})
			also = func(pipe redis.Pipeliner) {
				check = l.revoke.CheckOn(c.UserContext(), pipe, principal.SessionID, principal.UserID)
				// The caller's cached user rides along, so a handler that
				// reads it (/me, /home, ...) makes no round trip of its own
				// (identity.UserCache.ReadAheadOn says why it is never
				// staler than the cache). A route that does not read it
				// pays one small GET in a round trip it makes anyway.
				ahead = l.identity.ReadUserAheadOn(c.UserContext(), pipe, principal.UserID)
			}
		}
		res := p.results()
		l.limiter.AllowAll(c.UserContext(), p.checks, res, also)
		p.checks = p.checks[:0]
		if err := l.verdict(c, res[:before]); err != nil {
			return err
		}
		if authErr != nil {
			return authErr
		}
		revoked, merged, err := check()
		if principal, err = l.identity.Admit(c.UserContext(), principal, revoked, merged, err); err != nil {
			return err
		}
		if len(roles) > 0 && !principal.HasAnyRole(roles...) {
			return identity.ErrForbidden
		}
		c.Locals(handlers.LocalPrincipal, principal)
		if err := l.verdict(c, res[before:]); err != nil {
			return err
		}
		if ahead != nil {
			ctx := ahead(c.UserContext())
			c.SetUserContext(ctx)
			defer identity.EndReadAhead(ctx) // for this request's reads only
		}
		return c.Next()
	}
}

// verdict refuses with 429, RATE_LIMITED and Retry-After when a result
// refused, and otherwise says how many requests the last limit has left.
func (l *limits) verdict(c *fiber.Ctx, res []ratelimit.Result) error {
	for _, r := range res {
		if r.Degraded && l.degraded != nil {
			l.degraded()
		}
		if !r.Allowed {
			secs := int(r.RetryAfter.Seconds() + 0.999)
			if secs < 1 {
				secs = 1
			}
			return apperr.RateLimited.WithDetail("retry_after", secs)
		}
	}
	if len(res) > 0 {
		if r := res[len(res)-1]; r.Remaining >= 0 && !r.Degraded {
			c.Set("X-RateLimit-Remaining", strconv.Itoa(r.Remaining))
		}
	}
	return nil
}
