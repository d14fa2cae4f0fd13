package apperr

import (
	"fmt"
	"sort"
	"sync"
)

// registry holds every declared code: codes are a public contract (clients
// branch on them) and must name exactly one error.
var registry = struct {
	sync.Mutex
	byCode map[string]*Error
}{byCode: map[string]*Error{}}

func register(e *Error) {
	registry.Lock()
	defer registry.Unlock()
	if prev, ok := registry.byCode[e.Code]; ok {
		panic(fmt.Sprintf("apperr: code %s declared twice (%q and %q): codes must be unique", e.Code, prev.Message, e.Message))
	}
	registry.byCode[e.Code] = e
}

// Codes lists every declared error, sorted by code (for documentation and tests).
func Codes() []*Error {
	registry.Lock()
	defer registry.Unlock()
	out := make([]*Error, 0, len(registry.byCode))
	for _, e := range registry.byCode {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Lookup returns the declared error of code.
func Lookup(code string) (*Error, bool) {
	registry.Lock()
	defer registry.Unlock()
	e, ok := registry.byCode[code]
	return e, ok
}
