package alipay

import (
	"net/url"
	"time"
)

// shanghai is Alipay's time zone: every time it writes is GMT+8.
var shanghai = loadShanghai()

func loadShanghai() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600) // no tz database; Asia/Shanghai has no DST, so this is exact
}

const (
	timeLayout = "2006-01-02 15:04:05"
	dateLayout = "2006-01-02"
)

// parseTime reads an Alipay time ("2006-01-02 15:04:05", gmt_refund also
// with ".000"); zero for "" or garbage, which callers treat as "not given".
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{timeLayout, "2006-01-02 15:04:05.000", "2006-01-02 15:04:05.0"} {
		if t, err := time.ParseInLocation(layout, s, shanghai); err == nil {
			return t
		}
	}
	return time.Time{}
}

// attach decodes passback_params, which zwfw sends URL-encoded as Alipay
// requires; a value that does not decode is returned as it is.
func attach(s string) string {
	if v, err := url.QueryUnescape(s); err == nil {
		return v
	}
	return s
}
