package nontax

// Payment codes (缴款码, docs/nontax-gateway.md) are 20 digits: a 6-digit
// administrative division, a 2-digit year, an 11-digit serial and a Luhn
// check digit. This is the client's implementation (a left-to-right scan
// with the doubling table), apart from the sandbox's, so that the two
// check each other.

// PaymentCodeLen is the length of a payment code.
const PaymentCodeLen = 20

// luhnDouble maps a digit to the digit sum of its double.
var luhnDouble = [10]int{0, 2, 4, 6, 8, 1, 3, 5, 7, 9}

// ValidPaymentCode reports whether code is 20 ASCII digits whose Luhn sum
// is a multiple of 10. Callers check codes typed by people with it before
// asking the platform.
func ValidPaymentCode(code string) bool {
	if len(code) != PaymentCodeLen {
		return false
	}
	sum := 0
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		// Counting from the right, the check digit is 1st (kept) and every
		// 2nd digit left of it is doubled: with an even length that is
		// every even index from the left.
		if i%2 == 0 {
			d = luhnDouble[d]
		}
		sum += d
	}
	return sum%10 == 0
}

// CheckDigit is the Luhn check digit completing the first 19 digits of a
// payment code ('?' when first19 is not 19 ASCII digits).
func CheckDigit(first19 string) byte {
	if len(first19) != PaymentCodeLen-1 {
		return '?'
	}
	for d := byte('0'); d <= '9'; d++ {
		if ValidPaymentCode(first19 + string(d)) {
			return d
		}
	}
	return '?'
}
