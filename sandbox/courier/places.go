package courier

import (
	"strings"
	"unicode/utf8"
)

// place is the part of an address the track texts name: province, city
// and district, parsed from a one-line address as Kuaidi100 receives it
// (sendManPrintAddr "福建省福州市鼓楼区八一七北路68号").
type place struct {
	Province string `json:"province,omitempty"`
	City     string `json:"city"`
	District string `json:"district,omitempty"`
}

// provinces are the provincial-level divisions; municipalities are their
// own city.
var provinces = []struct {
	full, short  string
	municipality bool
}{
	{"北京市", "北京", true}, {"天津市", "天津", true}, {"上海市", "上海", true}, {"重庆市", "重庆", true},
	{"河北省", "河北", false}, {"山西省", "山西", false}, {"辽宁省", "辽宁", false}, {"吉林省", "吉林", false},
	{"黑龙江省", "黑龙江", false}, {"江苏省", "江苏", false}, {"浙江省", "浙江", false}, {"安徽省", "安徽", false},
	{"福建省", "福建", false}, {"江西省", "江西", false}, {"山东省", "山东", false}, {"河南省", "河南", false},
	{"湖北省", "湖北", false}, {"湖南省", "湖南", false}, {"广东省", "广东", false}, {"海南省", "海南", false},
	{"四川省", "四川", false}, {"贵州省", "贵州", false}, {"云南省", "云南", false}, {"陕西省", "陕西", false},
	{"甘肃省", "甘肃", false}, {"青海省", "青海", false}, {"台湾省", "台湾", false},
	{"内蒙古自治区", "内蒙古", false}, {"广西壮族自治区", "广西", false}, {"西藏自治区", "西藏", false},
	{"宁夏回族自治区", "宁夏", false}, {"新疆维吾尔自治区", "新疆", false},
	{"香港特别行政区", "香港", true}, {"澳门特别行政区", "澳门", true},
}

// cityCodes are GB/T 2260 codes of the cities the demo uses most, for
// Kuaidi100's areaCode ("CN" + 12 digits). Other cities get no areaCode.
var cityCodes = map[string]string{
	"福州市": "350100", "厦门市": "350200", "莆田市": "350300", "三明市": "350400", "泉州市": "350500",
	"漳州市": "350600", "南平市": "350700", "龙岩市": "350800", "宁德市": "350900",
	"北京市": "110000", "天津市": "120000", "上海市": "310000", "重庆市": "500000",
	"广州市": "440100", "深圳市": "440300", "杭州市": "330100", "南京市": "320100",
	"武汉市": "420100", "成都市": "510100", "西安市": "610100", "南昌市": "360100",
}

// parsePlace reads province, city and district off the front of a
// one-line address; what it cannot find stays empty.
func parsePlace(addr string) place {
	rest := strings.TrimSpace(addr)
	var p place
	for _, pr := range provinces {
		var ok bool
		if rest, ok = cutEither(rest, pr.full, pr.short); !ok {
			continue
		}
		p.Province = pr.full
		if pr.municipality {
			p.City = pr.full
			rest, _ = cutEither(rest, pr.full, "市辖区")
		}
		break
	}
	if p.City == "" {
		p.City, rest = cutUnit(rest, 12, "自治州", "地区", "盟", "市")
	}
	p.District, _ = cutUnit(rest, 8, "区", "县", "旗", "市")
	return p
}

// cutEither removes prefix a, else prefix b, from s.
func cutEither(s, a, b string) (string, bool) {
	if r, ok := strings.CutPrefix(s, a); ok {
		return r, true
	}
	return strings.CutPrefix(s, b)
}

// cutUnit takes the shortest head of s (under maxRunes) that ends in one
// of the unit words and has at least one rune before it.
func cutUnit(s string, maxRunes int, units ...string) (head, rest string) {
	_, first := utf8.DecodeRuneInString(s)
	best := -1
	for _, u := range units {
		i := strings.Index(s[first:], u)
		if i < 0 {
			continue
		}
		end := first + i + len(u)
		if utf8.RuneCountInString(s[:end]) > maxRunes {
			continue
		}
		if best < 0 || end < best {
			best = end
		}
	}
	if best < 0 {
		return "", s
	}
	return s[:best], s[best:]
}

// cityName is the city as track texts write it, with a fallback.
func (p place) cityName() string {
	switch {
	case p.City != "":
		return p.City
	case p.Province != "":
		return p.Province
	default:
		return "本地"
	}
}

// short drops an administrative suffix: 福州市 → 福州, 鼓楼区 → 鼓楼.
func short(name string) string {
	for _, suf := range []string{"特别行政区", "自治州", "地区", "市", "区", "县", "旗", "盟"} {
		if r, ok := strings.CutSuffix(name, suf); ok && utf8.RuneCountInString(r) >= 2 {
			return r
		}
	}
	return name
}

// areaName is Kuaidi100's areaName: "福建,福州市", or "北京" for a municipality.
func (p place) areaName() string {
	city := p.cityName()
	if p.Province == "" || p.Province == p.City {
		return short(city)
	}
	return provinceShort(p.Province) + "," + city
}

// provinceShort is a province's short name: 福建省 → 福建, 广西壮族自治区 → 广西.
func provinceShort(full string) string {
	for _, pr := range provinces {
		if pr.full == full {
			return pr.short
		}
	}
	return full
}

// areaCode is Kuaidi100's areaCode for the city, "" when unknown.
func (p place) areaCode() string {
	if c, ok := cityCodes[p.City]; ok {
		return "CN" + c + "000000"
	}
	return ""
}

// hub names the sorting centre of the place: 福州鼓楼集散中心, or 福州转运中心
// when the district is unknown.
func (p place) hub() string {
	if p.District != "" {
		return short(p.cityName()) + short(p.District) + "集散中心"
	}
	return short(p.cityName()) + "转运中心"
}

// outlet names the delivery outlet of the place: 厦门思明营业部.
func (p place) outlet() string {
	if p.District != "" {
		return short(p.cityName()) + short(p.District) + "营业部"
	}
	return short(p.cityName()) + "市区营业部"
}
