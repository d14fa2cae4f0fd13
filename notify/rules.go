package notify

import (
	"strings"
	"time"

	"zwfw/links"
)

// Rule ids: stable names that appear in dedup ids and configuration.
const (
	RuleBookingConfirmed   = "booking.confirmed"
	RuleBookingRescheduled = "booking.rescheduled"
	RuleBookingTomorrow    = "booking.tomorrow"
	RuleBookingSoon        = "booking.soon"
	RuleBookingNoShow      = "booking.no_show"
	RuleCaseAccepted       = "case.accepted"
	RuleCaseCompleted      = "case.completed"
	RuleCaseRejected       = "case.rejected"
	RuleCaseSupplement     = "case.supplement"
	RuleCaseReassure       = "case.reassure"
	RuleCaseEvaluate       = "case.evaluate"
	RulePaymentNotice      = "payment.notice"
	RulePaymentDue         = "payment.due"
	RulePaymentPaid        = "payment.paid"
	RulePaymentReceipt     = "payment.receipt"
	RulePaymentRefunded    = "payment.refunded"
	RulePaymentDuplicate   = "payment.duplicate"
	RuleShipmentPickedUp   = "shipment.picked_up"
	RuleShipmentDelivered  = "shipment.delivered"
	RuleShipmentException  = "shipment.exception"
	RuleLicenseExpiry30    = "license.expiry_30"
	RuleLicenseExpiry7     = "license.expiry_7"
	// RuleRectifyReply: a 差评's rectification answers the citizen (rectify.replied).
	RuleRectifyReply = "evaluation.rectify_reply"
)

// WeChatTemplate is a subscribe-message template and how a message's fields
// fill its keywords.
type WeChatTemplate struct {
	// TemplateID is the mini-program's template id (configured per app).
	// The card opens the rule's Link in its mini-program form.
	TemplateID string
	// Keywords maps a template keyword (thing1, time2, ...) to a field name.
	// Values are fitted to the keyword type's limits (see FitKeyword).
	Keywords map[string]string
}

// SMSTemplate is an approved SMS template and how fields fill its variables.
type SMSTemplate struct {
	Code string
	// Params maps a template variable to a field name.
	Params map[string]string
}

// Rule is one kind of reminder: when it fires, what it says and how.
type Rule struct {
	ID   string
	Kind Kind
	// Title and Body are the inbox and push text, with {{field}} placeholders.
	Title, Body string
	// Urgent rules may reach the user during quiet hours by SMS or app push.
	Urgent bool
	// Important rules may fall back to SMS (it costs money and attention).
	Important bool
	// Link is what the message opens, in every channel's form: the WeChat
	// card's page, the app push's scheme URL, the SMS's H5 URL.
	Link   LinkSpec
	WeChat WeChatTemplate
	SMS    SMSTemplate
	// After is the delay of rules scheduled relative to their trigger
	// (case.reassure after acceptance, case.evaluate after completion).
	After time.Duration
	// Disabled rules are not sent.
	Disabled bool
}

// LinkSpec names a message's target and the field that holds its id
// ("" for a target without one, such as the booking list).
type LinkSpec struct {
	Target  links.Target
	IDField string
}

// linkTo is the spec of a link to target whose id is in field.
func linkTo(target links.Target, field string) LinkSpec {
	return LinkSpec{Target: target, IDField: field}
}

// ref is the link of a message with fields.
func (l LinkSpec) ref(fields map[string]string) links.Ref {
	if l.IDField == "" {
		return links.Ref{Target: l.Target}
	}
	return links.To(l.Target, fields[l.IDField])
}

// render fills {{field}} placeholders; unknown fields become empty.
func render(tmpl string, fields map[string]string) string {
	if !strings.Contains(tmpl, "{{") {
		return tmpl
	}
	var b strings.Builder
	for {
		i := strings.Index(tmpl, "{{")
		if i < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		j := strings.Index(tmpl[i:], "}}")
		if j < 0 {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		b.WriteString(fields[strings.TrimSpace(tmpl[i+2:i+j])])
		tmpl = tmpl[i+j+2:]
	}
}

// SMS template codes the reminder rules use by default. The sandbox's SMS
// gateway must know them: see SMSTemplateSpecs.
const (
	SMSBookingReminder  = "SMS_465900101"
	SMSCaseSupplement   = "SMS_465900102"
	SMSCaseResult       = "SMS_465900103"
	SMSPaymentNotice    = "SMS_465900104"
	SMSShipmentProblem  = "SMS_465900105"
	SMSBookingNoShow    = "SMS_465900106"
	SMSLicenseExpiry    = "SMS_465900107"
	SMSBookingConfirmed = "SMS_465900108"
)

// SMSTemplateSpec is an SMS template as the gateway account must hold it
// (Aliyun 短信通知 type: each variable at most 35 characters).
type SMSTemplateSpec struct {
	Code, Name, Content string
}

// SMSLinkParam is the variable of every reminder template that carries the
// H5 link of the message: the path under the H5 base, which the approved
// template text holds (an SMS variable is at most 35 characters).
const SMSLinkParam = "link"

// SMSTemplateSpecs are the templates the default rules send, their texts
// ending with the H5 link under h5Base; register them with the SMS account
// (the sandbox: sms.Options.Templates).
func SMSTemplateSpecs(h5Base string) []SMSTemplateSpec {
	specs := []SMSTemplateSpec{
		{SMSBookingReminder, "预约提醒", "您预约的${item}将于${time}在${hall}办理，请准时到达。"},
		{SMSCaseSupplement, "补正通知", "您的办件${case_number}需补正材料：${materials}，请于${deadline}前提交。"},
		{SMSCaseResult, "办件结果通知", "您的办件${case_number}（${item}）${status}，详情请登录查看。"},
		{SMSPaymentNotice, "缴费通知", "您有一笔${amount}的费用待缴纳，缴款码${payment_code}，请于${due}前缴纳。"},
		{SMSShipmentProblem, "寄递异常通知", "您的邮件${waybill}（${carrier}）出现异常：${note}"},
		{SMSBookingNoShow, "爽约提醒", "您预约的${item}（${time}）未按时到场，${note}"},
		{SMSLicenseExpiry, "证照到期提醒", "您的${license}将于${expires}到期，请及时办理。"},
		{SMSBookingConfirmed, "预约成功通知", "您已预约${item}，时间${time}，地点${hall}。"},
	}
	for i := range specs {
		specs[i].Content += "详情：" + strings.TrimRight(h5Base, "/") + "/${" + SMSLinkParam + "}"
	}
	return specs
}

// DefaultRules returns the rules of issue 8 keyed by id. WeChat template ids
// are the sandbox's; production configuration replaces them (WithTemplateIDs).
func DefaultRules() map[string]Rule {
	bookingKW := map[string]string{"thing1": "item", "time2": "time", "thing3": "hall", "thing4": "note"}
	caseKW := map[string]string{"character_string1": "case_number", "thing2": "item", "phrase3": "status", "thing4": "note"}
	payKW := map[string]string{"character_string1": "payment_code", "amount2": "amount", "date3": "due", "thing4": "agency"}
	paidKW := map[string]string{"character_string1": "payment_code", "amount2": "amount", "phrase3": "status", "thing4": "note"}
	shipKW := map[string]string{"character_string1": "waybill", "thing2": "carrier", "phrase3": "status", "thing4": "note"}
	smsBooking := SMSTemplate{Code: SMSBookingReminder, Params: map[string]string{"item": "item", "time": "time", "hall": "hall"}}
	smsResult := SMSTemplate{Code: SMSCaseResult, Params: map[string]string{"case_number": "case_number", "item": "item", "status": "status_text"}}
	smsPay := SMSTemplate{Code: SMSPaymentNotice, Params: map[string]string{"amount": "amount", "payment_code": "payment_code", "due": "due"}}
	list := []Rule{
		{ID: RuleBookingConfirmed, Kind: KindBooking, Title: "预约成功", Important: true,
			Body: "您已成功预约{{item}}，时间{{time}}，地点{{hall}}。{{note}}",
			Link: linkTo(links.Booking, "booking_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_booking_confirmed", Keywords: bookingKW},
			SMS: SMSTemplate{Code: SMSBookingConfirmed, Params: map[string]string{"item": "item", "time": "time", "hall": "hall"}}},
		{ID: RuleBookingRescheduled, Kind: KindBooking, Title: "预约已改期",
			Body: "您预约的{{item}}已改至{{time}}，地点{{hall}}。",
			Link: linkTo(links.Booking, "booking_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_booking_confirmed", Keywords: bookingKW}},
		{ID: RuleBookingTomorrow, Kind: KindBooking, Title: "明日预约提醒", Important: true,
			Body: "您预约的{{item}}将于{{time}}在{{hall}}办理，请准时到达。{{note}}",
			Link: linkTo(links.Booking, "booking_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_booking_reminder", Keywords: bookingKW},
			SMS: smsBooking},
		{ID: RuleBookingSoon, Kind: KindBooking, Title: "预约即将开始",
			Body: "您预约的{{item}}将于{{time}}开始，请前往{{hall}}取号。",
			Link: linkTo(links.Booking, "booking_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_booking_reminder", Keywords: bookingKW}},
		{ID: RuleBookingNoShow, Kind: KindBooking, Title: "爽约提醒", Important: true,
			Body: "您预约的{{item}}（{{time}}）未按时到场，{{note}}",
			Link: linkTo(links.Bookings, ""), WeChat: WeChatTemplate{TemplateID: "tmpl_booking_noshow", Keywords: map[string]string{"thing1": "item", "time2": "time", "number3": "count", "thing4": "note"}},
			SMS: SMSTemplate{Code: SMSBookingNoShow, Params: map[string]string{"item": "item", "time": "time", "note": "note"}}},
		{ID: RuleCaseAccepted, Kind: KindCase, Title: "办件已受理",
			Body: "您的办件{{case_number}}（{{item}}）已受理，正在审核。",
			Link: linkTo(links.Case, "case_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_case_progress", Keywords: caseKW}},
		{ID: RuleCaseCompleted, Kind: KindCase, Title: "办件已办结", Important: true,
			Body: "您的办件{{case_number}}（{{item}}）{{status_text}}。{{note}}",
			Link: linkTo(links.Case, "case_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_case_progress", Keywords: caseKW},
			SMS: smsResult},
		{ID: RuleCaseRejected, Kind: KindCase, Title: "办件不予受理", Important: true,
			Body: "您的办件{{case_number}}（{{item}}）不予受理。{{note}}",
			Link: linkTo(links.Case, "case_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_case_progress", Keywords: caseKW},
			SMS: smsResult},
		{ID: RuleCaseSupplement, Kind: KindCase, Title: "请补正材料", Urgent: true, Important: true,
			Body: "您的办件{{case_number}}（{{item}}）需补正材料：{{materials}}，请于{{deadline}}前提交。{{note_line}}",
			Link: linkTo(links.Case, "case_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_case_supplement", Keywords: map[string]string{"character_string1": "case_number", "thing2": "materials", "thing3": "deadline", "thing4": "note"}},
			SMS: SMSTemplate{Code: SMSCaseSupplement, Params: map[string]string{"case_number": "case_number", "materials": "materials", "deadline": "deadline"}}},
		{ID: RuleCaseReassure, Kind: KindCase, Title: "办件正在办理", After: 5 * 24 * time.Hour,
			Body: "您的办件{{case_number}}（{{item}}）正在办理，请耐心等待。{{note}}",
			Link: linkTo(links.Case, "case_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_case_progress", Keywords: caseKW}},
		{ID: RuleCaseEvaluate, Kind: KindEvaluation, Title: "邀请您评价", After: 24 * time.Hour,
			Body: "您的办件{{case_number}}（{{item}}）已办结，欢迎对本次服务进行评价。",
			Link: linkTo(links.CaseEvaluate, "case_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_case_evaluate", Keywords: map[string]string{"character_string1": "case_number", "thing2": "item", "thing3": "note"}}},
		{ID: RulePaymentNotice, Kind: KindPayment, Title: "缴费通知", Important: true,
			Body: "您有一笔{{amount}}的费用待缴纳（{{agency}}），缴款码{{payment_code}}，请于{{due}}前缴纳。",
			Link: linkTo(links.Payment, "payment_code"), WeChat: WeChatTemplate{TemplateID: "tmpl_payment_notice", Keywords: payKW},
			SMS: smsPay},
		{ID: RulePaymentDue, Kind: KindPayment, Title: "缴费即将到期", Important: true,
			Body: "您的缴款码{{payment_code}}（{{amount}}）将于{{due}}到期，请及时缴纳。",
			Link: linkTo(links.Payment, "payment_code"), WeChat: WeChatTemplate{TemplateID: "tmpl_payment_notice", Keywords: payKW},
			SMS: smsPay},
		{ID: RulePaymentPaid, Kind: KindPayment, Title: "缴费成功",
			Body: "缴款码{{payment_code}}已缴费{{amount}}。",
			Link: linkTo(links.Payment, "payment_code"), WeChat: WeChatTemplate{TemplateID: "tmpl_payment_result", Keywords: paidKW}},
		{ID: RulePaymentReceipt, Kind: KindPayment, Title: "电子票据已开具",
			Body: "缴款码{{payment_code}}的财政电子票据{{receipt_number}}已开具。",
			Link: linkTo(links.Payment, "payment_code"), WeChat: WeChatTemplate{TemplateID: "tmpl_payment_result", Keywords: paidKW}},
		{ID: RulePaymentRefunded, Kind: KindPayment, Title: "退费成功",
			Body: "缴款码{{payment_code}}已退费{{amount}}。{{note}}",
			Link: linkTo(links.Payment, "payment_code"), WeChat: WeChatTemplate{TemplateID: "tmpl_payment_result", Keywords: paidKW}},
		{ID: RulePaymentDuplicate, Kind: KindPayment, Title: "重复缴费将自动退回", Important: true,
			Body: "缴款码{{payment_code}}收到一笔重复或无需缴纳的付款{{amount}}，系统已自动原路退回，无需您操作。",
			Link: linkTo(links.Payment, "payment_code"), WeChat: WeChatTemplate{TemplateID: "tmpl_payment_result", Keywords: paidKW}},
		{ID: RuleShipmentPickedUp, Kind: KindShipment, Title: "快递已揽收",
			Body: "您的邮件已由{{carrier}}揽收，运单号{{waybill}}。",
			Link: linkTo(links.Shipment, "shipment_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_shipment", Keywords: shipKW}},
		{ID: RuleShipmentDelivered, Kind: KindShipment, Title: "快递已签收",
			Body: "您的邮件（{{carrier}} {{waybill}}）已签收。",
			Link: linkTo(links.Shipment, "shipment_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_shipment", Keywords: shipKW}},
		{ID: RuleShipmentException, Kind: KindShipment, Title: "快递异常", Urgent: true, Important: true,
			Body: "您的邮件（{{carrier}} {{waybill}}）出现异常：{{note}}",
			Link: linkTo(links.Shipment, "shipment_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_shipment", Keywords: shipKW},
			SMS: SMSTemplate{Code: SMSShipmentProblem, Params: map[string]string{"waybill": "waybill", "carrier": "carrier", "note": "note"}}},
		{ID: RuleLicenseExpiry30, Kind: KindLicense, Title: "证照即将到期", Important: true,
			Body: "您的{{license}}将于{{expires}}到期，请及时办理延续。",
			Link: linkTo(links.License, "license_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_license_expiry", Keywords: map[string]string{"thing1": "license", "date2": "expires", "thing3": "note"}},
			SMS: SMSTemplate{Code: SMSLicenseExpiry, Params: map[string]string{"license": "license", "expires": "expires"}}},
		{ID: RuleLicenseExpiry7, Kind: KindLicense, Title: "证照7天后到期", Important: true,
			Body: "您的{{license}}将于{{expires}}到期，请尽快办理延续。",
			Link: linkTo(links.License, "license_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_license_expiry", Keywords: map[string]string{"thing1": "license", "date2": "expires", "thing3": "note"}},
			SMS: SMSTemplate{Code: SMSLicenseExpiry, Params: map[string]string{"license": "license", "expires": "expires"}}},
		{ID: RuleRectifyReply, Kind: KindEvaluation, Title: "您的评价已收到答复", Important: true,
			Body: "您对办件{{case_number}}（{{item}}）的评价已收到答复：{{reply}}",
			Link: linkTo(links.Case, "case_id"), WeChat: WeChatTemplate{TemplateID: "tmpl_case_progress", Keywords: caseKW}},
	}
	out := make(map[string]Rule, len(list))
	for _, r := range list {
		if r.SMS.Code != "" {
			r.SMS.Params[SMSLinkParam] = SMSLinkParam // filled from the message's link when sent
		}
		out[r.ID] = r
	}
	return out
}

// WithTemplateIDs returns rules with WeChat template ids replaced: ids maps
// a default template id (e.g. "tmpl_booking_reminder") to the mini-program's
// real one. Ids not in the map are kept.
func WithTemplateIDs(rules map[string]Rule, ids map[string]string) map[string]Rule {
	out := make(map[string]Rule, len(rules))
	for k, r := range rules {
		if id, ok := ids[r.WeChat.TemplateID]; ok && id != "" {
			r.WeChat.TemplateID = id
		}
		out[k] = r
	}
	return out
}
