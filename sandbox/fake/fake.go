// Package fake holds what the sandbox's fakes share: how a fake plugs into
// the sandbox server and describes itself, JSON replies, random identifiers
// and an injectable clock.
package fake

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"time"
)

// Fake is one emulated outside system. The sandbox registers every fake's
// routes on one server and lists its description in the index at /sandbox/.
type Fake interface {
	// Register adds the fake's routes (the emulated API and its /sandbox/<name>/ controls).
	Register(mux *http.ServeMux)
	// Describe says what the fake emulates and which routes it serves.
	Describe() Description
}

// Description is a fake's entry in the sandbox index.
type Description struct {
	Name     string            `json:"name"`
	Emulates string            `json:"emulates"`
	API      []Endpoint        `json:"api"`             // the emulated outside system's routes
	Controls []Endpoint        `json:"controls"`        // sandbox-only routes to drive and inspect the fake
	Info     map[string]string `json:"info,omitempty"`  // non-secret identifiers (app id, template codes, ...); secrets stay out
	Notes    []string          `json:"notes,omitempty"` // conventions a tester needs (e.g. test login codes)
}

// Endpoint documents one route.
type Endpoint struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	What   string `json:"what"`
}

// Clock tells a fake the time. Fakes never read the wall clock directly so
// that tests can step through expiry windows without sleeping.
type Clock func() time.Time

// OrWall returns c, or time.Now when c is nil.
func (c Clock) OrWall() Clock {
	if c == nil {
		return time.Now
	}
	return c
}

// ManualClock is a Clock for tests: it stands still until advanced.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock starts a clock at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's current time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// MaxBody bounds request bodies the fakes read; real gateways refuse far less.
const MaxBody = 1 << 20

// WriteJSON writes v as a JSON reply with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// ReadJSON decodes a bounded JSON request body into v.
func ReadJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return errors.New("empty body")
	}
	return json.Unmarshal(body, v)
}

// ControlError answers a sandbox control route (not an emulated API) with
// {"error": msg}.
func ControlError(w http.ResponseWriter, status int, format string, args ...any) {
	WriteJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// Alphabets for RandomString.
const (
	Digits       = "0123456789"
	Hex          = "0123456789abcdef"
	Alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// RandomString returns n characters drawn uniformly from alphabet with crypto/rand.
func RandomString(alphabet string, n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

// RandomBytes returns n bytes from crypto/rand.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (Go 1.24+ panics internally instead)
	return b
}

// Mux serves one fake alone on its own mux (for httptest servers in tests
// and for embedding a single fake).
func Mux(f Fake) http.Handler {
	mux := http.NewServeMux()
	f.Register(mux)
	return mux
}
