package console

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"zwfw/booking"
	"zwfw/casefile"
	"zwfw/cases"
	"zwfw/notify"
	"zwfw/payments"
	"zwfw/platform/workdays"
)

// CaseFiles composes a case's one view — the case with its bookings,
// payment notices and receipts, shipments and the reminders sent about them
// (implemented by *casefile.Service, the same view the owner and the API's
// hotline route show).
type CaseFiles interface {
	Of(ctx context.Context, c *cases.Case) (*casefile.File, error)
}

// caseView is the one view of a case on the hotline's screen: personal
// data masked, except the fields revealed on this request.
type caseView struct {
	ID, Number, Item, Dept, Ticket string
	Status, StatusText             string
	Delivery                       string
	SubmittedAt, AcceptedAt        string
	CompletedAt, Result            string
	Supplement                     []string
	TimeLimit                      timeLimitView
	Personal                       []personalField
	Timeline                       []timelineRow
	Bookings                       []bookingLine
	Payments                       []paymentLine
	Shipments                      []shipmentLine
	Reminders                      []reminderLine
	Evaluation                     *evaluationView
}

type timeLimitView struct {
	PromisedDays, StatutoryDays int
	DueOn                       string
	DaysLeft                    int
	Running, Overdue            bool
}

// personalField is one personal datum: masked, or in full once revealed.
type personalField struct {
	Key, Label, Masked, Revealed string
}

type timelineRow struct{ At, StatusText, Actor, Note string }

type bookingLine struct {
	Number, Hall, Item, Slot, StatusText string
	Queue                                int
	CheckedInAt                          string
}

type paymentLine struct {
	Code, Agency, Amount, StatusText, DueAt, PaidAt, Channel, Refunded string
	Receipt                                                            string
}

type shipmentLine struct {
	Direction, Carrier, Waybill, StateText, Updated string
	Track                                           []timelineRow
}

type reminderLine struct {
	At, Title, Body, StateText, Channel string
	Failed                              bool
	Attempts                            []string
}

type evaluationView struct {
	Level   int
	Label   string
	Reasons string
	Comment string
	At      string
}

// caseView builds the one view of cs from its case file.
func (c *Console) caseView(ctx context.Context, cs *cases.Case, ticket string, revealed map[string]string) (*caseView, error) {
	f, err := c.d.Files.Of(ctx, cs)
	if err != nil {
		return nil, err
	}
	v := &caseView{ID: cs.ID, Number: cs.CaseNumber, Item: cs.ItemName, Dept: cs.Dept, Ticket: ticket,
		Status: string(cs.Status), StatusText: cs.Status.Label(), Delivery: deliveryText(cs.Delivery),
		SubmittedAt: formatDateTime(cs.SubmittedAt), AcceptedAt: formatDateTime(cs.AcceptedAt),
		CompletedAt: formatDateTime(cs.CompletedAt), Result: cs.Result, Supplement: cs.Supplement}
	tl := f.TimeLimit
	v.TimeLimit = timeLimitView{PromisedDays: tl.PromisedDays, StatutoryDays: tl.StatutoryDays, DaysLeft: tl.DaysLeft,
		Running: tl.DueOn != nil && !cs.Status.Final(), Overdue: tl.Overdue}
	if tl.DueOn != nil {
		v.TimeLimit.DueOn = tl.DueOn.In(workdays.Location).Format("2006-01-02")
	}
	var labels map[string]string
	for _, rf := range cs.RevealFields() {
		label := rf.Label
		if name, ok := strings.CutPrefix(rf.Key, "form."); ok {
			if labels == nil {
				// Without the catalog the field keeps its name: the page still works.
				labels, _ = c.d.Catalog.FieldLabels(ctx, cs.ItemCode)
			}
			if l := labels[name]; l != "" {
				label = "申报表 · " + l
			}
		}
		v.Personal = append(v.Personal, personalField{Key: rf.Key, Label: label, Masked: rf.Masked, Revealed: revealed[rf.Key]})
	}
	for _, e := range cs.Timeline {
		v.Timeline = append(v.Timeline, timelineRow{At: formatDateTime(e.At), StatusText: e.Status.Label(), Actor: actorLabel(e.Actor), Note: e.Note})
	}
	for _, b := range f.Bookings {
		hall := b.HallID
		if cfg, err := c.d.Bookings.HallConfig(ctx, b.HallID); err == nil {
			hall = cfg.Name
		} else if !errors.Is(err, booking.ErrHallNotFound) {
			return nil, err
		}
		line := bookingLine{Number: b.Number, Hall: hall, Item: c.items.name(ctx, b.ItemCode),
			Slot:       b.SlotStart.In(workdays.Location).Format("2006-01-02 15:04") + "–" + b.SlotEnd.In(workdays.Location).Format("15:04"),
			StatusText: b.Status.Label(), Queue: b.QueueNumber, CheckedInAt: formatDateTime(b.CheckedInAt)}
		v.Bookings = append(v.Bookings, line)
	}
	for _, p := range f.Payments {
		line := paymentLine{Code: p.ID, Agency: p.Agency, Amount: yuan(int64(p.Amount)), StatusText: paymentStatusLabel(p.Status),
			DueAt: formatDateTime(p.DueAt), PaidAt: formatDateTime(p.PaidAt), Channel: channelLabel(string(p.PaidChannel))}
		if p.Refunded > 0 {
			line.Refunded = yuan(int64(p.Refunded))
		}
		if p.Receipt != nil {
			line.Receipt = p.Receipt.Code + " " + p.Receipt.Number
		}
		v.Payments = append(v.Payments, line)
	}
	for _, sh := range f.Shipments {
		line := shipmentLine{Direction: directionLabel(string(sh.Direction)), Carrier: sh.Carrier, Waybill: sh.WaybillNumber,
			StateText: sh.State.Label(), Updated: formatDateTime(sh.UpdatedAt)}
		for i := len(sh.Timeline) - 1; i >= 0; i-- { // newest first
			e := sh.Timeline[i]
			line.Track = append(line.Track, timelineRow{At: formatDateTime(e.At), StatusText: e.State.Label(), Note: e.Area + " " + e.Context})
		}
		v.Shipments = append(v.Shipments, line)
	}
	for _, m := range f.Reminders {
		line := reminderLine{At: formatDateTime(m.CreatedAt), Title: m.Title, Body: m.Body, StateText: messageStateLabel(m.State),
			Channel: channelLabel(string(m.Channel)), Failed: m.State == notify.StateFailed}
		for _, a := range m.Attempts {
			line.Attempts = append(line.Attempts, fmt.Sprintf("%s %s：%s %s", formatDateTime(a.At), channelLabel(string(a.Channel)), outcomeLabel(a.Outcome), a.Detail))
		}
		v.Reminders = append(v.Reminders, line)
	}
	if e := cs.Evaluation; e != nil {
		v.Evaluation = &evaluationView{Level: e.Level, Label: evaluationLabel(e.Level), Comment: e.Comment, At: formatDateTime(e.At)}
		for i, r := range e.Reasons {
			if i > 0 {
				v.Evaluation.Reasons += "、"
			}
			v.Evaluation.Reasons += r
		}
	}
	return v, nil
}

func yuan(fen int64) string { return fmt.Sprintf("%d.%02d 元", fen/100, fen%100) }

func deliveryText(d cases.Delivery) string {
	materials := map[string]string{"upload": "网上上传", "pickup": "快递上门取件", "hall": "窗口提交"}[d.Materials]
	result := map[string]string{"electronic": "电子证照", "mail": "邮寄送达", "hall": "窗口领取"}[d.Result]
	return "材料：" + orText(materials, d.Materials) + "；结果：" + orText(result, d.Result)
}

func orText(label, raw string) string {
	if label != "" {
		return label
	}
	if raw == "" {
		return "未选择"
	}
	return raw
}

func actorLabel(a string) string {
	return orText(map[string]string{"applicant": "申请人", "province": "省政务服务平台", "system": "系统"}[a], a)
}

func paymentStatusLabel(s payments.Status) string {
	return orText(map[payments.Status]string{payments.StatusUnpaid: "待缴费", payments.StatusPaid: "已缴费",
		payments.StatusPartiallyRefunded: "部分退款", payments.StatusRefunded: "已退款", payments.StatusCancelled: "已撤销"}[s], string(s))
}

func channelLabel(ch string) string {
	if ch == "" {
		return ""
	}
	return orText(map[string]string{
		string(payments.WeChatJSAPI): "微信支付（小程序）", string(payments.WeChatApp): "微信支付（App）",
		string(payments.AlipayApp): "支付宝（App）", string(payments.AlipayWap): "支付宝（手机网页）",
		string(notify.ChannelWeChat): "小程序订阅消息", string(notify.ChannelPush): "App 推送", string(notify.ChannelSMS): "短信",
	}[ch], ch)
}

func directionLabel(d string) string {
	return orText(map[string]string{"to_hall": "材料寄往大厅", "to_applicant": "结果寄给申请人"}[d], d)
}

func messageStateLabel(s notify.State) string {
	return orText(map[notify.State]string{notify.StatePending: "待发送", notify.StateSending: "发送中",
		notify.StateDeferred: "免打扰时段后发送", notify.StateSent: "已送达", notify.StateInboxOnly: "仅站内信",
		notify.StateFailed: "发送失败", notify.StateCancelled: "已取消"}[s], string(s))
}

func outcomeLabel(o string) string {
	return orText(map[string]string{notify.OutcomeSent: "成功", notify.OutcomeNoConsent: "未授权",
		notify.OutcomeNoDevice: "无设备", notify.OutcomeRateLimited: "限流", notify.OutcomeTemporary: "暂时失败",
		notify.OutcomeRefused: "被拒绝"}[o], o)
}

func evaluationLabel(level int) string {
	return orText(map[int]string{5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}[level], fmt.Sprint(level))
}
