package bff_test

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"zwfw/identity"
)

// forgeExpired signs, with the server's own key, a token for the same user
// that expired an hour ago: only the expiry is wrong.
func forgeExpired(t *testing.T, access string) string {
	t.Helper()
	key, _ := hex.DecodeString(strings.Repeat("ab", 32))
	past := func() time.Time { return time.Now().Add(-2 * time.Hour) }
	tokens, err := identity.NewTokens(key, time.Hour, past)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tokens.Verify(access)
	if err == nil {
		t.Fatal("a current token verified under a clock two hours back")
	}
	_ = p
	tok, err := tokens.Issue(&identity.User{ID: "u_expired", Kind: identity.KindPublic, Roles: []identity.Role{identity.RoleCitizen}}, "sf_expired")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
