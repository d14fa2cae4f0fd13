package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestKindsMapToHTTPStatus(t *testing.T) {
	cases := map[Kind]int{
		KindInternal: 500, KindInvalid: 400, KindUnauthorized: 401, KindForbidden: 403, KindNotFound: 404,
		KindConflict: 409, KindTooLarge: 413, KindTooMany: 429, KindUnavailable: 503, KindUpstream: 502,
		KindUnprocessable: 422,
	}
	for k, want := range cases {
		if got := k.HTTPStatus(); got != want {
			t.Errorf("kind %d -> %d, want %d", k, got, want)
		}
	}
}

func TestDerivedErrorsMatchTheirTemplate(t *testing.T) {
	base := New(KindConflict, "BOOKING_SLOT_FULL", "该时段已约满")
	derived := base.WithDetail("slot", "09:00").WithCause(errors.New("driver says no"))
	wrapped := fmt.Errorf("booking: %w", derived)
	if !errors.Is(wrapped, base) {
		t.Fatal("a derived, wrapped error does not match its template")
	}
	if errors.Is(wrapped, NotFound) {
		t.Fatal("matched an unrelated code")
	}
	if base.Details != nil {
		t.Fatal("deriving changed the template")
	}
	if From(wrapped).Details["slot"] != "09:00" {
		t.Fatal("From lost the details")
	}
}

func TestUncodedErrorsAreInternal(t *testing.T) {
	e := From(errors.New("connection reset by peer"))
	if e.Code != "INTERNAL" || e.Kind.HTTPStatus() != http.StatusInternalServerError {
		t.Fatalf("From(plain) = %+v", e)
	}
	if e.Message != Internal.Message {
		t.Fatal("an internal error's message must be the generic one")
	}
	if From(nil) != nil {
		t.Fatal("From(nil) != nil")
	}
}

// Codes are a public contract: one code names one error, and declaring a
// code twice stops the program at start-up.
func TestDeclaringACodeTwiceFailsAtStartUp(t *testing.T) {
	New(KindInvalid, "TEST_ONLY_UNIQUE_CODE", "一")
	defer func() {
		if recover() == nil {
			t.Fatal("a second declaration of TEST_ONLY_UNIQUE_CODE was accepted")
		}
	}()
	New(KindConflict, "TEST_ONLY_UNIQUE_CODE", "二")
}

func TestEveryDeclaredCodeIsListedOnce(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Codes() {
		if seen[e.Code] {
			t.Fatalf("%s listed twice", e.Code)
		}
		seen[e.Code] = true
	}
	if e, ok := Lookup("REALNAME_REQUIRED"); !ok || e != RealNameRequired {
		t.Fatal("REALNAME_REQUIRED is not the shared error")
	}
}
