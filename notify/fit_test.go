package notify_test

import (
	"strings"
	"testing"

	"zwfw/notify"
	"zwfw/sandbox/wechat"
)

// Every fitted value passes the sandbox's copy of WeChat's keyword rules,
// however long or odd the input.
func TestFitKeywordPassesWeChatRules(t *testing.T) {
	inputs := []string{"", "  ", "个体工商户设立登记（含分支机构）及变更、注销一件事", "已办结（准予许可）",
		"ABC-123_xyz!@#$%^&*()" + strings.Repeat("9", 40), "2026-11-26 09:30", "2026-11-26", "2026-11-26T09:30:00+08:00",
		"¥12.50", "12345678901234.567", "粤A8Z888挂", "粤A-8Z888挂超长ABCDEFG", "张三丰Zhang3", "+86-0766-66888866-12345",
		"no digits here", "😀😀😀", "办理中"}
	keys := []string{"thing1", "short_thing2", "number3", "letter4", "symbol5", "character_string6", "time7", "date8",
		"amount9", "phone_number10", "car_number11", "name12", "phrase13"}
	for _, k := range keys {
		for _, in := range inputs {
			out := notify.FitKeyword(k, in)
			if err := wechat.ValidateField(k, out); err != nil {
				t.Errorf("FitKeyword(%q, %q) = %q: %v", k, in, out, err)
			}
		}
	}
	// Values that already fit are kept as they are.
	for k, v := range map[string]string{"thing1": "市民中心政务服务大厅", "time2": "2026-11-26 09:30", "amount3": "¥50.00", "phrase4": "已受理"} {
		if got := notify.FitKeyword(k, v); got != v {
			t.Errorf("FitKeyword(%q, %q) = %q, want unchanged", k, v, got)
		}
	}
}
