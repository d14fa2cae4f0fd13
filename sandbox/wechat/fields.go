package wechat

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// openIDPattern: openids are 28 characters of base64url.
var openIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{28}$`)

// Subscribe-message template keywords are named <type><n> (thing1, time2,
// ...). WeChat checks each value against its type's rule and refuses the
// whole message with 47003 when one fails. The rules below follow the
// subscribeMessage.send documentation.
var fieldRules = map[string]func(v string) error{
	// thing: up to 20 characters of any kind.
	"thing": maxRunes(20, nil),
	// short_thing: up to 5 characters of any kind.
	"short_thing": maxRunes(5, nil),
	// number: up to 32 digits, decimals allowed.
	"number": all(maxRunes(32, nil), matches(`^[0-9]+(\.[0-9]+)?$`)),
	// letter: up to 32 letters.
	"letter": all(maxRunes(32, nil), matches(`^[A-Za-z]+$`)),
	// symbol: up to 5 symbols.
	"symbol": maxRunes(5, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSymbol(r) }),
	// character_string: up to 32 letters, digits or symbols.
	"character_string": maxRunes(32, func(r rune) bool { return r > ' ' && r < unicode.MaxASCII }),
	// time: 24-hour time, optionally with a date; a range joins two with "~".
	"time": dateTimeRange(false, true),
	// date: a date, optionally with a 24-hour time; a range joins two with "~".
	"date": dateTimeRange(true, false),
	// amount: one currency sign + up to 10 digits, decimals allowed, may end with 元.
	"amount": matches(`^[¥￥$€£]?[0-9]{1,10}(\.[0-9]{1,2})?元?$`),
	// phone_number: up to 17 digits and symbols, e.g. +86-0766-66888866.
	"phone_number": maxRunes(17, func(r rune) bool { return r >= '0' && r <= '9' || strings.ContainsRune("+-()#*", r) }),
	// car_number: up to 8; first and last may be Chinese, the rest letters or digits (粤A8Z888挂).
	"car_number": carNumber,
	// name: up to 10 Chinese characters (mixed with letters counts as Chinese), or up to 20 letters/symbols.
	"name": personName,
	// phrase: up to 5 Chinese characters only (e.g. 配送中).
	"phrase": maxRunes(5, isHan),
}

// ValidateField checks one template keyword value by its key's type. It
// returns an error for an unknown key type too: WeChat template keywords are
// always <type><n>, so anything else is a bug in the sender.
func ValidateField(key, value string) error {
	typ := strings.TrimRight(key, "0123456789")
	if typ == key {
		return fmt.Errorf("data.%s: keyword has no number", key)
	}
	rule, ok := fieldRules[typ]
	if !ok {
		return fmt.Errorf("data.%s: unknown keyword type %q", key, typ)
	}
	if value == "" {
		return fmt.Errorf("data.%s: empty value", key)
	}
	if err := rule(value); err != nil {
		return fmt.Errorf("data.%s: %w", key, err)
	}
	return nil
}

// maxRunes allows 1..n characters, each passing ok (any when nil).
func maxRunes(n int, ok func(rune) bool) func(string) error {
	return func(v string) error {
		if c := utf8.RuneCountInString(v); c > n {
			return fmt.Errorf("%d characters, at most %d", c, n)
		}
		if ok != nil {
			for _, r := range v {
				if !ok(r) {
					return fmt.Errorf("character %q not allowed", r)
				}
			}
		}
		return nil
	}
}

func matches(pattern string) func(string) error {
	re := regexp.MustCompile(pattern)
	return func(v string) error {
		if !re.MatchString(v) {
			return fmt.Errorf("does not match %s", pattern)
		}
		return nil
	}
}

func all(rules ...func(string) error) func(string) error {
	return func(v string) error {
		for _, r := range rules {
			if err := r(v); err != nil {
				return err
			}
		}
		return nil
	}
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

func carNumber(v string) error {
	rs := []rune(v)
	if len(rs) > 8 {
		return fmt.Errorf("%d characters, at most 8", len(rs))
	}
	for i, r := range rs {
		edge := i == 0 || i == len(rs)-1
		alnum := r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))
		if !alnum && !(edge && isHan(r)) {
			return fmt.Errorf("character %q not allowed at %d", r, i)
		}
	}
	return nil
}

func personName(v string) error {
	han := false
	for _, r := range v {
		switch {
		case isHan(r):
			han = true
		case unicode.IsDigit(r):
			return errors.New("digits are not allowed in a name")
		case unicode.IsLetter(r), unicode.IsPunct(r), unicode.IsSymbol(r), r == ' ':
		default:
			return fmt.Errorf("character %q not allowed", r)
		}
	}
	limit := 20
	if han {
		limit = 10
	}
	return maxRunes(limit, nil)(v)
}

// Date and time layouts WeChat accepts (non-padded Go layouts also accept
// zero-padded input: "2006-1-2" parses "2019-10-01").
var (
	dateLayouts = []string{"2006年1月2日", "2006-1-2", "2006/1/2"}
	timeLayouts = []string{"15:04", "15:04:05"}
)

// dateTimeRange accepts one point or "a~b". needDate / needTime say which
// part each point must have.
func dateTimeRange(needDate, needTime bool) func(string) error {
	return func(v string) error {
		parts := strings.Split(v, "~")
		if len(parts) > 2 {
			return errors.New("more than one ~")
		}
		for _, p := range parts {
			hasDate, hasTime, ok := parseDateTime(strings.TrimSpace(p))
			switch {
			case !ok:
				return fmt.Errorf("%q is not a date/time WeChat understands", p)
			case needDate && !hasDate:
				return fmt.Errorf("%q has no date", p)
			case needTime && !hasTime:
				return fmt.Errorf("%q has no time of day", p)
			}
		}
		return nil
	}
}

func parseDateTime(v string) (hasDate, hasTime, ok bool) {
	for _, t := range timeLayouts {
		if _, err := time.Parse(t, v); err == nil {
			return false, true, true
		}
	}
	for _, d := range dateLayouts {
		if _, err := time.Parse(d, v); err == nil {
			return true, false, true
		}
		for _, t := range timeLayouts {
			if _, err := time.Parse(d+" "+t, v); err == nil {
				return true, true, true
			}
		}
	}
	return false, false, false
}
