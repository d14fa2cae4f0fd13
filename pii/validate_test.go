package pii

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// idNumber builds a resident ID number from region (6 digits), birth date
// (YYYYMMDD) and sequence (3 digits) with the correct check character.
func idNumber(t *testing.T, region, birth, seq string) string {
	t.Helper()
	check, ok := IDNumberCheckChar(region + birth + seq)
	if !ok {
		t.Fatalf("IDNumberCheckChar(%q) refused its input", region+birth+seq)
	}
	return region + birth + seq + string(check)
}

// withCheck replaces the last character of s.
func withCheck(s string, c byte) string { return s[:len(s)-1] + string(c) }

func TestIDNumberCheckChar(t *testing.T) {
	tests := []struct {
		first17 string
		want    byte
		ok      bool
	}{
		{"11010519491231002", 'X', true}, // the example in GB 11643-1999
		{"44052418800101001", '4', true}, // the other example in the standard
		{"11010119900307123", '3', true},
		{"1101051949123100", 0, false},   // 16 digits
		{"110105194912310021", 0, false}, // 18 digits
		{"1101051949123100A", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := IDNumberCheckChar(tt.first17)
		if got != tt.want || ok != tt.ok {
			t.Errorf("IDNumberCheckChar(%q) = %q, %v; want %q, %v", tt.first17, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidateIDNumber(t *testing.T) {
	// A fixed "today" makes the date rules exact.
	now := time.Date(2024, 6, 15, 12, 0, 0, 0, chinaTime)
	valid := idNumber(t, "110101", "19900307", "123")

	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		// Valid numbers.
		{"ordinary", valid, nil},
		{"X check character (GB 11643-1999 example)", "11010519491231002X", nil},
		{"lower-case x accepted", "11010519491231002x", nil},
		{"29 February of a leap year", idNumber(t, "440106", "20000229", "456"), nil},
		{"1 January 1900, the earliest day", idNumber(t, "320102", "19000101", "001"), nil},
		{"born today", idNumber(t, "350102", "20240615", "002"), nil},
		{"region starting with 9", idNumber(t, "910101", "19851231", "999"), nil},

		// Length.
		{"empty", "", ErrIDNumberLength},
		{"17 characters", valid[:17], ErrIDNumberLength},
		{"19 characters", valid + "1", ErrIDNumberLength},
		{"old 15-digit number", "110105491231002", ErrIDNumberLength},
		{"full-width digits (normalize first)", "１１０１０５１９４９１２３１００２Ｘ", ErrIDNumberLength},
		{"surrounding space (normalize first)", " " + valid, ErrIDNumberLength},

		// Format.
		{"letter at the end other than X", withCheck(valid, 'A'), ErrIDNumberFormat},
		{"letter in the middle", valid[:8] + "A" + valid[9:], ErrIDNumberFormat},
		{"X not at the end", "X" + valid[1:], ErrIDNumberFormat},
		{"space inside", valid[:6] + " " + valid[7:], ErrIDNumberFormat},
		{"sign", "-" + valid[1:], ErrIDNumberFormat},
		{"18 bytes, 6 Chinese characters", "一二三四五六", ErrIDNumberFormat},

		// Region.
		{"first digit 0", idNumber(t, "010101", "19900307", "123"), ErrIDNumberRegion},

		// Birth date.
		{"30 February", idNumber(t, "110101", "19900230", "123"), ErrIDNumberBirthDate},
		{"29 February of a common year", idNumber(t, "110101", "20230229", "123"), ErrIDNumberBirthDate},
		{"29 February 1900 (not a leap year)", idNumber(t, "110101", "19000229", "123"), ErrIDNumberBirthDate},
		{"month 00", idNumber(t, "110101", "19900007", "123"), ErrIDNumberBirthDate},
		{"month 13", idNumber(t, "110101", "19901307", "123"), ErrIDNumberBirthDate},
		{"day 00", idNumber(t, "110101", "19900300", "123"), ErrIDNumberBirthDate},
		{"31 April", idNumber(t, "110101", "19900431", "123"), ErrIDNumberBirthDate},
		{"before 1900 (the standard's own 1880 example)", "440524188001010014", ErrIDNumberBirthDate},
		{"31 December 1899", idNumber(t, "110101", "18991231", "123"), ErrIDNumberBirthDate},
		{"tomorrow", idNumber(t, "110101", "20240616", "123"), ErrIDNumberBirthDate},
		{"far future", idNumber(t, "110101", "29990101", "123"), ErrIDNumberBirthDate},
		{"year 0000", idNumber(t, "110101", "00000101", "123"), ErrIDNumberBirthDate},

		// Check character.
		{"wrong check digit", withCheck(valid, '5'), ErrIDNumberChecksum},
		{"X where a digit is due", withCheck(valid, 'X'), ErrIDNumberChecksum},
		{"digit where X is due", "110105194912310020", ErrIDNumberChecksum},
		{"two sequence digits swapped", valid[:14] + valid[15:16] + valid[14:15] + valid[16:], ErrIDNumberChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validateIDNumberAt(tt.in, now); !errors.Is(err, tt.wantErr) {
				t.Errorf("ValidateIDNumber(%q) = %v, want %v", tt.in, err, tt.wantErr)
			}
		})
	}
}

// Every character but the right one is a checksum error.
func TestValidateIDNumberEveryWrongCheckChar(t *testing.T) {
	for _, first17 := range []string{"11010519491231002", "11010119900307123", "44010620000229456"} {
		right, _ := IDNumberCheckChar(first17)
		for _, c := range []byte("0123456789X") {
			err := ValidateIDNumber(first17 + string(c))
			switch {
			case c == right && err != nil:
				t.Errorf("%s%c: %v, want valid", first17, c, err)
			case c != right && !errors.Is(err, ErrIDNumberChecksum):
				t.Errorf("%s%c: %v, want ErrIDNumberChecksum", first17, c, err)
			}
		}
	}
}

// ValidateIDNumber uses the real clock, in China time.
func TestValidateIDNumberUsesToday(t *testing.T) {
	today := time.Now().In(chinaTime)
	if err := ValidateIDNumber(idNumber(t, "110101", today.Format("20060102"), "123")); err != nil {
		t.Errorf("born today: %v", err)
	}
	tomorrow := today.AddDate(0, 0, 1)
	if err := ValidateIDNumber(idNumber(t, "110101", tomorrow.Format("20060102"), "123")); !errors.Is(err, ErrIDNumberBirthDate) {
		t.Errorf("born tomorrow: %v, want ErrIDNumberBirthDate", err)
	}
}

func TestValidationErrorsAreChineseMessages(t *testing.T) {
	errs := []error{
		ErrIDNumberLength, ErrIDNumberFormat, ErrIDNumberRegion, ErrIDNumberBirthDate, ErrIDNumberChecksum,
		ErrUSCCLength, ErrUSCCFormat, ErrUSCCChecksum, ErrPhoneFormat,
	}
	seen := map[string]bool{}
	for _, err := range errs {
		msg := err.Error()
		if seen[msg] {
			t.Errorf("message %q is used twice", msg)
		}
		seen[msg] = true
		if !strings.ContainsFunc(msg, func(r rune) bool { return r >= 0x4E00 && r <= 0x9FFF }) {
			t.Errorf("message %q has no Chinese", msg)
		}
	}
	if ErrIDNumberChecksum.Error() != "身份证号码校验位错误，请检查是否输入有误" {
		t.Errorf("ErrIDNumberChecksum = %q", ErrIDNumberChecksum)
	}
}

func TestUSCCCheckChar(t *testing.T) {
	tests := []struct {
		first17 string
		want    byte
		ok      bool
	}{
		{"91350100M000100Y4", '3', true},
		{"9135010000000000", 0, false},   // 16
		{"91350100M000100Y4I", 0, false}, // 18
		{"91350100I000100Y4", 0, false},  // I is not in the alphabet
		{"91350100m000100Y4", 0, false},  // lower case
	}
	for _, tt := range tests {
		got, ok := USCCCheckChar(tt.first17)
		if got != tt.want || ok != tt.ok {
			t.Errorf("USCCCheckChar(%q) = %q, %v; want %q, %v", tt.first17, got, ok, tt.want, tt.ok)
		}
	}
}

func TestValidateUSCC(t *testing.T) {
	const known = "91350100M000100Y43"
	build := func(first17 string) string {
		c, ok := USCCCheckChar(first17)
		if !ok {
			t.Fatalf("USCCCheckChar(%q) refused its input", first17)
		}
		return first17 + string(c)
	}
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"known valid example", known, nil},
		{"built: all digits", build("91110000000000000"), nil},
		{"built: letters", build("Y2310000MA1ABCDEF"), nil},
		{"built: W, X, Y used", build("52440300WXY123456"), nil},

		{"empty", "", ErrUSCCLength},
		{"17 characters", known[:17], ErrUSCCLength},
		{"19 characters", known + "3", ErrUSCCLength},
		{"old 9-character organization code", "M0001000Y", ErrUSCCLength},

		{"forbidden I", known[:8] + "I" + known[9:], ErrUSCCFormat},
		{"forbidden O", known[:8] + "O" + known[9:], ErrUSCCFormat},
		{"forbidden S", known[:8] + "S" + known[9:], ErrUSCCFormat},
		{"forbidden V", known[:8] + "V" + known[9:], ErrUSCCFormat},
		{"forbidden Z", known[:8] + "Z" + known[9:], ErrUSCCFormat},
		{"forbidden letter as the check character", known[:17] + "Z", ErrUSCCFormat},
		{"lower case (normalize first)", "91350100m000100y43", ErrUSCCFormat},
		{"punctuation", known[:8] + "-" + known[9:], ErrUSCCFormat},

		{"wrong check character", known[:17] + "4", ErrUSCCChecksum},
		{"wrong check letter", known[:17] + "A", ErrUSCCChecksum},
		{"one character changed", "91350100M000100Y53", ErrUSCCChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateUSCC(tt.in); !errors.Is(err, tt.wantErr) {
				t.Errorf("ValidateUSCC(%q) = %v, want %v", tt.in, err, tt.wantErr)
			}
		})
	}
	// Every alphabet character but the right one fails the checksum.
	for i := range len(usccAlphabet) {
		c := usccAlphabet[i]
		err := ValidateUSCC(known[:17] + string(c))
		if (c == '3') != (err == nil) {
			t.Errorf("check character %q: %v", c, err)
		}
	}
}

func TestValidatePhone(t *testing.T) {
	tests := []struct {
		in    string
		valid bool
	}{
		{"13812345678", true},
		{"13000000000", true},
		{"14512345678", true},
		{"15912345678", true},
		{"16612345678", true},
		{"17712345678", true},
		{"18812345678", true},
		{"19912345678", true},

		{"", false},
		{"12812345678", false},  // 12x is not a mobile prefix
		{"10012345678", false},  // 10x
		{"11012345678", false},  // 11x
		{"23812345678", false},  // must start with 1
		{"1381234567", false},   // 10 digits
		{"138123456789", false}, // 12 digits
		{"1381234567a", false},
		{"138 1234 5678", false},  // normalize first
		{"+8613812345678", false}, // normalize first
		{"１３８１２３４５６７８", false},    // full-width: normalize first
		{"01012345678", false},    // landline
	}
	for _, tt := range tests {
		err := ValidatePhone(tt.in)
		if tt.valid && err != nil {
			t.Errorf("ValidatePhone(%q) = %v, want valid", tt.in, err)
		}
		if !tt.valid && !errors.Is(err, ErrPhoneFormat) {
			t.Errorf("ValidatePhone(%q) = %v, want ErrPhoneFormat", tt.in, err)
		}
	}
}

// Normalizing then validating is how a handler should treat user input.
func TestNormalizeThenValidate(t *testing.T) {
	if err := ValidatePhone(NormalizePhone("+86 138-1234-5678")); err != nil {
		t.Errorf("phone: %v", err)
	}
	if err := ValidateIDNumber(NormalizeIDNumber(" 110105 19491231 002x ")); err != nil {
		t.Errorf("ID number: %v", err)
	}
	if err := ValidateUSCC(NormalizeUSCC("91350100m000100y43")); err != nil {
		t.Errorf("USCC: %v", err)
	}
}
