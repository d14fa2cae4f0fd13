package logistics

import (
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"zwfw/apperr"
)

// Division is one administrative division of GB/T 2260.
type Division struct {
	Code  string // six digits, e.g. 350102
	Name  string // official name, e.g. 鼓楼区
	Level int    // 1 province, 2 prefecture (city), 3 county (district)
}

// division is a node of the parsed table.
type division struct {
	Division
	parent   *division
	children map[string]*division // by official name and unambiguous aliases
	listed   bool                 // the table lists this division's children
}

// divisions is the parsed divisionTable.
type divisions struct {
	provinces map[string]*division // by name and alias
	byCode    map[string]*division
}

var (
	divisionsOnce sync.Once
	divisionIndex divisions
)

// table parses divisionTable once.
func table() *divisions {
	divisionsOnce.Do(func() { divisionIndex = parseDivisions(divisionTable) })
	return &divisionIndex
}

// parseDivisions reads the indented "code name|alias" lines. The table is
// compiled in, so a malformed line is a programming error: it panics at
// the first use, which every test of the package reaches.
func parseDivisions(src string) divisions {
	d := divisions{provinces: map[string]*division{}, byCode: map[string]*division{}}
	var stack [3]*division
	for _, line := range strings.Split(src, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		level := len(line) - len(strings.TrimLeft(line, " ")) + 1
		code, names, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || level > 3 || !divisionCode.MatchString(code) || d.byCode[code] != nil {
			panic("logistics: bad division line " + line)
		}
		parts := strings.Split(names, "|")
		n := &division{Division: Division{Code: code, Name: parts[0], Level: level}, children: map[string]*division{}}
		d.byCode[code] = n
		siblings := d.provinces
		if level > 1 {
			n.parent = stack[level-2]
			if n.parent == nil || n.parent.Code[:2] != code[:2] {
				panic("logistics: division without its parent: " + line)
			}
			n.parent.listed = true
			siblings = n.parent.children
		}
		stack[level-1] = n
		for i := level; i < 3; i++ {
			stack[i] = nil
		}
		addName(siblings, parts[0], n, true)
		for _, alias := range parts[1:] {
			addName(siblings, alias, n, true)
		}
	}
	// Short forms (福建, 福州, 鼓楼) second, so they never shadow a full name;
	// one that two siblings share is dropped rather than guessed.
	addShort := func(siblings map[string]*division) {
		taken := map[string]*division{}
		clash := map[string]bool{}
		for _, n := range siblings {
			if s := shortName(n.Name, n.Level); s != "" {
				if other, ok := taken[s]; ok && other != n {
					clash[s] = true
				}
				taken[s] = n
			}
		}
		for s, n := range taken {
			if !clash[s] {
				addName(siblings, s, n, false)
			}
		}
	}
	addShort(d.provinces)
	for _, n := range d.byCode {
		addShort(n.children)
	}
	return d
}

// addName registers name for n among its siblings; an official name (or
// listed alias) wins over a short form.
func addName(siblings map[string]*division, name string, n *division, official bool) {
	if _, exists := siblings[name]; exists && !official {
		return
	}
	siblings[name] = n
}

// shortSuffixes are the generic endings people leave out (福建 for 福建省).
var shortSuffixes = [...][]string{
	{"维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"},
	{"地区", "盟", "市"},
	{"新区", "区", "县", "市"},
}

// shortName is n's name without its generic ending, or "" when what is
// left would be a single character (a name such as 城区 has no short form).
func shortName(name string, level int) string {
	for _, suf := range shortSuffixes[level-1] {
		if s, ok := strings.CutSuffix(name, suf); ok {
			if utf8.RuneCountInString(s) < 2 {
				return ""
			}
			return s
		}
	}
	return ""
}

var divisionCode = regexp.MustCompile(`^[1-9][0-9]{5}$`)

// DivisionByCode returns the division with the code, if the table has it.
func DivisionByCode(code string) (Division, bool) {
	n, ok := table().byCode[code]
	if !ok {
		return Division{}, false
	}
	return n.Division, true
}

// ResolveDivision finds the most precise division code of a province, city
// and district, given by official name (福建省 福州市 鼓楼区) or a common
// short form (福建 福州 鼓楼). Where the table lists a city's districts the
// district must be one of them and its code is returned; where it lists
// the city only, any non-empty district is accepted and the city's code is
// returned. ok is false when the three do not name divisions that exist
// and belong together.
func ResolveDivision(province, city, district string) (code string, ok bool) {
	r := resolve(province, city, district)
	if r.field != "" {
		return "", false
	}
	return r.code, true
}

// resolution is what resolve found, or the first field that failed.
type resolution struct {
	province, city, district *division // district nil when the table has no districts for city
	code                     string
	field                    string // "" when resolved
}

func resolve(province, city, district string) resolution {
	province, city, district = strings.TrimSpace(province), strings.TrimSpace(city), strings.TrimSpace(district)
	p := table().provinces[province]
	if p == nil {
		return resolution{field: "province"}
	}
	c := p.children[city]
	if c == nil {
		return resolution{province: p, field: "city"}
	}
	if !c.listed {
		if district == "" {
			return resolution{province: p, city: c, field: "district"}
		}
		return resolution{province: p, city: c, code: c.Code}
	}
	d := c.children[district]
	if d == nil {
		return resolution{province: p, city: c, field: "district"}
	}
	return resolution{province: p, city: c, district: d, code: d.Code}
}

// divisionErrors checks that the address names real divisions that belong
// together and that DivisionCode, when given, is theirs. Fields already
// reported missing or malformed are not reported again.
func (a Address) divisionErrors(reported map[string]bool) []apperr.FieldError {
	var errs []apperr.FieldError
	if a.DivisionCode != "" && !divisionCode.MatchString(a.DivisionCode) {
		errs = append(errs, apperr.Field("division_code", "INVALID_DIVISION_CODE", "行政区划代码应为6位数字"))
	}
	if reported["province"] || reported["city"] || reported["district"] {
		return errs
	}
	r := resolve(a.Province, a.City, a.District)
	switch r.field {
	case "province":
		return append(errs, apperr.Field("province", "UNKNOWN_DIVISION", "省份不存在，请从列表中选择"))
	case "city":
		return append(errs, apperr.Field("city", "DIVISION_MISMATCH", "所选城市不属于"+r.province.Name))
	case "district":
		return append(errs, apperr.Field("district", "DIVISION_MISMATCH", "所选区县不属于"+r.city.Name))
	}
	if a.DivisionCode != "" && divisionCode.MatchString(a.DivisionCode) && !r.accepts(a.DivisionCode) {
		errs = append(errs, apperr.Field("division_code", "DIVISION_MISMATCH", "行政区划代码与所选省市区不一致"))
	}
	return errs
}

// accepts reports whether a client's division code fits the resolution:
// equal to the district's code; or, where the table stops at the city,
// within the city's province and not inside another city the table knows.
func (r resolution) accepts(code string) bool {
	if r.district != nil {
		return code == r.district.Code
	}
	if code == r.city.Code {
		return true
	}
	if code[:2] != r.province.Code[:2] {
		return false
	}
	if known, ok := table().byCode[code]; ok {
		for n := known; n != nil; n = n.parent {
			if n == r.city {
				return true
			}
		}
		return false
	}
	owner, ok := table().byCode[code[:4]+"00"]
	return !ok || owner == r.city
}

// Canonical returns the address with official division names and its
// DivisionCode filled in when the divisions resolve (福建 → 福建省); it is
// returned unchanged otherwise. Call it after Validate.
func (a Address) Canonical() Address {
	r := resolve(a.Province, a.City, a.District)
	if r.field != "" {
		return a
	}
	a.Province, a.City = r.province.Name, r.city.Name
	if r.district != nil {
		a.District = r.district.Name
		a.DivisionCode = r.district.Code
	} else {
		a.District = strings.TrimSpace(a.District)
		if a.DivisionCode == "" {
			a.DivisionCode = r.city.Code
		}
	}
	return a
}
