package nontax

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestAmountInWords(t *testing.T) {
	cases := []struct {
		fen  int64
		want string
	}{
		{0, "零元整"},
		{5, "伍分"},
		{50, "伍角"},
		{1000, "壹拾元整"},
		{1050, "壹拾元伍角"},
		{8000, "捌拾元整"},
		{9000, "玖拾元整"},
		{10005, "壹佰元零伍分"},
		{10050, "壹佰元伍角"}, // a 零 before 角 may be left out (支付结算办法)
		{55000, "伍佰伍拾元整"},
		{100500, "壹仟零伍元整"},
		{1000000, "壹万元整"},
		{1000500, "壹万零伍元整"},
		{11000000, "壹拾壹万元整"},
		{10010000000, "壹亿零壹拾万元整"},
		{10000050000, "壹亿零伍佰元整"},
		{12345678, "壹拾贰万叁仟肆佰伍拾陆元柒角捌分"},
		{-1, ""},
	}
	for _, c := range cases {
		if got := AmountInWords(c.fen); got != c.want {
			t.Errorf("AmountInWords(%d) = %s, want %s", c.fen, got, c.want)
		}
	}
}

// The receipt link serves a well-formed PDF: the header, objects where
// the cross-reference table says, a stream as long as its /Length, and the
// receipt's data in the text.
func TestReceiptPDF(t *testing.T) {
	e := newEnv(t, Options{NoDemoData: true})
	n := e.issue(itemsOf("103045500101", "103045500102")...)
	var res ConfirmResult
	e.post(apiNotices+n.PaymentCode+"/payments", "p", payment("T1", n.Amount, start)).ok(t).into(t, &res)

	resp, err := http.Get(res.Receipt.URL)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || len(pdf) > 8<<10 {
		t.Fatalf("HTTP %d %s, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(pdf))
	}
	checkPDF(t, pdf)
	for _, s := range []string{res.Receipt.Code, res.Receipt.Number, res.Receipt.CheckSum, n.PaymentCode, "玖拾元整", "不动产登记费（住宅）", "350***********1234"} {
		if !bytes.Contains(pdf, []byte(ucs2Hex(s))) {
			t.Errorf("the PDF does not show %s", s)
		}
	}
	if bytes.Contains(pdf, []byte(ucs2Hex(n.PayerID))) {
		t.Error("the PDF shows the payer's full ID number")
	}

	for _, bad := range []string{
		strings.Replace(res.Receipt.URL, "check_sum="+res.Receipt.CheckSum, "check_sum=000000", 1),
		strings.Replace(res.Receipt.URL, "check_sum="+res.Receipt.CheckSum, "", 1),
		strings.Replace(res.Receipt.URL, res.Receipt.Number, "0000000000", 1),
		strings.Replace(res.Receipt.URL, ".pdf", ".ofd", 1),
	} {
		resp, err := http.Get(bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: HTTP %d", bad, resp.StatusCode)
		}
	}
}

func checkPDF(t *testing.T, pdf []byte) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatal("no PDF header or trailer")
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	xref, _ := strconv.Atoi(string(m[1]))
	if !bytes.HasPrefix(pdf[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	lines := strings.Split(string(pdf[xref:]), "\n")
	count, _ := strconv.Atoi(strings.Fields(lines[1])[1])
	if count < 8 || lines[2] != "0000000000 65535 f " {
		t.Fatalf("xref header %q %q", lines[1], lines[2])
	}
	for i := 1; i < count; i++ {
		entry := lines[2+i]
		if len(entry) != 19 || !strings.HasSuffix(entry, " 00000 n ") { // 20 bytes with the \n
			t.Fatalf("xref entry %q", entry)
		}
		off, _ := strconv.Atoi(entry[:10])
		if want := strconv.Itoa(i) + " 0 obj\n"; !bytes.HasPrefix(pdf[off:], []byte(want)) {
			t.Fatalf("object %d is not at %d", i, off)
		}
	}
	sm := regexp.MustCompile(`(?s)/Length (\d+) >>\nstream\n(.*?)endstream`).FindSubmatch(pdf)
	if sm == nil {
		t.Fatal("no content stream")
	}
	if l, _ := strconv.Atoi(string(sm[1])); l != len(sm[2]) {
		t.Fatalf("stream /Length %d, stream is %d bytes", l, len(sm[2]))
	}
}
