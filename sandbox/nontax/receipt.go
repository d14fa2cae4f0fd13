package nontax

import (
	"crypto/hmac"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// Receipt is the e-receipt (财政电子票据) of a paid notice:
//
//	票据代码 (code)      8 digits: province 35 (福建) + kind 01 (非税收入通用票据) + 2-digit year + batch 01
//	票据号码 (number)   10 digits, sequential within the code (the sandbox: a 3-digit run prefix + 7 digits)
//	校验码 (check_sum)   6 lower-case hex characters: HMAC-SM3 of the receipt's data under the platform's key
//
// URL downloads it as PDF; the sandbox serves the file at
// ReceiptPath/{code}/{number}.pdf?check_sum=.
type Receipt struct {
	Code        string    `json:"code"`
	Number      string    `json:"number"`
	CheckSum    string    `json:"check_sum"`
	URL         string    `json:"url"`
	IssuedAt    time.Time `json:"issued_at"`
	Amount      int64     `json:"amount"`
	PaymentCode string    `json:"payment_code"`
}

// Receipt code parts.
const (
	receiptProvince = "35" // 福建省
	receiptKind     = "01" // 非税收入通用票据（电子）
	receiptBatch    = "01"
)

// issueReceipt makes the next receipt for n, paid now. Callers hold s.mu.
func (s *Server) issueReceipt(n *notice, at time.Time) Receipt {
	s.receiptSeq++
	r := Receipt{
		Code:     receiptProvince + receiptKind + fmt.Sprintf("%02d", at.Year()%100) + receiptBatch,
		Number:   s.receiptPrefix + fmt.Sprintf("%07d", s.receiptSeq%10_000_000),
		IssuedAt: at, Amount: n.Amount, PaymentCode: n.PaymentCode,
	}
	r.CheckSum = s.receiptCheckSum(r.Code, r.Number, r.Amount, at, n.PayerID)
	r.URL = ReceiptPath + "/" + r.Code + "/" + r.Number + ".pdf?check_sum=" + url.QueryEscape(r.CheckSum)
	return r
}

// receiptCheckSum is the 校验码: the first 6 hex characters of
// HMAC-SM3(receipt key, code|number|amount|date|payer id). A verifier with
// the key recomputes it from the receipt's printed data.
func (s *Server) receiptCheckSum(code, number string, amount int64, at time.Time, payerID string) string {
	m := hmac.New(sm3.New, s.receiptKey)
	m.Write([]byte(strings.Join([]string{code, number, strconv.FormatInt(amount, 10), at.In(chinaTime).Format("20060102"), payerID}, "|")))
	return hex.EncodeToString(m.Sum(nil))[:6]
}

// receiptFor finds the paid notice whose receipt has this code and number.
func (s *Server) receiptFor(code, number string) (Notice, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, pc := range s.order {
		n := s.notices[pc]
		if r := n.Receipt; r != nil && r.Code == code && r.Number == number {
			return n.view(), true
		}
	}
	return Notice{}, false
}

// yuan formats fen as yuan with two decimals, for messages.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// AmountInWords writes an amount of fen in capital Chinese numerals, the
// way receipts print the total (人民币大写): 8000 → "捌拾元整", 1050 →
// "壹拾元伍角", 10005 → "壹佰元零伍分". Zero is "零元整"; negative
// amounts are not receipts and give "".
func AmountInWords(fen int64) string {
	if fen < 0 {
		return ""
	}
	const digits = "零壹贰叁肆伍陆柒捌玖"
	d := []rune(digits)
	yuanPart, jiao, fenPart := fen/100, fen/10%10, fen%10
	var b strings.Builder
	if yuanPart > 0 {
		b.WriteString(integerInWords(yuanPart, d))
		b.WriteString("元")
	}
	switch {
	case jiao == 0 && fenPart == 0:
		if yuanPart == 0 {
			return "零元整"
		}
		b.WriteString("整")
	default:
		if jiao > 0 {
			b.WriteRune(d[jiao])
			b.WriteString("角")
		} else if yuanPart > 0 {
			b.WriteString("零")
		}
		if fenPart > 0 {
			b.WriteRune(d[fenPart])
			b.WriteString("分")
		}
	}
	return b.String()
}

// integerInWords writes n > 0 in capital numerals: 拾佰仟 within a
// section of four digits, 万 and 亿 for the sections, and one 零 for each
// gap of zeros between written digits (10005 → 壹万零伍).
func integerInWords(n int64, d []rune) string {
	sectionNames := []string{"", "万", "亿", "万亿"}
	var secs []int64
	for ; n > 0; n /= 10000 {
		secs = append(secs, n%10000)
	}
	var b strings.Builder
	gap := false // a whole section of zeros since the last digit written
	for i := len(secs) - 1; i >= 0; i-- {
		sec := secs[i]
		if sec == 0 {
			gap = b.Len() > 0
			continue
		}
		if b.Len() > 0 && (gap || sec < 1000) {
			b.WriteString("零")
		}
		b.WriteString(sectionInWords(sec, d))
		b.WriteString(sectionNames[i])
		gap = false
	}
	return b.String()
}

// sectionInWords writes 1..9999 with 拾佰仟, one 零 for zeros between digits.
func sectionInWords(sec int64, d []rune) string {
	units := []string{"仟", "佰", "拾", ""}
	var b strings.Builder
	started, zero := false, false
	for i, p := range []int64{1000, 100, 10, 1} {
		digit := sec / p % 10
		if digit == 0 {
			zero = started
			continue
		}
		if zero {
			b.WriteString("零")
			zero = false
		}
		b.WriteRune(d[digit])
		b.WriteString(units[i])
		started = true
	}
	return b.String()
}
