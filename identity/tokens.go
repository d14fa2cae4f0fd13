package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	lru "github.com/hashicorp/golang-lru/v2"
)

// Tokens issues and verifies access tokens: JWTs signed with HMAC-SHA256,
// short-lived, carrying the user id, kind, roles and session (refresh family) id.
type Tokens struct {
	key      []byte
	issuer   string
	lifetime time.Duration
	now      func() time.Time
	parser   *jwt.Parser
	// verified remembers tokens whose signature and claims were checked,
	// by their whole text (signature included, so any other text is
	// checked in full): a phone sends the same token with every request
	// for its lifetime, and parsing it again (base64, JSON, HMAC) cost a
	// signed-in request about as much as the rest of its middleware.
	verified *lru.Cache[string, verifiedToken]
}

// verifiedToken is a checked token's caller and the time it is valid in:
// [from, until), the checks' own bounds with their leeway (iat and nbf
// not in the future, exp not past).
type verifiedToken struct {
	p           Principal
	from, until time.Time
}

// verifiedTokens bounds the remembered tokens (about half a kilobyte each).
const verifiedTokens = 16384

// tokenLeeway is the clock skew allowed on a token's times.
const tokenLeeway = 5 * time.Second

// accessClaims is the JWT payload of an access token.
type accessClaims struct {
	Kind      Kind   `json:"knd"`
	Roles     []Role `json:"roles"`
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

const tokenAudience = "zwfw-api"

// NewTokens builds a token issuer. key must be at least 32 bytes.
func NewTokens(key []byte, lifetime time.Duration, now func() time.Time) (*Tokens, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("access token key must be at least 32 bytes, got %d", len(key))
	}
	if now == nil {
		now = time.Now
	}
	verified, err := lru.New[string, verifiedToken](verifiedTokens)
	if err != nil {
		return nil, err
	}
	return &Tokens{
		verified: verified,
		key:      key,
		issuer:   "zwfw",
		lifetime: lifetime,
		now:      now,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer("zwfw"),
			jwt.WithAudience(tokenAudience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(tokenLeeway),
			jwt.WithTimeFunc(now),
		),
	}, nil
}

// Lifetime is how long an access token lives.
func (t *Tokens) Lifetime() time.Duration { return t.lifetime }

// Issue signs an access token for the user in session sid.
func (t *Tokens) Issue(u *User, sid string) (string, error) {
	now := t.now()
	c := accessClaims{
		Kind:      u.Kind,
		Roles:     u.Roles,
		SessionID: sid,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			Subject:   u.ID,
			Audience:  jwt.ClaimStrings{tokenAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.lifetime)),
		},
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
}

// Verify checks an access token's signature, algorithm, issuer, audience and
// expiry. It returns ErrTokenExpired or ErrTokenInvalid.
func (t *Tokens) Verify(raw string) (*Principal, error) {
	if v, ok := t.verified.Get(raw); ok {
		if now := t.now(); !now.Before(v.from) && now.Before(v.until) {
			p := v.p // the caller's own copy: Admit may change it
			p.Roles = slices.Clone(p.Roles)
			return &p, nil
		}
		t.verified.Remove(raw) // out of its time: checked in full, for the error
	}
	var c accessClaims
	_, err := t.parser.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return t.key, nil })
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return nil, ErrTokenExpired
		}
		return nil, ErrTokenInvalid.WithCause(err)
	}
	if c.Subject == "" || c.SessionID == "" {
		return nil, ErrTokenInvalid
	}
	for _, r := range c.Roles {
		if !r.Valid() {
			return nil, ErrTokenInvalid
		}
	}
	p := Principal{UserID: c.Subject, Kind: c.Kind, Roles: c.Roles, SessionID: c.SessionID}
	v := verifiedToken{p: p, until: c.ExpiresAt.Add(tokenLeeway)} // exp is required
	v.p.Roles = slices.Clone(p.Roles)
	if c.IssuedAt != nil {
		v.from = c.IssuedAt.Add(-tokenLeeway)
	}
	if c.NotBefore != nil && c.NotBefore.Add(-tokenLeeway).After(v.from) {
		v.from = c.NotBefore.Add(-tokenLeeway)
	}
	t.verified.Add(strings.Clone(raw), v) // raw may alias a request buffer (fasthttp) that is reused
	return &p, nil
}

// newOpaqueToken returns a random refresh token and the hash under which it is stored.
// Only the hash is stored, so a database leak does not leak usable tokens.
func newOpaqueToken() (token, hash string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newID returns a random, URL-safe identifier with a readable prefix.
func newID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
