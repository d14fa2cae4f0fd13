package nontax

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf16"

	"zwfw/pii"
	"zwfw/sandbox/fake"
)

// The e-receipt as a real, small PDF 1.4: one A5 landscape page of text
// and rules in the Adobe CJK font STSong-Light with the UniGB-UCS2-H CMap,
// which PDF readers supply themselves (no embedded font, so a receipt is
// about 3 KB). Real e-receipts are OFD or PDF with an electronic seal; the
// sandbox's says in its footer that it is a test document.

// pdfText is one line of text at (x, y) in points from the bottom left.
type pdfText struct {
	x, y, size float64
	s          string
}

// pdfRule is a horizontal line at y from x1 to x2.
type pdfRule struct{ x1, x2, y float64 }

// receiptPDF renders n's receipt.
func receiptPDF(n Notice) []byte {
	r := n.Receipt
	payerID := pii.MaskIDNumber(n.PayerID)
	if n.PayerType == PayerBusiness {
		payerID = n.PayerID // a company's code is public and printed in full
	}
	texts := []pdfText{
		{150, 382, 18, "福建省非税收入通用票据（电子）"},
		{40, 352, 10, "票据代码：" + r.Code},
		{230, 352, 10, "票据号码：" + r.Number},
		{420, 352, 10, "校验码：" + r.CheckSum},
		{40, 334, 10, "交款人：" + n.PayerName},
		{230, 334, 10, "交款人代码：" + payerID},
		{420, 334, 10, "开票日期：" + r.IssuedAt.In(chinaTime).Format("2006-01-02")},
		{40, 316, 10, "缴款码：" + n.PaymentCode},
		{230, 316, 10, "执收单位：" + n.Agency},
		{40, 290, 10, "项目编码"}, {140, 290, 10, "项目名称"}, {380, 290, 10, "数量"}, {430, 290, 10, "标准（元）"}, {500, 290, 10, "金额（元）"},
	}
	rules := []pdfRule{{36, 559, 368}, {36, 559, 304}, {36, 559, 284}}
	y := 268.0
	for _, it := range n.Items {
		texts = append(texts,
			pdfText{40, y, 10, it.Code}, pdfText{140, y, 10, it.Name},
			pdfText{380, y, 10, fmt.Sprint(it.Quantity)}, pdfText{430, y, 10, yuan(it.UnitPrice)}, pdfText{500, y, 10, yuan(it.Amount)})
		y -= 16
	}
	y -= 4
	rules = append(rules, pdfRule{36, 559, y + 12})
	texts = append(texts,
		pdfText{40, y - 6, 10, "金额合计（大写）：" + AmountInWords(n.Amount)},
		pdfText{430, y - 6, 10, "（小写）￥" + yuan(n.Amount)},
		pdfText{40, 60, 10, "收款单位（章）：" + n.Agency},
		pdfText{300, 60, 10, "复核人：系统自动   收款人：系统自动"},
		pdfText{40, 36, 8, "本票据由 zwfw 沙箱生成，仅供测试，不具法律效力。查验：票据代码 + 票据号码 + 校验码 + 开票日期 + 金额"},
	)
	return buildPDF(texts, rules, "财政电子票据 "+r.Code+r.Number, r.IssuedAt.In(chinaTime).Format("20060102150405"))
}

// buildPDF writes the objects, the cross-reference table and the trailer.
func buildPDF(texts []pdfText, rules []pdfRule, title, created string) []byte {
	var content bytes.Buffer
	content.WriteString("0.6 w\n")
	for _, r := range rules {
		fmt.Fprintf(&content, "%.1f %.1f m %.1f %.1f l S\n", r.x1, r.y, r.x2, r.y)
	}
	for _, t := range texts {
		fmt.Fprintf(&content, "BT /F1 %.1f Tf %.1f %.1f Td <%s> Tj ET\n", t.size, t.x, t.y, ucs2Hex(t.s))
	}
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 420] /Resources << /Font << /F1 4 0 R >> >> /Contents 7 0 R >>",
		"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [5 0 R] >>",
		"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 6 0 R /DW 1000 /W [1 95 500] >>",
		"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		fmt.Sprintf("<< /Title <%s> /Producer (zwfw sandbox nontax) /CreationDate (D:%s+08'00') >>", utf16Hex(title), created),
	}
	var out bytes.Buffer
	out.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, len(objects), xref)
	return out.Bytes()
}

// ucs2Hex encodes s for the UniGB-UCS2-H CMap: each character as 4 hex
// digits of its UCS-2 code; characters outside the BMP become "?".
func ucs2Hex(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > 0xFFFF {
			r = '?'
		}
		fmt.Fprintf(&b, "%04X", r)
	}
	return b.String()
}

// utf16Hex encodes s as a PDF text string: UTF-16BE with a byte-order mark.
func utf16Hex(s string) string {
	var b strings.Builder
	b.WriteString("FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	return b.String()
}

// getReceiptPDF: GET /nontax/receipts/{code}/{number}.pdf?check_sum=
// Unknown receipts and wrong check codes are one 404, so that the link
// cannot be guessed from a receipt number alone.
func (s *Server) getReceiptPDF(w http.ResponseWriter, r *http.Request) {
	number, ok := strings.CutSuffix(r.PathValue("file"), ".pdf")
	n, found := s.receiptFor(r.PathValue("code"), number)
	if !ok || !found || !signatureEqual(r.URL.Query().Get("check_sum"), n.Receipt.CheckSum) {
		fake.ControlError(w, http.StatusNotFound, "票据不存在或校验码错误")
		return
	}
	body := receiptPDF(n)
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s%s.pdf"`, n.Receipt.Code, n.Receipt.Number))
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	_, _ = w.Write(body)
}
