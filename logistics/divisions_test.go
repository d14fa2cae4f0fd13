package logistics

import (
	"strings"
	"testing"
)

func TestResolveDivision(t *testing.T) {
	cases := []struct {
		name                     string
		province, city, district string
		code                     string
		ok                       bool
	}{
		{"fuzhou district", "福建省", "福州市", "鼓楼区", "350102", true},
		{"fuzhou county", "福建省", "福州市", "闽侯县", "350121", true},
		{"county-level city", "福建省", "福州市", "福清市", "350181", true},
		{"changle became a district", "福建省", "福州市", "长乐区", "350112", true},
		{"xiamen", "福建省", "厦门市", "思明区", "350203", true},
		{"sanming merged district", "福建省", "三明市", "三元区", "350404", true},
		{"shaxian district", "福建省", "三明市", "沙县区", "350405", true},
		{"abolished meilie", "福建省", "三明市", "梅列区", "", false},
		{"longhai district", "福建省", "漳州市", "龙海区", "350604", true},
		{"jinmen county", "福建省", "泉州市", "金门县", "350527", true},
		{"short forms", "福建", "福州", "鼓楼", "350102", true},
		{"spaces", " 福建省 ", "福州市 ", " 鼓楼区", "350102", true},
		{"district of another city", "福建省", "福州市", "思明区", "", false},
		{"same name elsewhere", "江苏省", "南京市", "鼓楼区", "320100", true},
		{"city of another province", "福建省", "南京市", "鼓楼区", "", false},
		{"unknown province", "福建", "福州市", "", "", false},
		{"no such province", "火星省", "福州市", "鼓楼区", "", false},
		{"city-only province accepts any district", "浙江省", "杭州市", "西湖区", "330100", true},
		{"city-only province needs a district", "浙江省", "杭州市", "", "", false},
		{"autonomous region", "广西壮族自治区", "桂林市", "秀峰区", "450300", true},
		{"autonomous region short", "广西", "桂林", "秀峰区", "450300", true},
		{"prefecture", "吉林省", "延边朝鲜族自治州", "延吉市", "222400", true},
		{"province-administered city", "湖北省", "仙桃市", "仙桃市", "429004", true},
		{"municipality written twice", "北京市", "北京市", "朝阳区", "110105", true},
		{"municipality with 市辖区", "上海市", "市辖区", "浦东新区", "310115", true},
		{"municipality short district", "上海", "上海", "浦东", "310115", true},
		{"municipality wrong district", "北京市", "北京市", "浦东新区", "", false},
		{"chongqing city level", "重庆市", "重庆市", "渝中区", "500100", true},
		{"laiwu merged into jinan", "山东省", "莱芜市", "莱城区", "", false},
		{"hong kong not served", "香港特别行政区", "香港", "中西区", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, ok := ResolveDivision(c.province, c.city, c.district)
			if ok != c.ok || code != c.code {
				t.Fatalf("ResolveDivision(%q, %q, %q) = %q, %v; want %q, %v", c.province, c.city, c.district, code, ok, c.code, c.ok)
			}
		})
	}
}

func TestDivisionTableIsComplete(t *testing.T) {
	provinces, fujianCities, fujianCounties := 0, 0, 0
	for code, n := range table().byCode {
		switch {
		case n.Level == 1:
			provinces++
		case n.Level == 2 && strings.HasPrefix(code, "35"):
			fujianCities++
		case n.Level == 3 && strings.HasPrefix(code, "35"):
			fujianCounties++
		}
		if n.Level > 1 && n.parent.Code[:2] != code[:2] {
			t.Errorf("%s %s sits under %s", code, n.Name, n.parent.Code)
		}
	}
	// 31 provincial-level divisions of the mainland; Fujian: 9 cities and
	// 84 county-level divisions (2021 list).
	if provinces != 31 || fujianCities != 9 || fujianCounties != 84 {
		t.Fatalf("table has %d provinces, Fujian %d cities and %d counties", provinces, fujianCities, fujianCounties)
	}
	if d, ok := DivisionByCode("350102"); !ok || d.Name != "鼓楼区" || d.Level != 3 {
		t.Fatalf("DivisionByCode(350102) = %+v, %v", d, ok)
	}
}

func TestAddressDivisionValidation(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Address)
		field string // "" = valid
		code  string
	}{
		{"valid", func(*Address) {}, "", ""},
		{"matching code", func(a *Address) { a.DivisionCode = "350102" }, "", ""},
		{"code of another district", func(a *Address) { a.DivisionCode = "350103" }, "division_code", "DIVISION_MISMATCH"},
		{"malformed code", func(a *Address) { a.DivisionCode = "35010X" }, "division_code", "INVALID_DIVISION_CODE"},
		{"unknown province", func(a *Address) { a.Province = "福建州" }, "province", "UNKNOWN_DIVISION"},
		{"city elsewhere", func(a *Address) { a.City = "杭州市" }, "city", "DIVISION_MISMATCH"},
		{"district elsewhere", func(a *Address) { a.District = "思明区" }, "district", "DIVISION_MISMATCH"},
		{"city-only province, code inside the city", func(a *Address) {
			a.Province, a.City, a.District, a.DivisionCode = "浙江省", "杭州市", "西湖区", "330106"
		}, "", ""},
		{"city-only province, code of another city", func(a *Address) {
			a.Province, a.City, a.District, a.DivisionCode = "浙江省", "杭州市", "西湖区", "330206"
		}, "division_code", "DIVISION_MISMATCH"},
		{"city-only province, code of another province", func(a *Address) {
			a.Province, a.City, a.District, a.DivisionCode = "浙江省", "杭州市", "西湖区", "350102"
		}, "division_code", "DIVISION_MISMATCH"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := valid()
			c.edit(&a)
			errs := a.Validate()
			if c.field == "" {
				if len(errs) != 0 {
					t.Fatalf("refused: %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != c.field || errs[0].Code != c.code {
				t.Fatalf("got %v, want one %s error on %s", errs, c.code, c.field)
			}
		})
	}
	// A missing city is reported as missing, not also as a mismatch.
	a := valid()
	a.City = ""
	if errs := a.Validate(); len(errs) != 1 || errs[0].Code != "REQUIRED" {
		t.Fatalf("missing city: %v", errs)
	}
}

func TestCanonical(t *testing.T) {
	a := Address{Name: "张三", Phone: "13800138000", Province: "福建", City: "福州", District: "鼓楼", Detail: "五四路1号"}
	c := a.Canonical()
	if c.Province != "福建省" || c.City != "福州市" || c.District != "鼓楼区" || c.DivisionCode != "350102" {
		t.Fatalf("canonical %+v", c)
	}
	z := Address{Province: "浙江", City: "杭州", District: "西湖区"}.Canonical()
	if z.Province != "浙江省" || z.City != "杭州市" || z.DivisionCode != "330100" {
		t.Fatalf("city-level canonical %+v", z)
	}
	bad := Address{Province: "火星"}
	if bad.Canonical() != bad {
		t.Fatal("an unresolvable address was changed")
	}
}
