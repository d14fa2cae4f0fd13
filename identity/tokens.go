package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Tokens issues and verifies access tokens: JWTs signed with HMAC-SHA256,
// short-lived, carrying the user id, kind, roles and session (refresh family) id.
type Tokens struct {
	key      []byte
	issuer   string
	lifetime time.Duration
	now      func() time.Time
	parser   *jwt.Parser
}

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
	return &Tokens{
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
			jwt.WithLeeway(5*time.Second),
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
	return &Principal{UserID: c.Subject, Kind: c.Kind, Roles: c.Roles, SessionID: c.SessionID}, nil
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
