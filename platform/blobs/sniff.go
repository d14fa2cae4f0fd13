// Package blobs stores uploaded application materials (申请材料) durably in
// GridFS: PDF, JPEG and PNG files only, recognised by their content, never by
// the name or Content-Type the client sent.
package blobs

import (
	"bytes"

	"zwfw/apperr"
)

// Kind is the content type of a stored material, as a MIME type.
type Kind string

// The accepted kinds of material.
const (
	KindPDF  Kind = "application/pdf"
	KindJPEG Kind = "image/jpeg"
	KindPNG  Kind = "image/png"
)

// Extension returns the usual file extension for k, with the dot.
func (k Kind) Extension() string {
	switch k {
	case KindPDF:
		return ".pdf"
	case KindJPEG:
		return ".jpg"
	case KindPNG:
		return ".png"
	}
	return ""
}

// Errors about the content of an upload.
var (
	ErrUnsupportedType = apperr.New(apperr.KindInvalid, "MATERIAL_TYPE_UNSUPPORTED", "仅支持 PDF、JPG、PNG 格式的文件")
	ErrCorruptFile     = apperr.New(apperr.KindInvalid, "MATERIAL_FILE_CORRUPT", "文件已损坏或不完整，请重新上传")
)

// HeadSize is how many leading bytes SniffHead needs at most.
const HeadSize = 512

// tailSize is how far from the end the end-of-file marker may sit. The PDF
// reference lets readers look for %%EOF in the last 1024 bytes, so writers
// that append a few bytes of whitespace or padding still pass.
const tailSize = 1024

var (
	magicPDF  = []byte("%PDF-")
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicPNG  = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}

	pdfEOF  = []byte("%%EOF")
	jpegEOI = []byte{0xFF, 0xD9}
	// The IEND chunk is always empty, so its length, type and CRC are fixed.
	pngIEND = []byte{0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82}
)

// Sniff decides the kind of a whole file held in memory and checks that it
// is plausibly complete. Put applies the same checks while streaming.
func Sniff(data []byte) (Kind, error) {
	kind, err := SniffHead(data)
	if err != nil {
		return "", err
	}
	tail := data
	if len(tail) > tailSize {
		tail = tail[len(tail)-tailSize:]
	}
	if err := checkTail(kind, tail, int64(len(data))); err != nil {
		return "", err
	}
	return kind, nil
}

// SniffHead decides the kind from the first bytes of a file (HeadSize is
// enough) by their magic numbers alone. It lets a caller refuse an upload
// early; it does not prove the file is complete.
func SniffHead(head []byte) (Kind, error) {
	switch {
	case bytes.HasPrefix(head, magicPDF):
		return KindPDF, nil
	case bytes.HasPrefix(head, magicJPEG):
		return KindJPEG, nil
	case bytes.HasPrefix(head, magicPNG):
		// Every PNG starts with an IHDR chunk right after the signature.
		if len(head) >= 16 && !bytes.Equal(head[12:16], []byte("IHDR")) {
			return "", ErrCorruptFile
		}
		return KindPNG, nil
	}
	return "", ErrUnsupportedType
}

// checkTail checks the end of a file of the given kind and total size; tail
// is its last bytes (up to tailSize).
func checkTail(kind Kind, tail []byte, size int64) error {
	switch kind {
	case KindPDF:
		// %%EOF anywhere in the last KiB, after the header.
		if size >= int64(len(magicPDF)+len(pdfEOF)) && bytes.Contains(tail, pdfEOF) {
			return nil
		}
	case KindJPEG:
		// EOI marker last, ignoring padding some scanners add.
		t := trimPadding(tail)
		if size >= int64(len(magicJPEG)+len(jpegEOI)) && bytes.HasSuffix(t, jpegEOI) {
			return nil
		}
	case KindPNG:
		// Signature, IHDR (25 bytes) and IEND at the very least.
		t := trimPadding(tail)
		if size >= int64(len(magicPNG)+25+len(pngIEND)) && bytes.HasSuffix(t, pngIEND) {
			return nil
		}
	default:
		return ErrUnsupportedType
	}
	return ErrCorruptFile
}

// trimPadding drops trailing NUL and whitespace bytes.
func trimPadding(b []byte) []byte {
	return bytes.TrimRight(b, "\x00\r\n\t ")
}
