package wechat_test

import (
	"strings"
	"testing"

	"zwfw/sandbox/wechat"
)

func TestValidateField(t *testing.T) {
	valid := map[string][]string{
		"thing1":            {"户籍迁移", strings.Repeat("办", 20), "A-1 (二楼)"},
		"short_thing2":      {"已受理", "12345"},
		"number3":           {"42", "3.14", strings.Repeat("9", 32)},
		"letter4":           {"abcXYZ"},
		"symbol5":           {"#", "-+*"},
		"character_string6": {"YY20260302-0001", "A_b.c/d"},
		"time7":             {"15:01", "2019年10月1日 15:01", "2026-03-02 10:00:00", "09:00~10:30", "2026年3月2日 09:00 ~ 2026年3月2日 10:30"},
		"date8":             {"2019年10月1日", "2026-03-02", "2026/3/2 15:04", "2026-03-02~2026-03-05"},
		"amount9":           {"¥100", "￥88.50", "100元", "1234567890"},
		"phone_number10":    {"+86-0766-66888866", "13800138000", "12345"},
		"car_number11":      {"粤A8Z888挂", "粤B12345", "AB12345"},
		"name12":            {"张三", "欧阳娜娜", "Zhang San", "Mary-Jane", "张三Li"},
		"phrase13":          {"配送中", "待办理"},
	}
	for key, values := range valid {
		for _, v := range values {
			if err := wechat.ValidateField(key, v); err != nil {
				t.Errorf("%s=%q refused: %v", key, v, err)
			}
		}
	}
	invalid := map[string][]string{
		"thing1":            {"", strings.Repeat("办", 21)},
		"short_thing2":      {"审核未通过了"},
		"number3":           {"-1", "1e5", "1,000", strings.Repeat("9", 33)},
		"letter4":           {"abc1"},
		"symbol5":           {"a", "######"},
		"character_string6": {"有中文", "has space", strings.Repeat("x", 33)},
		"time7":             {"2026-03-02", "25:00", "10:00~11:00~12:00", "tomorrow"},
		"date8":             {"15:01", "2026-13-01", "03/02/2026"},
		"amount9":           {"¥", "12345678901", "100.123", "USD100"},
		"phone_number10":    {"138-0013-8000-12345", "tel:110"},
		"car_number11":      {"粤A8Z888挂X", "粤-A8Z88", "A粤8888"},
		"name12":            {"张3", strings.Repeat("张", 11), strings.Repeat("a", 21)},
		"phrase13":          {"delivered", "正在派送中啦", "第1次"},
		"thing":             {"no keyword number"},
		"remark1":           {"unknown type"},
	}
	for key, values := range invalid {
		for _, v := range values {
			if err := wechat.ValidateField(key, v); err == nil {
				t.Errorf("%s=%q accepted", key, v)
			}
		}
	}
}
