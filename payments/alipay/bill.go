package alipay

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	sdk "github.com/smartwalle/alipay/v3"
	"golang.org/x/text/encoding/simplifiedchinese"

	"zwfw/payments"
)

// BillGrace is how long after a day ends Alipay may still be producing its
// bill (it promises bills by the next morning). A bill Alipay says does not
// exist is payments.ErrBillNotReady until then, and an empty bill (a day
// without trades) after.
const BillGrace = 24 * time.Hour

// maxBillZip bounds a downloaded bill; a government fee account's daily
// bill is far smaller.
const maxBillZip = 64 << 20

// Bill implements payments.Gateway: it asks
// alipay.data.dataservice.bill.downloadurl.query for the day's trade bill
// (业务账单), downloads the zip at once (the URL lasts 30 seconds) and
// reads its 业务明细 CSV (GBK, or UTF-8) into one line per payment and
// refund. payments.ErrBillNotReady while the bill does not exist yet.
func (c *Client) Bill(ctx context.Context, day time.Time) ([]payments.BillLine, error) {
	day = day.In(shanghai)
	date := day.Format(dateLayout)
	rsp, err := c.sdk.BillDownloadURLQuery(ctx, sdk.BillDownloadURLQuery{BillType: "trade", BillDate: date})
	var e *sdk.Error
	if rsp != nil {
		e = &rsp.Error
	}
	ae, err := outcome(err, e)
	switch {
	case err != nil:
		return nil, err
	case ae != nil && ae.SubCode == subBillNotExist:
		end := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, shanghai)
		if c.now().Before(end.Add(BillGrace)) {
			return nil, wrap(payments.ErrBillNotReady, ae)
		}
		return nil, nil // long past: Alipay keeps no bill of a day without trades
	case ae != nil:
		return nil, temporary(ae)
	}
	body, err := c.download(ctx, rsp.BillDownloadURL)
	if err != nil {
		return nil, err
	}
	lines, err := parseBillZip(body)
	if err != nil {
		return nil, fmt.Errorf("alipay: bill %s: %w", date, err)
	}
	return lines, nil
}

// download GETs the bill zip.
func (c *Client) download(ctx context.Context, link string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, fmt.Errorf("alipay: bill URL %q: %w", link, err)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("alipay: bill download: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBillZip+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("alipay: bill download: %w", err)
	case res.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("alipay: bill download: HTTP %d: %.200s", res.StatusCode, body)
	case len(body) > maxBillZip:
		return nil, errors.New("alipay: bill larger than 64 MB")
	}
	return body, nil
}

// parseBillZip finds the detail file (业务明细, not its 汇总) among the zip's
// CSV files by its header, whatever the (GBK-encoded) file names say.
func parseBillZip(body []byte) ([]payments.BillLine, error) {
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("not a zip: %w", err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		raw, err := io.ReadAll(io.LimitReader(rc, maxBillZip))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%q: %w", f.Name, err)
		}
		text, err := decodeBill(raw)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", f.Name, err)
		}
		if lines, ok, err := parseDetail(text); ok || err != nil {
			return lines, err
		}
	}
	return nil, errors.New("no 业务明细 file in the zip")
}

// decodeBill is the file as UTF-8: Alipay writes GBK; a file that is
// already valid UTF-8 is taken as it is (a BOM dropped).
func decodeBill(raw []byte) (string, error) {
	if utf8.Valid(raw) {
		return strings.TrimPrefix(string(raw), "\ufeff"), nil
	}
	return simplifiedchinese.GB18030.NewDecoder().String(string(raw))
}

// Columns of 业务明细 the adapter reads (headers without "（元）").
const (
	colTradeNo    = "支付宝交易号"
	colOutTradeNo = "商户订单号"
	colType       = "业务类型"
	colCreated    = "创建时间"
	colCompleted  = "完成时间"
	colAmount     = "订单金额"
	colReceived   = "商家实收"
	colRequestNo  = "退款批次号/请求号"
)

// parseDetail reads 业务明细; ok is false when text is another file.
// Comment lines (#) around the table are skipped; each cell is trimmed of
// the tab Alipay pads it with.
func parseDetail(text string) (lines []payments.BillLine, ok bool, err error) {
	r := csv.NewReader(strings.NewReader(text))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	recs, err := r.ReadAll()
	if err != nil {
		return nil, false, fmt.Errorf("CSV: %w", err)
	}
	col := map[string]int{}
	start := -1
	for i, rec := range recs {
		if len(rec) > 0 && cell(rec, 0) == colTradeNo {
			for j := range rec {
				name := cell(rec, j)
				name = strings.TrimSuffix(strings.TrimSuffix(name, "（元）"), "(元)")
				col[name] = j
			}
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil, false, nil
	}
	for _, name := range []string{colTradeNo, colOutTradeNo, colType, colCompleted, colAmount, colReceived, colRequestNo} {
		if _, ok := col[name]; !ok {
			return nil, true, fmt.Errorf("业务明细 lacks the column %s", name)
		}
	}
	lines = []payments.BillLine{}
	for n, rec := range recs[start:] {
		get := func(name string) string {
			if i, ok := col[name]; ok {
				return cell(rec, i)
			}
			return ""
		}
		l := payments.BillLine{
			OutTradeNo: get(colOutTradeNo), TransactionID: get(colTradeNo),
			At: parseTime(first(get(colCompleted), get(colCreated))),
		}
		var amount string
		switch get(colType) {
		case "交易":
			l.Kind, amount = payments.BillPayment, get(colAmount)
		case "退款":
			l.Kind, amount = payments.BillRefund, strings.TrimPrefix(get(colReceived), "-")
			l.OutRefundNo = get(colRequestNo)
		default:
			continue // other business types (e.g. 冻结) move no trade money
		}
		if l.Amount, err = payments.ParseYuan(amount); err != nil {
			return nil, true, fmt.Errorf("业务明细 line %d: amount %q: %w", n+1, amount, err)
		}
		lines = append(lines, l)
	}
	return lines, true, nil
}

// cell is rec[i] without surrounding white space (Alipay's tab padding).
func cell(rec []string, i int) string {
	if i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}
