package nontax

import (
	"testing"
)

// Luhn vectors: the well-known 7992739871 → 3 and an 18-digit card-style
// number; and the 20-digit code of the contract doc's example.
func TestCheckDigitVectors(t *testing.T) {
	for _, c := range []struct {
		in   string
		want byte
	}{{"7992739871", '3'}, {"4111111111111111"[:15], '1'}, {"0", '0'}, {"3501002612345600001", '5'}} {
		if got := PaymentCodeCheckDigit(c.in); got != c.want {
			t.Errorf("check digit of %s = %c, want %c", c.in, got, c.want)
		}
		if luhnSum(c.in+string(c.want), false)%10 != 0 {
			t.Errorf("%s%c does not verify", c.in, c.want)
		}
	}
}

func TestValidatePaymentCode(t *testing.T) {
	good := "3501002612345600001" + string(PaymentCodeCheckDigit("3501002612345600001"))
	cases := []struct {
		code string
		want error
	}{
		{good, nil},
		{good[:19], errPaymentCodeFormat},
		{good + "0", errPaymentCodeFormat},
		{good[:10] + "a" + good[11:], errPaymentCodeFormat},
		{good[:19] + string('0'+(good[19]-'0'+1)%10), errPaymentCodeCheck},
	}
	for _, c := range cases {
		if got := ValidatePaymentCode(c.code); got != c.want {
			t.Errorf("ValidatePaymentCode(%q) = %v, want %v", c.code, got, c.want)
		}
	}
}

// The check digit catches every single-digit error and every adjacent
// transposition but 09↔90 (Luhn's one blind spot).
func TestCheckDigitCatchesTypos(t *testing.T) {
	s := New(Options{Now: start.Local, NoDemoData: true})
	swaps := 0
	for n := 1; n <= 500; n++ {
		code := s.newPaymentCode("350100", 2026, n*197)
		if err := ValidatePaymentCode(code); err != nil {
			t.Fatal(err)
		}
		b := []byte(code)
		for i := range b {
			orig := b[i]
			for d := byte('0'); d <= '9'; d++ {
				if d == orig {
					continue
				}
				b[i] = d
				if ValidatePaymentCode(string(b)) == nil {
					t.Fatalf("digit %d changed to %c passes: %s", i, d, b)
				}
			}
			b[i] = orig
			if i+1 < len(b) && b[i] != b[i+1] {
				b[i], b[i+1] = b[i+1], b[i]
				swaps++
				pair := string(b[i : i+2])
				if ValidatePaymentCode(string(b)) == nil && pair != "09" && pair != "90" {
					t.Fatalf("transposition at %d passes: %s", i, b)
				}
				b[i], b[i+1] = b[i+1], b[i]
			}
		}
	}
	if swaps < 1000 {
		t.Fatalf("only %d transpositions tried", swaps)
	}
}

func TestPaymentCodeStructure(t *testing.T) {
	e := newEnv(t, Options{NoDemoData: true})
	n := e.issue(IssueItem{Code: "103045500101"})
	c := n.PaymentCode
	if len(c) != 20 || c[:6] != "350100" || c[6:8] != "26" || c[8:14] != e.s.runPrefix || c[14:19] != "00001" {
		t.Fatalf("payment code %s", c)
	}
	if ValidatePaymentCode(c) != nil {
		t.Fatalf("issued code %s does not validate", c)
	}
	// Another run draws another prefix, so codes never repeat across
	// restarts: three draws all equal to this one (odds 1e-18) is a bug.
	for i := 0; i < 3; i++ {
		if New(Options{Now: e.clock.Now, NoDemoData: true}).runPrefix != e.s.runPrefix {
			return
		}
	}
	t.Fatalf("three runs drew the prefix %s again", e.s.runPrefix)
}
