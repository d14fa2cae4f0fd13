package payments

// ValidPaymentCode reports whether s looks like a payment code (缴款码): 20
// digits. The non-tax platform checks the check digit; refusing malformed
// input here keeps it out of queries and URLs.
func ValidPaymentCode(s string) bool {
	if len(s) != 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
