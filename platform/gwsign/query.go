package gwsign

import (
	"net/url"
	"slices"
	"strings"
)

// CanonicalQuery sorts the parameters by name, then by value (both as
// UTF-8 bytes, before encoding), encodes each name and value per RFC 3986
// and joins name=value pairs with '&'. It is "" for no parameters. A client
// sends exactly this string as the URL's query, so what is signed is what
// is on the wire.
func CanonicalQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		vs := slices.Clone(q[k])
		slices.Sort(vs)
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(Escape(k))
			b.WriteByte('=')
			b.WriteString(Escape(v))
		}
	}
	return b.String()
}

// Escape percent-encodes every byte outside the RFC 3986 unreserved set
// (A-Z a-z 0-9 - . _ ~) as %XX with upper-case hex; a space is %20, never +.
func Escape(s string) string {
	const hexUpper = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	out := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			out = append(out, c)
			continue
		}
		out = append(out, '%', hexUpper[c>>4], hexUpper[c&15])
	}
	return string(out)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
