package pii

import (
	"strings"
	"testing"
	"unicode/utf8"
)

type maskCase struct{ in, want string }

func runMaskCases(t *testing.T, name string, mask func(string) string, tests []maskCase) {
	t.Helper()
	for _, tt := range tests {
		got := mask(tt.in)
		if got != tt.want {
			t.Errorf("%s(%q) = %q, want %q", name, tt.in, got, tt.want)
		}
		if utf8.RuneCountInString(got) != utf8.RuneCountInString(tt.in) {
			t.Errorf("%s(%q) = %q changes the length in runes", name, tt.in, got)
		}
	}
}

func TestMaskIDNumber(t *testing.T) {
	runMaskCases(t, "MaskIDNumber", MaskIDNumber, []maskCase{
		{"110101199003071234", "110***********1234"},
		{"11010519491231002X", "110***********002X"},
		{"110105491231002", "110********1002"}, // old 15-digit number
		{"", ""},
		{"1", "*"},
		{"1101011990", "**********"},         // too short for the pattern: all hidden
		{"11010119900307", "**************"}, // 14 runes: still too short
		{"110101199003071234567", "110**************4567"},
		{"身份证号码一二三四五六七八九十壹贰叁", "身份证***********十壹贰叁"}, // counted in runes, not bytes
	})
}

func TestMaskPhone(t *testing.T) {
	runMaskCases(t, "MaskPhone", MaskPhone, []maskCase{
		{"13812345678", "138****5678"},
		{"+8613812345678", "+86*******5678"},
		{"", ""},
		{"1", "*"},
		{"1381234", "*******"},
		{"1381234567", "**********"}, // 10 digits: all hidden rather than 7 of 10 shown
		{"一二三四五六七八九十壹", "一二三****八九十壹"},
	})
}

func TestMaskUSCC(t *testing.T) {
	runMaskCases(t, "MaskUSCC", MaskUSCC, []maskCase{
		{"91350100M000100Y43", "9135**********0Y43"},
		{"", ""},
		{"9135", "****"},
		{"91350100M", "*********"}, // 9 characters, e.g. an old organization code
		{"91350100M000100Y4", "*****************"}, // 17
	})
}

func TestMaskName(t *testing.T) {
	runMaskCases(t, "MaskName", MaskName, []maskCase{
		{"张三", "张*"},
		{"欧阳娜娜", "欧***"},
		{"李小龙", "李**"},
		{"阿卜杜热合曼·买买提", "阿*********"},
		{"张", "*"}, // a single character would be the whole name
		{"", ""},
		{"John Smith", "J*********"},
		{"😀😀", "😀*"},
	})
}

func TestMaskAddress(t *testing.T) {
	runMaskCases(t, "MaskAddress", MaskAddress, []maskCase{
		{"北京市朝阳区建国路88号", "北京市朝阳区******"},
		{"福建省福州市鼓楼区五四路1号", "福建省福州市********"},
		{"朝阳区建国路", "朝阳区***"}, // 6 runes: at most half shown
		{"建国路1号", "建国***"},   // 5 runes: 2 shown
		{"一号", "一*"},
		{"院", "*"},
		{"", ""},
		{"1 Main Street, Springfield", "1 Main********************"},
	})
}

// Invalid UTF-8 never panics and still keeps one output rune per input rune.
func TestMasksOnInvalidUTF8(t *testing.T) {
	inputs := []string{"\xff", "\xff\xfe\xfd", "张\xff三", strings.Repeat("\xe5", 20), "138\x001234\xff678"}
	masks := map[string]func(string) string{
		"MaskIDNumber": MaskIDNumber, "MaskPhone": MaskPhone, "MaskUSCC": MaskUSCC,
		"MaskName": MaskName, "MaskAddress": MaskAddress,
	}
	for name, mask := range masks {
		for _, in := range inputs {
			got := mask(in)
			if utf8.RuneCountInString(got) != utf8.RuneCountInString(in) {
				t.Errorf("%s(%q) = %q changes the length in runes", name, in, got)
			}
			if !utf8.ValidString(got) {
				t.Errorf("%s(%q) = %q is not valid UTF-8", name, in, got)
			}
		}
	}
}
