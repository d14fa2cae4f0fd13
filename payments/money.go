// Package payments will own non-tax payment orders, their channels (WeChat
// Pay, Alipay), notify handling, refunds and reconciliation. For now it holds
// the money type every capability shares: amounts are integer fen, never float.
package payments

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Fen is an amount of money in fen (分), the smallest unit of the yuan.
type Fen int64

// MaxFen bounds amounts zwfw accepts (100 million yuan), far above any
// non-tax fee, so that overflow can never happen in sums of a day's payments.
const MaxFen Fen = 100_000_000 * 100

// ErrAmount is returned for amounts that are not exact, positive yuan figures.
var ErrAmount = errors.New("金额格式错误")

// Yuan formats the amount as yuan with two decimals ("12.30"), the way Alipay
// and the non-tax platform write amounts.
func (f Fen) Yuan() string {
	sign := ""
	v := int64(f)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// ParseYuan converts a yuan string ("12.3", "12.30", "12") to fen exactly,
// without floating point: "0.1" + "0.2" must be 30 fen, not 30.000000004.
// More than two decimals, signs, exponents and spaces are errors.
func ParseYuan(s string) (Fen, error) {
	if s == "" || len(s) > 16 {
		return 0, ErrAmount
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || (hasFrac && (frac == "" || len(frac) > 2)) {
		return 0, ErrAmount
	}
	for _, part := range []string{whole, frac} {
		for _, r := range part {
			if r < '0' || r > '9' {
				return 0, ErrAmount
			}
		}
	}
	if len(whole) > 1 && whole[0] == '0' {
		return 0, ErrAmount
	}
	y, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, ErrAmount
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	total := Fen(y*100 + f)
	if total > MaxFen {
		return 0, ErrAmount
	}
	return total, nil
}
