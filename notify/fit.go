package notify

import (
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// WeChat refuses a whole subscribe message (47003) when one keyword value
// breaks its type's rule, so every value is fitted before sending: a
// reminder with a shortened item name is better than none. The limits are
// those of the subscribeMessage.send documentation (and of the sandbox's
// ValidateField, which the tests check FitKeyword against).

// FitKeyword returns value made acceptable for the template keyword key
// (<type><n>, e.g. thing1): cut to the type's length, stripped of characters
// the type does not allow, and never empty. Unknown types are cut to 20.
func FitKeyword(key, value string) string {
	typ := strings.TrimRight(key, "0123456789")
	value = strings.TrimSpace(value)
	switch typ {
	case "thing":
		return orDash(cut(value, 20))
	case "short_thing":
		return orDash(cut(value, 5))
	case "number":
		return fitNumber(value)
	case "letter":
		return orDefault(cut(keep(value, func(r rune) bool { return r < unicode.MaxASCII && unicode.IsLetter(r) }), 32), "A")
	case "symbol":
		return orDefault(cut(keep(value, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) }), 5), "-")
	case "character_string":
		return orDefault(cutRaw(keep(value, func(r rune) bool { return r > ' ' && r < unicode.MaxASCII }), 32), "-")
	case "time":
		return fitTime(value, true)
	case "date":
		return fitTime(value, false)
	case "amount":
		return fitAmount(value)
	case "phone_number":
		return orDefault(cutRaw(keep(value, func(r rune) bool { return r >= '0' && r <= '9' || strings.ContainsRune("+-()#*", r) }), 17), "-")
	case "car_number":
		return fitCarNumber(value)
	case "name":
		return fitName(value)
	case "phrase":
		return orDefault(cutRaw(keep(value, isHan), 5), "通知")
	default:
		return orDash(cut(value, 20))
	}
}

// cut shortens s to at most n characters, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// cutRaw shortens s to at most n characters without a mark (types whose
// alphabet has no "…").
func cutRaw(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

func keep(s string, ok func(rune) bool) string {
	return strings.Map(func(r rune) rune {
		if ok(r) {
			return r
		}
		return -1
	}, s)
}

func orDash(s string) string { return orDefault(s, "-") }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

var numberPattern = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)

func fitNumber(v string) string {
	m := numberPattern.FindString(v)
	if m == "" {
		return "0"
	}
	if len(m) > 32 {
		m = strings.TrimRight(m[:32], ".")
	}
	return m
}

var amountPattern = regexp.MustCompile(`^[¥￥$€£]?[0-9]{1,10}(\.[0-9]{1,2})?元?$`)

func fitAmount(v string) string {
	if amountPattern.MatchString(v) {
		return v
	}
	m := numberPattern.FindString(v)
	if m == "" {
		return "¥0"
	}
	intPart, frac, _ := strings.Cut(m, ".")
	if len(intPart) > 10 {
		intPart = intPart[len(intPart)-10:]
	}
	if len(frac) > 2 {
		frac = frac[:2]
	}
	if frac != "" {
		return "¥" + intPart + "." + frac
	}
	return "¥" + intPart
}

// Layouts a fitted time/date keyword may already be in; anything else is
// reformatted from a parse of the common ones.
var (
	timeOut = "2006-01-02 15:04"
	dateOut = "2006-01-02"
	parseIn = []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02", "2006年1月2日 15:04", "2006年1月2日", "15:04"}
)

func fitTime(v string, needTime bool) string {
	for _, l := range parseIn {
		t, err := time.ParseInLocation(l, v, shanghai)
		if err != nil {
			continue
		}
		switch {
		case l == "15:04":
			if needTime {
				return v
			}
			continue // a date keyword needs a date, which a time of day lacks
		case needTime:
			return t.In(shanghai).Format(timeOut)
		case l == time.RFC3339:
			return t.In(shanghai).Format(dateOut)
		case strings.Contains(l, "15"):
			return t.Format(timeOut)
		default:
			return t.Format(dateOut)
		}
	}
	// Not a time at all: a placeholder the type accepts beats a refused message.
	if needTime {
		return "00:00"
	}
	return "2000-01-01"
}

func fitCarNumber(v string) string {
	rs := []rune(v)
	out := make([]rune, 0, 8)
	for i, r := range rs {
		edge := i == 0 || i == len(rs)-1
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) || edge && isHan(r) {
			out = append(out, r)
		}
	}
	if len(out) > 8 {
		out = out[:8]
	}
	// A Han character may now sit in the middle; keep it only at the ends.
	for i := 1; i < len(out)-1; i++ {
		if isHan(out[i]) {
			out = append(out[:i], out[i+1:]...)
			i--
		}
	}
	return orDefault(string(out), "无")
}

func fitName(v string) string {
	v = keep(v, func(r rune) bool {
		return isHan(r) || !unicode.IsDigit(r) && (unicode.IsLetter(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || r == ' ')
	})
	limit := 20
	if strings.IndexFunc(v, isHan) >= 0 {
		limit = 10
	}
	return orDefault(strings.TrimSpace(cutRaw(v, limit)), "用户")
}

// shanghai is where times are shown and computed.
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

// fitSMSParam cuts an SMS variable to the 35 characters an Aliyun
// notification template allows, and never leaves it empty (the gateway
// refuses empty variables).
func fitSMSParam(v string) string { return orDash(cut(strings.TrimSpace(v), maxSMSParam)) }

// maxSMSParam is the length limit of an Aliyun notification template's variable.
const maxSMSParam = 35
