package cases

import (
	"fmt"
	"slices"
	"strings"

	"zwfw/apperr"
)

// Reason is a 好差评 reason an applicant may pick: a stable code for
// programs and the words the app and the province show.
type Reason struct {
	Code  string
	Label string
}

// EvaluationLevel is one level of the national 好差评 scale with the
// reasons an applicant may give for it.
type EvaluationLevel struct {
	Level int
	Label string
	// ReasonsRequired: a bad rating (1-2) must say why, so it can be followed up.
	ReasonsRequired bool
	Reasons         []Reason
}

// reasonOther is allowed at every level (with a comment saying what).
var reasonOther = Reason{"other", "其他"}

var (
	goodReasons = []Reason{
		{"process_simple", "办事流程简便"},
		{"fast", "办理速度快"},
		{"guide_clear", "办事指南清晰易懂"},
		{"few_trips", "少跑腿，一次办好"},
		{"staff_helpful", "工作人员服务热情"},
		{"online_convenient", "网上办理方便"},
		reasonOther,
	}
	fairReasons = []Reason{
		{"process_could_simplify", "流程还可以再简化"},
		{"wait_long", "等待时间较长"},
		{"guide_incomplete", "办事指南不够详细"},
		{"online_could_improve", "网上办理有待改进"},
		reasonOther,
	}
	badReasons = []Reason{
		{"process_complex", "办事流程繁琐"},
		{"too_slow", "办理时间过长"},
		{"materials_unclear", "材料要求不清楚"},
		{"many_trips", "多次跑动"},
		{"staff_attitude", "工作人员态度不好"},
		{"system_hard", "系统操作不便"},
		reasonOther,
	}
)

// EvaluationLevels are the levels of the 好差评 scale, best first, each with
// the reasons it accepts (GET /api/v1/evaluation-reasons publishes them).
var EvaluationLevels = []EvaluationLevel{
	{Level: 5, Label: "非常满意", Reasons: goodReasons},
	{Level: 4, Label: "满意", Reasons: goodReasons},
	{Level: 3, Label: "基本满意", Reasons: fairReasons},
	{Level: 2, Label: "不满意", ReasonsRequired: true, Reasons: badReasons},
	{Level: 1, Label: "非常不满意", ReasonsRequired: true, Reasons: badReasons},
}

// evaluationLevel returns the level's rules (false for a level off the scale).
func evaluationLevel(level int) (EvaluationLevel, bool) {
	for _, l := range EvaluationLevels {
		if l.Level == level {
			return l, true
		}
	}
	return EvaluationLevel{}, false
}

// reasonLabel is the words of a reason code ("" for an unknown code).
func reasonLabel(code string) string {
	for _, l := range EvaluationLevels {
		for _, r := range l.Reasons {
			if r.Code == code {
				return r.Label
			}
		}
	}
	return ""
}

// checkReasons lists the problems of reasons for level: a reason the level
// does not take (the error names the ones it takes, in its message and in
// details.allowed_reasons), a repeated one, none on a bad rating.
func checkReasons(lv EvaluationLevel, reasons []string) (fields []apperr.FieldError, allowed []string) {
	var words []string
	for _, r := range lv.Reasons {
		allowed = append(allowed, r.Code)
		words = append(words, fmt.Sprintf("%s（%s）", r.Code, r.Label))
	}
	for i, r := range reasons {
		switch {
		case !slices.Contains(allowed, r):
			fields = append(fields, apperr.Field(fmt.Sprintf("reasons.%d", i), "REASON_NOT_ALLOWED",
				fmt.Sprintf("“%s”不是“%s”可选的原因，可选：%s", r, lv.Label, strings.Join(words, "、"))))
		case slices.Contains(reasons[:i], r):
			fields = append(fields, apperr.Field(fmt.Sprintf("reasons.%d", i), "REASON_REPEATED", "评价原因重复"))
		}
	}
	if lv.ReasonsRequired && len(reasons) == 0 {
		fields = append(fields, apperr.Field("reasons", "REQUIRED",
			fmt.Sprintf("“%s”请至少选择一项原因，以便跟进整改，可选：%s", lv.Label, strings.Join(words, "、"))))
	}
	return fields, allowed
}

// reasonLabels are the words of reason codes, as the province records
// them (a code it does not know is kept as it is).
func reasonLabels(codes []string) []string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		if l := reasonLabel(c); l != "" {
			out = append(out, l)
			continue
		}
		out = append(out, c)
	}
	return out
}
