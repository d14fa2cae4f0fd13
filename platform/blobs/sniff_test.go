package blobs_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"
	"unicode/utf8"

	"zwfw/apperr"
	"zwfw/platform/blobs"
)

// Tiny but real files, built the way a phone or scanner would build them.

func pngFile(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegFile(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pdfFile() []byte {
	return []byte("%PDF-1.4\n" +
		"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n" +
		"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n" +
		"trailer<</Root 1 0 R>>\n" +
		"%%EOF\n")
}

var (
	elfHeader = append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 56)...)
	peHeader  = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00"), make([]byte, 54)...)
	zipHeader = append([]byte("PK\x03\x04\x14\x00\x00\x00"), make([]byte, 22)...)
)

func TestSniffDecidesByContent(t *testing.T) {
	pngB, jpegB := pngFile(t), jpegFile(t)
	tests := []struct {
		name string
		data []byte
		kind blobs.Kind
		err  error
	}{
		{"a PDF is a PDF", pdfFile(), blobs.KindPDF, nil},
		{"a JPEG is a JPEG", jpegB, blobs.KindJPEG, nil},
		{"a PNG is a PNG", pngB, blobs.KindPNG, nil},
		{"a JPEG padded with zeros by a scanner is accepted", append(append([]byte{}, jpegB...), 0, 0, 0), blobs.KindJPEG, nil},
		{"a PDF with bytes after %%EOF is accepted", append(pdfFile(), "\r\n\x00\x00"...), blobs.KindPDF, nil},

		{"an ELF executable (whatever it is called) is refused", elfHeader, "", blobs.ErrUnsupportedType},
		{"a Windows PE executable is refused", peHeader, "", blobs.ErrUnsupportedType},
		{"a zip archive is refused", zipHeader, "", blobs.ErrUnsupportedType},
		{"HTML is refused", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), "", blobs.ErrUnsupportedType},
		{"plain text is refused", []byte("hello, world\n"), "", blobs.ErrUnsupportedType},
		{"an empty file is refused", nil, "", blobs.ErrUnsupportedType},
		{"a PDF header not at the very start is refused", append([]byte(" "), pdfFile()...), "", blobs.ErrUnsupportedType},
		{"a lone JPEG magic is refused", []byte{0xFF, 0xD8}, "", blobs.ErrUnsupportedType},

		{"a PNG cut short is corrupt", pngB[:len(pngB)-12], "", blobs.ErrCorruptFile},
		{"a JPEG cut in half is corrupt", jpegB[:len(jpegB)/2], "", blobs.ErrCorruptFile},
		{"a PDF without %%EOF is corrupt", []byte("%PDF-1.4\n1 0 obj<<>>endobj\n"), "", blobs.ErrCorruptFile},
		{"a PDF with %%EOF far from the end is corrupt", append(pdfFile(), make([]byte, 2048)...), "", blobs.ErrCorruptFile},
		{"a PNG signature followed by junk is corrupt", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...), "", blobs.ErrCorruptFile},
		{"a bare PNG signature is corrupt", []byte("\x89PNG\r\n\x1a\n"), "", blobs.ErrCorruptFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, err := blobs.Sniff(tt.data)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("Sniff: err = %v, want %v", err, tt.err)
			}
			if kind != tt.kind {
				t.Fatalf("Sniff: kind = %q, want %q", kind, tt.kind)
			}
			if err != nil && apperr.KindOf(err) != apperr.KindInvalid {
				t.Fatalf("refusal kind = %v, want KindInvalid", apperr.KindOf(err))
			}
		})
	}
}

// SniffHead lets the HTTP layer refuse early from the first bytes only.
func TestSniffHeadNeedsOnlyTheFirstBytes(t *testing.T) {
	big := append(pngFile(t), make([]byte, 4096)...) // the end does not matter here
	if kind, err := blobs.SniffHead(big[:blobs.HeadSize]); err != nil || kind != blobs.KindPNG {
		t.Fatalf("SniffHead = %q, %v; want image/png", kind, err)
	}
	if _, err := blobs.SniffHead(elfHeader); !errors.Is(err, blobs.ErrUnsupportedType) {
		t.Fatalf("SniffHead(ELF) = %v, want ErrUnsupportedType", err)
	}
}

func TestSafeNameAndValidateName(t *testing.T) {
	long := strings.Repeat("长", 300) + ".pdf"
	tests := []struct {
		in    string
		safe  string // "" means: checked by the extra condition below
		valid bool   // ValidateName accepts it
	}{
		{"营业执照副本.pdf", "营业执照副本.pdf", true},
		{"身份证 正面.JPG", "身份证 正面.JPG", true},
		{"scan.png", "scan.png", true},
		{"../../etc/passwd", "passwd", false},
		{`..\..\win.ini`, "win.ini", false},
		{"a/b/c.pdf", "c.pdf", false},
		{`C:\Users\张三\Desktop\户口本.jpg`, "户口本.jpg", false},
		{"..", blobs.DefaultName, false},
		{"/", blobs.DefaultName, false},
		{"", blobs.DefaultName, false},
		{"   ", blobs.DefaultName, false},
		{".htaccess", "htaccess", false},
		{"...pdf", "pdf", false},
		{"报告..pdf", "报告.pdf", false},
		{"a\x00.pdf", "a.pdf", false},
		{"evil.pdf\x00.exe", "evil.pdf.exe", false},
		{"two\nlines\r.pdf", "twolines.pdf", false},
		{"tab\tname.pdf", "tabname.pdf", false},
		{"invoice\u202Efdp.exe", "invoicefdp.exe", false}, // right-to-left override
		{"bad\xffutf8.pdf", "badutf8.pdf", false},
		{`a<b>:c"d|e?f*.pdf`, "a_b__c_d_e_f_.pdf", true},
		{"trailing. . ", "trailing", true},
		{long, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := blobs.SafeName(tt.in)
			if tt.safe != "" && got != tt.safe {
				t.Errorf("SafeName(%q) = %q, want %q", tt.in, got, tt.safe)
			}
			if strings.ContainsAny(got, "/\\\x00\n\r") || strings.Contains(got, "..") || strings.HasPrefix(got, ".") {
				t.Errorf("SafeName(%q) = %q is not safe", tt.in, got)
			}
			if n := utf8.RuneCountInString(got); n > blobs.MaxNameRunes || n == 0 {
				t.Errorf("SafeName(%q) has %d runes", tt.in, n)
			}
			err := blobs.ValidateName(tt.in)
			if tt.valid && err != nil {
				t.Errorf("ValidateName(%q) = %v, want nil", tt.in, err)
			}
			if !tt.valid && !errors.Is(err, blobs.ErrNameInvalid) {
				t.Errorf("ValidateName(%q) = %v, want MATERIAL_NAME_INVALID", tt.in, err)
			}
		})
	}

	// A 300-rune name is cut to 100 runes and keeps its extension.
	got := blobs.SafeName(long)
	if utf8.RuneCountInString(got) != blobs.MaxNameRunes || !strings.HasSuffix(got, ".pdf") {
		t.Fatalf("SafeName(300 runes) = %q (%d runes), want 100 runes ending in .pdf", got, utf8.RuneCountInString(got))
	}
	// A long name with no real extension is simply cut.
	got = blobs.SafeName("x." + strings.Repeat("y", 300))
	if utf8.RuneCountInString(got) != blobs.MaxNameRunes {
		t.Fatalf("SafeName(long extension) has %d runes", utf8.RuneCountInString(got))
	}
}
