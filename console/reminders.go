package console

import (
	"context"
	"net/url"
	"regexp"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"zwfw/notify"
	"zwfw/pii"
)

// Reminders is what the reminders page needs of notify (implemented by
// *notify.Service): the admins' list of undeliverable reminders.
type Reminders interface {
	// Failed returns NOTIFICATION_CURSOR_INVALID for a bad cursor.
	Failed(ctx context.Context, cursor string) ([]notify.Message, string, error)
}

type remindersBody struct {
	Items []failedReminder
	// Next is the next page's address ("" on the last), First the first's.
	Next, First string
}

type failedReminder struct {
	ID, Title, Body, Rule, Kind, Subject, User string
	CreatedAt, FailedAt                        string
	Urgent                                     bool
	Attempts                                   []attemptRow
}

type attemptRow struct {
	Channel, At, Outcome, Detail string
}

var reminderChannelText = map[notify.Channel]string{
	notify.ChannelWeChat: "微信订阅消息", notify.ChannelPush: "App 推送", notify.ChannelSMS: "短信",
}

var outcomeText = map[string]string{
	notify.OutcomeSent: "已送达", notify.OutcomeNoConsent: "未授权订阅", notify.OutcomeNoDevice: "未登记设备",
	notify.OutcomeRateLimited: "超出发送限额", notify.OutcomeTemporary: "暂时失败", notify.OutcomeRefused: "被拒绝",
}

var reminderKindText = map[notify.Kind]string{
	notify.KindBooking: "预约", notify.KindCase: "办件", notify.KindPayment: "缴费", notify.KindShipment: "寄递",
	notify.KindLicense: "证照", notify.KindEvaluation: "评价",
}

// piiInText finds phone and ID numbers a channel's error text may quote.
var piiInText = regexp.MustCompile(`\d{17}[\dXx]|1\d{10}`)

func maskFreeText(s string) string {
	return piiInText.ReplaceAllStringFunc(s, func(m string) string {
		if len(m) == 11 {
			return pii.MaskPhone(m)
		}
		return pii.MaskIDNumber(m)
	})
}

// reminders handles GET /console/reminders?cursor=: failed reminders, most
// recently failed first, each with every attempt. The list names users'
// reminders, so its viewing is audited.
func (c *Console) reminders(ctx *fiber.Ctx) error {
	cursor := ctx.Query("cursor")
	list, next, err := c.d.Reminders.Failed(ctx.UserContext(), cursor)
	if err != nil {
		return err
	}
	body := remindersBody{}
	if next != "" {
		body.Next = "/console/reminders?" + url.Values{"cursor": {next}}.Encode()
	}
	if cursor != "" {
		body.First = "/console/reminders"
	}
	ids := make([]string, 0, len(list))
	for _, m := range list {
		ids = append(ids, m.PublicID)
		r := failedReminder{ID: m.PublicID, Title: m.Title, Body: maskFreeText(m.Body), Rule: m.RuleID, Kind: labelOf(reminderKindText, m.Kind),
			Subject: m.Subject, User: m.UserID, CreatedAt: formatDateTime(m.CreatedAt), FailedAt: formatDateTime(m.UpdatedAt), Urgent: m.Urgent}
		for _, a := range m.Attempts {
			ch := labelOf(reminderChannelText, a.Channel)
			if a.Channel == "" {
				ch = "（发送前）"
			}
			r.Attempts = append(r.Attempts, attemptRow{Channel: ch, At: formatDateTime(a.At), Outcome: labelOf(outcomeText, a.Outcome),
				Detail: maskFreeText(a.Detail)})
		}
		body.Items = append(body.Items, r)
	}
	if err := c.auditOpen(ctx, "reminders", "失败提醒 "+strconv.Itoa(len(list))+" 条", ids); err != nil {
		return err
	}
	return c.page(ctx, fiber.StatusOK, "reminders.html", &pageData{Body: body})
}
