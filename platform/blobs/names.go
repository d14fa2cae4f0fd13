package blobs

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"zwfw/apperr"
)

// ErrNameInvalid refuses a client file name that tries to be a path.
var ErrNameInvalid = apperr.New(apperr.KindInvalid, "MATERIAL_NAME_INVALID", "文件名不合法，请勿包含路径或特殊字符")

// MaxNameRunes is the longest display name kept, extension included.
const MaxNameRunes = 100

// DefaultName is the display name used when nothing usable is left.
const DefaultName = "材料"

// maxExtRunes bounds what counts as an extension when shortening a name, so
// a name that is one long "extension" is not kept whole.
const maxExtRunes = 10

// ValidateName refuses a client file name that is empty, contains a path
// separator ('/' or '\\'), "..", control or invisible formatting characters,
// invalid UTF-8, or starts with a dot. The HTTP layer should call it and
// refuse such uploads: a client sending "../../etc/passwd" is not a user who
// needs help. Names that are merely long are accepted; Put shortens them.
func ValidateName(name string) error {
	switch {
	case strings.TrimSpace(name) == "",
		!utf8.ValidString(name),
		strings.ContainsAny(name, `/\`),
		strings.Contains(name, ".."),
		strings.HasPrefix(name, "."):
		return ErrNameInvalid
	}
	for _, r := range name {
		if unsafeRune(r) {
			return ErrNameInvalid
		}
	}
	return nil
}

// SafeName turns a client file name into a label that is safe to store and
// show: it keeps only the last path element (splitting on both '/' and '\\'),
// drops control, invisible formatting and invalid characters, collapses "..",
// strips leading dots and surrounding spaces, and shortens the result to
// MaxNameRunes keeping the extension. It never fails: an empty result becomes
// DefaultName. Put always applies it, whether or not the caller validated.
// The name is only a label; storage keys never derive from it.
func SafeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToValidUTF8(name, "")
	name = strings.Map(func(r rune) rune {
		switch {
		case unsafeRune(r):
			return -1
		case strings.ContainsRune(`<>:"|?*`, r):
			// Reserved on Windows; a user saving the file would trip on them.
			return '_'
		}
		return r
	}, name)
	for strings.Contains(name, "..") {
		name = strings.ReplaceAll(name, "..", ".")
	}
	// Leading dots hide files; trailing dots and spaces vanish on Windows.
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	name = strings.TrimRight(strings.TrimSpace(name), ". ")
	name = truncateName(name)
	if name == "" {
		return DefaultName
	}
	return name
}

// unsafeRune reports control characters (NUL, newlines, ...) and invisible
// formatting ones such as U+202E, which can make "exe.pdf" display as "fdp.exe".
func unsafeRune(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// truncateName shortens name to MaxNameRunes, keeping a short extension.
func truncateName(name string) string {
	if utf8.RuneCountInString(name) <= MaxNameRunes {
		return name
	}
	stem, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && utf8.RuneCountInString(name[i:]) <= maxExtRunes {
		stem, ext = name[:i], name[i:]
	}
	keep := MaxNameRunes - utf8.RuneCountInString(ext)
	runes := []rune(stem)
	if len(runes) > keep {
		runes = runes[:keep]
	}
	return strings.TrimRight(string(runes), ". ") + ext
}
