package pii

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
)

// Phone, IDNumber and Name hold a clear value but show only its masked form
// wherever it might be printed: slog (LogValue); fmt with any verb, even a
// wrong one like %d (Format, String, GoString); and JSON (MarshalJSON, which
// also covers a value nested in a struct logged by slog.JSONHandler).
// Convert to string to get the clear value, on purpose: string(p).
//
// They are for logging and display only. Do not use them in request or
// response bodies that must carry the clear value (JSON sees the mask), nor
// in stored documents (BSON does not: it would store the clear value).

// Phone is a mobile number that logs and prints masked ("138****5678").
type Phone string

// IDNumber is a resident ID number that logs and prints masked
// ("110***********1234").
type IDNumber string

// Name is a person's name that logs and prints masked ("张*").
type Name string

// LogValue masks the number in slog output.
func (p Phone) LogValue() slog.Value { return slog.StringValue(MaskPhone(string(p))) }

// String masks the number for fmt.
func (p Phone) String() string { return MaskPhone(string(p)) }

// GoString masks the number for %#v.
func (p Phone) GoString() string { return "pii.Phone(" + strconv.Quote(p.String()) + ")" }

// Format masks the number for every fmt verb.
func (p Phone) Format(f fmt.State, verb rune) { formatMasked(f, verb, p.String(), p.GoString()) }

// MarshalJSON masks the number in JSON.
func (p Phone) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// LogValue masks the number in slog output.
func (n IDNumber) LogValue() slog.Value { return slog.StringValue(MaskIDNumber(string(n))) }

// String masks the number for fmt.
func (n IDNumber) String() string { return MaskIDNumber(string(n)) }

// GoString masks the number for %#v.
func (n IDNumber) GoString() string { return "pii.IDNumber(" + strconv.Quote(n.String()) + ")" }

// Format masks the number for every fmt verb.
func (n IDNumber) Format(f fmt.State, verb rune) { formatMasked(f, verb, n.String(), n.GoString()) }

// MarshalJSON masks the number in JSON.
func (n IDNumber) MarshalJSON() ([]byte, error) { return json.Marshal(n.String()) }

// LogValue masks the name in slog output.
func (n Name) LogValue() slog.Value { return slog.StringValue(MaskName(string(n))) }

// String masks the name for fmt.
func (n Name) String() string { return MaskName(string(n)) }

// GoString masks the name for %#v.
func (n Name) GoString() string { return "pii.Name(" + strconv.Quote(n.String()) + ")" }

// Format masks the name for every fmt verb.
func (n Name) Format(f fmt.State, verb rune) { formatMasked(f, verb, n.String(), n.GoString()) }

// MarshalJSON masks the name in JSON.
func (n Name) MarshalJSON() ([]byte, error) { return json.Marshal(n.String()) }

// formatMasked prints masked as a plain string would be printed with the
// same verb and flags. Without it fmt would print the clear underlying
// string for verbs that do not call String, such as %d.
func formatMasked(f fmt.State, verb rune, masked, goString string) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, goString)
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), masked)
}
