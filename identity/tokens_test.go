package identity_test

import (
	"errors"
	"fmt"
	"testing"
	"time"
	"unsafe"

	"zwfw/identity"
)

// A token checked once is remembered, and still refused the moment its
// time is out (expired, or not yet issued on this clock); a changed
// signature is checked in full; a caller changing its principal changes
// no one else's.
func TestVerifiedTokensKeepTheirTime(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)}
	tokens, err := identity.NewTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := tokens.Issue(&identity.User{ID: "u1", Kind: identity.KindPublic, Roles: []identity.Role{identity.RoleCitizen}}, "sf_1")
	if err != nil {
		t.Fatal(err)
	}
	first, err := tokens.Verify(raw)
	if err != nil {
		t.Fatal(err)
	}
	first.UserID, first.Roles[0] = "u_survivor", identity.RoleAdmin
	again, err := tokens.Verify(raw)
	if err != nil || again.UserID != "u1" || again.SessionID != "sf_1" || !again.HasAnyRole(identity.RoleCitizen) || again.HasAnyRole(identity.RoleAdmin) {
		t.Fatalf("second check: %+v, %v", again, err)
	}

	tampered := raw[:len(raw)-2] + map[bool]string{true: "AA", false: "BB"}[raw[len(raw)-2:] != "AA"]
	if _, err := tokens.Verify(tampered); !errors.Is(err, identity.ErrTokenInvalid) {
		t.Fatalf("tampered signature: %v", err)
	}

	clk.add(-10 * time.Second) // a clock stepped back past the leeway: issued in the future
	if _, err := tokens.Verify(raw); !errors.Is(err, identity.ErrTokenInvalid) {
		t.Fatalf("before its issue: %v", err)
	}
	clk.add(10*time.Second + 15*time.Minute + 4*time.Second) // within the leeway
	if _, err := tokens.Verify(raw); err != nil {
		t.Fatalf("within the leeway: %v", err)
	}
	clk.add(time.Second)
	if _, err := tokens.Verify(raw); !errors.Is(err, identity.ErrTokenExpired) {
		t.Fatalf("expired: %v", err)
	}
}

// The token text a request hands over may live in a buffer the next
// request reuses (fasthttp's): what is remembered must not change with it.
func TestVerifiedTokensOwnTheirText(t *testing.T) {
	tokens, err := identity.NewTokens([]byte("0123456789abcdef0123456789abcdef"), 15*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(user, sid string) string {
		raw, err := tokens.Issue(&identity.User{ID: user, Kind: identity.KindPublic, Roles: []identity.Role{identity.RoleCitizen}}, sid)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	one, two := issue("u1", "sf_1"), issue("u2", "sf_2")
	if len(one) != len(two) {
		t.Fatalf("tokens of %d and %d bytes", len(one), len(two))
	}
	buf := []byte(one)
	if _, err := tokens.Verify(unsafe.String(&buf[0], len(buf))); err != nil {
		t.Fatal(err)
	}
	copy(buf, two)       // the buffer now holds the next request
	for i := range 300 { // others, so the remembered ones are moved around
		if _, err := tokens.Verify(issue("u_other", fmt.Sprintf("sf_other_%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if p, err := tokens.Verify(two); err != nil || p.UserID != "u2" || p.SessionID != "sf_2" {
		t.Fatalf("the second token: %+v, %v", p, err)
	}
	if p, err := tokens.Verify(one); err != nil || p.UserID != "u1" || p.SessionID != "sf_1" {
		t.Fatalf("the first token: %+v, %v", p, err)
	}
}
