package pii

import (
	"errors"
	"strings"
	"time"
)

// Validation errors. Each is a sentinel for errors.Is, and its message is in
// Simplified Chinese so a handler can show it to the user as it is.
var (
	// ErrIDNumberLength: a resident ID number is not 18 characters long.
	ErrIDNumberLength = errors.New("身份证号码应为18位")
	// ErrIDNumberFormat: characters other than 17 digits and a final digit or X.
	ErrIDNumberFormat = errors.New("身份证号码格式错误，应为17位数字加1位数字或X")
	// ErrIDNumberRegion: the first digit (the region code) is 0.
	ErrIDNumberRegion = errors.New("身份证号码地区码错误")
	// ErrIDNumberBirthDate: the birth date is not a real date, is before
	// 1900 or is in the future.
	ErrIDNumberBirthDate = errors.New("身份证号码中的出生日期无效")
	// ErrIDNumberChecksum: the check character does not match.
	ErrIDNumberChecksum = errors.New("身份证号码校验位错误，请检查是否输入有误")

	// ErrUSCCLength: a unified social credit code is not 18 characters long.
	ErrUSCCLength = errors.New("统一社会信用代码应为18位")
	// ErrUSCCFormat: a character outside 0-9 and the upper-case letters in
	// use (I, O, S, V and Z are never used).
	ErrUSCCFormat = errors.New("统一社会信用代码含有无效字符（只能是数字和大写字母，且不含I、O、S、V、Z）")
	// ErrUSCCChecksum: the check character does not match.
	ErrUSCCChecksum = errors.New("统一社会信用代码校验位错误，请检查是否输入有误")

	// ErrPhoneFormat: not an 11-digit mainland mobile number starting 13-19.
	ErrPhoneFormat = errors.New("手机号码格式错误，应为11位中国大陆手机号")
)

// chinaTime is UTC+8, fixed so validation does not depend on the time zone
// database being installed: "in the future" means after today in China.
var chinaTime = time.FixedZone("CST", 8*60*60)

// idWeights are the GB 11643-1999 weights 2^(17-i) mod 11 of the first 17
// digits; idCheckChars maps the weighted sum mod 11 to the check character.
var (
	idWeights    = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	idCheckChars = "10X98765432"
)

// ValidateIDNumber checks an 18-character resident ID number (居民身份证号码,
// GB 11643-1999): 17 digits, the first not 0, a birth date (characters 7-14,
// YYYYMMDD) that is a real day from 1900-01-01 to today, and a correct check
// character (a digit or X; lower-case x is accepted, NormalizeIDNumber
// upper-cases it). The errors are checked in that order, so a typo in the
// date is reported as such rather than as a bad check character.
func ValidateIDNumber(s string) error {
	return validateIDNumberAt(s, time.Now())
}

func validateIDNumberAt(s string, now time.Time) error {
	if len(s) != 18 {
		return ErrIDNumberLength
	}
	if !allDigits(s[:17]) || !(isDigit(s[17]) || s[17] == 'X' || s[17] == 'x') {
		return ErrIDNumberFormat
	}
	if s[0] == '0' {
		return ErrIDNumberRegion
	}
	if !validBirthDate(s[6:14], now) {
		return ErrIDNumberBirthDate
	}
	if check := idCheckChar(s[:17]); check != upper(s[17]) {
		return ErrIDNumberChecksum
	}
	return nil
}

// IDNumberCheckChar computes the check character ('0'-'9' or 'X') for the
// first 17 digits of a resident ID number; ok is false unless first17 is 17
// ASCII digits. Useful for building valid numbers in tests.
func IDNumberCheckChar(first17 string) (check byte, ok bool) {
	if len(first17) != 17 || !allDigits(first17) {
		return 0, false
	}
	return idCheckChar(first17), true
}

func idCheckChar(first17 string) byte {
	sum := 0
	for i := range 17 {
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// validBirthDate reports whether ymd (YYYYMMDD digits) is a real calendar day
// from 1900-01-01 to today in China.
func validBirthDate(ymd string, now time.Time) bool {
	y := atoi(ymd[:4])
	m := atoi(ymd[4:6])
	d := atoi(ymd[6:8])
	if y < 1900 || m < 1 || m > 12 || d < 1 {
		return false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, chinaTime)
	if t.Day() != d { // time.Date normalizes 02-30 to 03-02
		return false
	}
	ny, nm, nd := now.In(chinaTime).Date()
	return !t.After(time.Date(ny, nm, nd, 0, 0, 0, 0, chinaTime))
}

// usccAlphabet is the GB 32100-2015 character set in value order: a
// character's value is its index. I, O, S, V and Z are left out because they
// are easily confused with 1, 0, 5, U and 2.
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// ValidateUSCC checks an 18-character unified social credit code (统一社会信用代码,
// GB 32100-2015): every character from 0-9 and the upper-case letters except
// I, O, S, V and Z, and a correct check character. Lower case is rejected;
// NormalizeUSCC upper-cases first.
func ValidateUSCC(s string) error {
	if len(s) != 18 {
		return ErrUSCCLength
	}
	for i := range 18 {
		if strings.IndexByte(usccAlphabet, s[i]) < 0 {
			return ErrUSCCFormat
		}
	}
	if check := usccCheckChar(s[:17]); check != s[17] {
		return ErrUSCCChecksum
	}
	return nil
}

// USCCCheckChar computes the check character for the first 17 characters of
// a unified social credit code; ok is false unless first17 is 17 characters
// of the code's alphabet. Useful for building valid codes in tests.
func USCCCheckChar(first17 string) (check byte, ok bool) {
	if len(first17) != 17 {
		return 0, false
	}
	for i := range 17 {
		if strings.IndexByte(usccAlphabet, first17[i]) < 0 {
			return 0, false
		}
	}
	return usccCheckChar(first17), true
}

func usccCheckChar(first17 string) byte {
	sum := 0
	for i := range 17 {
		sum += strings.IndexByte(usccAlphabet, first17[i]) * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31]
}

// ValidatePhone checks a mainland China mobile number: 11 ASCII digits,
// starting with 1 and then 3-9 (^1[3-9]\d{9}$). Normalize first with
// NormalizePhone to accept spaces, dashes and a +86 prefix.
func ValidatePhone(s string) error {
	if len(s) != 11 || s[0] != '1' || s[1] < '3' || s[1] > '9' || !allDigits(s) {
		return ErrPhoneFormat
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// atoi converts a short string already known to be ASCII digits.
func atoi(s string) int {
	n := 0
	for i := range len(s) {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
