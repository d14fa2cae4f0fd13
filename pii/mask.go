package pii

import "unicode/utf8"

// The mask functions hide part of a value for display and logs. They count
// runes, not bytes, so Chinese text is masked character by character, and
// the result always has as many runes as the input, each hidden one an
// ASCII '*'. On inputs too short for their pattern they hide more, never
// less: a short or malformed value is masked entirely rather than shown
// nearly whole. They never panic, whatever the input.

// MaskIDNumber keeps the first 3 and last 4 characters of a resident ID
// number: "110101199003071234" -> "110***********1234". Inputs shorter than 15
// runes (the old 15-digit format) are masked entirely.
func MaskIDNumber(s string) string { return maskKeep(s, 3, 4, 15) }

// MaskPhone keeps the first 3 and last 4 digits of a mobile number:
// "13812345678" -> "138****5678". Inputs shorter than 11 runes are masked
// entirely.
func MaskPhone(s string) string { return maskKeep(s, 3, 4, 11) }

// MaskUSCC keeps the first 4 and last 4 characters of a unified social credit
// code: "91350100M000100Y43" -> "9135**********0Y43". Inputs shorter than 18
// runes are masked entirely.
func MaskUSCC(s string) string { return maskKeep(s, 4, 4, 18) }

// MaskName keeps the first character of a name (the surname, for most
// Chinese names): "张三" -> "张*", "欧阳娜娜" -> "欧***". A one-character
// name is masked entirely.
func MaskName(s string) string { return maskKeep(s, 1, 0, 2) }

// MaskAddress keeps the first 6 characters of an address, typically the
// province and city, and masks the rest:
// "北京市朝阳区建国路88号" -> "北京市朝阳区******". Shorter addresses keep
// at most half of their characters.
func MaskAddress(s string) string {
	return maskKeep(s, min(6, utf8.RuneCountInString(s)/2), 0, 0)
}

// maskKeep keeps head runes at the start and tail runes at the end of s and
// replaces every other rune with '*'. If s has fewer than minLen runes, or
// too few for at least one rune to be hidden, every rune is replaced.
func maskKeep(s string, head, tail, minLen int) string {
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return ""
	}
	if n < minLen || n <= head+tail {
		head, tail = 0, 0
	}
	out := make([]rune, 0, n)
	i := 0
	// Ranging over the string yields one rune (U+FFFD) per invalid byte,
	// exactly as RuneCountInString counts them.
	for _, r := range s {
		if i >= head && i < n-tail {
			r = '*'
		}
		out = append(out, r)
		i++
	}
	return string(out)
}
