package nontax

import (
	"errors"
	"fmt"
)

// A payment code (缴款码) is 20 digits:
//
//	350100 26 12345600001 7
//	│      │  │           └ check digit, Luhn (ISO/IEC 7812-1 annex B) over the first 19
//	│      │  └ serial, 11 digits (the sandbox: a 6-digit run prefix + a 5-digit sequence)
//	│      └ year of issue, 2 digits (Asia/Shanghai)
//	└ administrative division of the collecting agency (GB/T 2260), e.g. 350100 福州市
//
// Luhn catches every single-digit error and every transposition of
// adjacent digits but 09↔90. (ISO/IEC 7064 MOD 11,10 was the other
// candidate: it let about 7% of adjacent transpositions of codes of this
// shape through.) This is the sandbox's own implementation, summing from
// the right, apart from the client's in payments/nontax, so that the two
// check each other.

// PaymentCodeLen is the length of a payment code.
const PaymentCodeLen = 20

// Errors of ValidatePaymentCode.
var (
	errPaymentCodeFormat = errors.New("缴款码应为20位数字")
	errPaymentCodeCheck  = errors.New("缴款码校验位错误，请核对后重新输入")
)

// luhnSum is the Luhn sum of digits: from the right, every second digit
// starting with the rightmost is doubled when double is true (digits of a
// product above 9 are added, i.e. 9 is subtracted).
func luhnSum(digits string, double bool) int {
	sum := 0
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum
}

// PaymentCodeCheckDigit is the Luhn check digit that completes the first
// 19 digits of a payment code (or any digit string).
func PaymentCodeCheckDigit(digits string) byte {
	return byte('0' + (10-luhnSum(digits, true)%10)%10)
}

// ValidatePaymentCode checks the length, the digits and the check digit;
// the errors' messages are for people.
func ValidatePaymentCode(code string) error {
	if len(code) != PaymentCodeLen {
		return errPaymentCodeFormat
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return errPaymentCodeFormat
		}
	}
	if luhnSum(code, false)%10 != 0 {
		return errPaymentCodeCheck
	}
	return nil
}

// newPaymentCode builds a payment code for division, year and the n-th
// notice of this run. Callers hold s.mu (n comes from s.noticeSeq).
func (s *Server) newPaymentCode(division string, year, n int) string {
	first19 := division + fmt.Sprintf("%02d", year%100) + s.runPrefix + fmt.Sprintf("%05d", n%100000)
	return first19 + string(PaymentCodeCheckDigit(first19))
}
