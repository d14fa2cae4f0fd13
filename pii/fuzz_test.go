package pii

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzValidateIDNumber checks that ValidateIDNumber never panics, returns
// only its sentinel errors, and accepts exactly the numbers whose check
// character IDNumberCheckChar agrees with.
func FuzzValidateIDNumber(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "11010519491231002x", "440524188001010014", "110101199003071233",
		"", "1", "01010119900307123X", "11010119900230123X", "一二三四五六", "110101\xff9900307123X",
	} {
		f.Add(s)
	}
	sentinels := []error{ErrIDNumberLength, ErrIDNumberFormat, ErrIDNumberRegion, ErrIDNumberBirthDate, ErrIDNumberChecksum}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateIDNumber(s)
		if err != nil {
			for _, e := range sentinels {
				if err == e {
					return
				}
			}
			t.Fatalf("ValidateIDNumber(%q) returned a non-sentinel error %v", s, err)
		}
		if len(s) != 18 {
			t.Fatalf("accepted %q of length %d", s, len(s))
		}
		check, ok := IDNumberCheckChar(s[:17])
		if !ok || check != strings.ToUpper(s[17:])[0] {
			t.Fatalf("accepted %q but its check character should be %q", s, check)
		}
		if norm := NormalizeIDNumber(s); ValidateIDNumber(norm) != nil || NormalizeIDNumber(norm) != norm {
			t.Fatalf("normalizing the valid %q gave %q", s, norm)
		}
	})
}

// FuzzMask checks every mask on arbitrary input: no panic, the same number
// of runes out as in, valid UTF-8 out, and never more runes shown than the
// pattern allows.
func FuzzMask(f *testing.F) {
	for _, s := range []string{
		"", "1", "张", "张三", "欧阳娜娜", "13812345678", "110101199003071234", "91350100M000100Y43",
		"北京市朝阳区建国路88号", "\xff\xfe", "😀😀😀", "a\x00b",
	} {
		f.Add(s)
	}
	masks := []struct {
		name  string
		mask  func(string) string
		shown int // most runes left visible
	}{
		{"MaskIDNumber", MaskIDNumber, 7},
		{"MaskPhone", MaskPhone, 7},
		{"MaskUSCC", MaskUSCC, 8},
		{"MaskName", MaskName, 1},
		{"MaskAddress", MaskAddress, 6},
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := utf8.RuneCountInString(s)
		in := []rune(s)
		for _, m := range masks {
			out := m.mask(s)
			got := []rune(out)
			if len(got) != n {
				t.Fatalf("%s(%q) = %q: %d runes, want %d", m.name, s, out, len(got), n)
			}
			if !utf8.ValidString(out) {
				t.Fatalf("%s(%q) = %q is not valid UTF-8", m.name, s, out)
			}
			shown := 0
			for i, r := range got {
				if r == '*' {
					continue
				}
				shown++
				if r != in[i] {
					t.Fatalf("%s(%q) = %q: rune %d is neither kept nor '*'", m.name, s, out, i)
				}
			}
			if shown > m.shown || (n > 0 && shown == n) { // at least one rune is always hidden
				t.Fatalf("%s(%q) = %q shows %d of %d runes", m.name, s, out, shown, n)
			}
		}
	})
}

// FuzzDecrypt checks that arbitrary stored text never panics Decrypt and
// fails only with the documented errors; the fuzzer cannot forge a value.
func FuzzDecrypt(f *testing.F) {
	c, err := NewCipher(map[byte][]byte{1: testKey(1)}, 1)
	if err != nil {
		f.Fatal(err)
	}
	// A fixed value, not a fresh Encrypt: the fuzz workers are separate
	// processes and must agree on the one value that is genuine.
	const enc = "v1:ASV6BOinOjr7uxcWomG6GQRNxn5zMrXywGwi89oCuH4WRYFZFFCoDQ"
	if got, err := c.Decrypt(enc); err != nil || got != "13812345678" {
		f.Fatalf("the genuine value decrypts to %q, %v", got, err)
	}
	for _, s := range []string{enc, "", "v1:", "v1:AQ", "v2:" + enc[3:], enc[:len(enc)-1], enc + "A", enc[:30] + "\r" + enc[30:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := c.Decrypt(s)
		switch {
		case err == nil && s != "" && s != enc:
			t.Fatalf("Decrypt(%q) = %q: accepted a value it did not make", s, got)
		case err != nil && got != "":
			t.Fatalf("Decrypt(%q) returned %q along with %v", s, got, err)
		case err != nil && !errors.Is(err, ErrCiphertextMalformed) && !errors.Is(err, ErrUnknownKeyID) && !errors.Is(err, ErrCiphertextAuth):
			t.Fatalf("Decrypt(%q): undocumented error %v", s, err)
		}
	})
}
