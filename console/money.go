package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/cases"
	"zwfw/payments"
	"zwfw/pii"
	"zwfw/platform/idempotency"
	"zwfw/platform/workdays"
)

// Payments is what the money pages need of payments (implemented by
// *payments.Service): the same calls the API's admin routes make.
type Payments interface {
	Anomalies(ctx context.Context, includeResolved bool) ([]payments.Anomaly, error)
	// ParseDay returns PAYMENT_DATE_INVALID for a malformed or future day.
	ParseDay(day string) (time.Time, error)
	// Report returns RECONCILIATION_NOT_FOUND for a day not reconciled yet.
	Report(ctx context.Context, day time.Time) (payments.Report, error)
	Reconcile(ctx context.Context, day time.Time) (payments.Report, error)
	GetAny(ctx context.Context, id string) (payments.Detail, error)
	RequestRefund(ctx context.Context, req payments.RefundApplication) (payments.Refund, error)
}

// Idempotency is zwfw's one idempotency mechanism (implemented by
// *idempotency.Store, the API's too): a form's key is claimed before any
// work, and its answer kept for the form's resubmissions.
type Idempotency interface {
	Begin(ctx context.Context, scope, key, fingerprint string) (*idempotency.Claim, *idempotency.Response, error)
	Complete(ctx context.Context, c *idempotency.Claim, resp idempotency.Response) error
	Release(ctx context.Context, c *idempotency.Claim) error
}

// reportDays is how many days the money page lists (today and before).
const reportDays = 7

// moneyCacheTTL is how long the money page reuses a day's report and the
// anomaly list. A report is a large document (a line per bill line) and
// the page shows a week of them; on the embedded store each read costs
// tens of milliseconds. A report changes only when reconciliation runs
// again (this console's run drops its day at once), anomalies when money
// goes astray: half a minute late is soon enough for a person's queue.
const moneyCacheTTL = 30 * time.Second

// moneyCache keeps reports (found or not) and anomaly lists for the TTL.
type moneyCache struct {
	ttl       time.Duration
	mu        sync.Mutex
	reports   map[string]cachedReport
	anomalies map[bool]cachedAnomalies
}

type cachedReport struct {
	rep   payments.Report
	found bool
	until time.Time
}

type cachedAnomalies struct {
	list  []payments.Anomaly
	until time.Time
}

func newMoneyCache(ttl time.Duration) *moneyCache {
	return &moneyCache{ttl: ttl, reports: map[string]cachedReport{}, anomalies: map[bool]cachedAnomalies{}}
}

// report returns the day's report, found false when the day is not reconciled.
func (m *moneyCache) report(ctx context.Context, p Payments, day workdays.Date) (payments.Report, bool, error) {
	key := day.String()
	m.mu.Lock()
	e, ok := m.reports[key]
	m.mu.Unlock()
	if ok && time.Now().Before(e.until) {
		return e.rep, e.found, nil
	}
	rep, err := p.Report(ctx, day.Start())
	if err != nil && !errors.Is(err, payments.ErrReportNotFound) {
		return payments.Report{}, false, err
	}
	e = cachedReport{rep: rep, found: err == nil, until: time.Now().Add(m.ttl)}
	m.mu.Lock()
	if len(m.reports) > 4*reportDays {
		clear(m.reports) // days looked up by hand: keep the map small
	}
	m.reports[key] = e
	m.mu.Unlock()
	return e.rep, e.found, nil
}

func (m *moneyCache) anomalyList(ctx context.Context, p Payments, all bool) ([]payments.Anomaly, error) {
	m.mu.Lock()
	e, ok := m.anomalies[all]
	m.mu.Unlock()
	if ok && time.Now().Before(e.until) {
		return e.list, nil
	}
	list, err := p.Anomalies(ctx, all)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.anomalies[all] = cachedAnomalies{list: list, until: time.Now().Add(m.ttl)}
	m.mu.Unlock()
	return list, nil
}

// forget drops a day's report (reconciled again here).
func (m *moneyCache) forget(day string) {
	m.mu.Lock()
	delete(m.reports, day)
	clear(m.anomalies) // a run may resolve or add anomalies
	m.mu.Unlock()
}

type moneyBody struct {
	Anomalies []moneyAnomaly
	// AllAnomalies: resolved ones are listed too.
	AllAnomalies bool
	Days         []reconDay
	Day          *reconReport // the chosen day's report (nil: not reconciled)
	Chosen       string       // the chosen day
	CanRun       bool         // an admin may run the reconciliation
	Today        string
	Payment      string // the payment code typed into the look-up
}

type moneyAnomaly struct {
	ID, Kind, Provider, PaymentID, OrderID string
	Expected, Actual                       string
	Detail, FirstAt, LastAt                string
	Seen                                   int
	Resolved                               bool
}

type reconDay struct {
	Date, Link                  string
	Reconciled, Complete        bool
	Lines, AutoFixed, NeedsWork int
	Current                     bool
}

type reconReport struct {
	Date, GeneratedAt string
	Complete          bool
	Providers         []reconProvider
	// Sections: the lines waiting for a person, those fixed automatically, those that matched.
	Sections []reconSection
}

type reconSection struct {
	ID, Title, Empty string
	Lines            []reconLine
}

type reconProvider struct {
	Name, Problem                 string
	Lines                         int
	BillPaid, BillRefunds, OurPay string
}

type reconLine struct {
	Kind, Provider, OutTradeNo, OutRefundNo, PaymentCode string
	BillAmount, OurAmount, Note                          string
}

var anomalyLabels = map[payments.AnomalyKind]string{
	payments.AnomalyForgedNotify: "伪造的支付通知", payments.AnomalyAmountMismatch: "金额不符", payments.AnomalySurplus: "长款（无对应订单）",
	payments.AnomalyDuplicatePayment: "重复缴费（已自动退款）", payments.AnomalyNotPayable: "不可缴费的款项", payments.AnomalyRefundFailed: "退款失败",
}

var matchLabels = map[payments.MatchKind]string{
	payments.MatchOK: "一致", payments.MatchSurplus: "长款", payments.MatchShortfall: "短款", payments.MatchAmountMismatch: "金额不符",
	payments.MatchRefundOK: "退款一致", payments.MatchRefundUnknown: "退款无记录", payments.MatchNotConfirmed: "非税平台未确认",
	payments.MatchDuplicate: "重复缴费",
}

func providerLabel(p payments.Provider) string {
	switch p {
	case payments.WeChatPay:
		return "微信支付"
	case payments.Alipay:
		return "支付宝"
	}
	return string(p)
}

func labelOf[K ~string](m map[K]string, k K) string {
	if l, ok := m[k]; ok {
		return l
	}
	return string(k)
}

func fenText(f payments.Fen) string { return fmt.Sprintf("%d.%02d", int64(f)/100, int64(f)%100) }

// money handles GET /console/money: anomalies, the last days'
// reconciliations and the chosen day's lines; ?payment= opens a payment.
func (c *Console) money(ctx *fiber.Ctx) error {
	if code := strings.TrimSpace(ctx.Query("payment")); code != "" {
		if payments.ValidPaymentCode(code) {
			return ctx.Redirect("/console/money/payments/"+code, fiber.StatusSeeOther)
		}
		return c.moneyPage(ctx, fiber.StatusBadRequest, "缴款码应为 20 位数字，请核对后重新输入", "")
	}
	notice := ""
	if d := ctx.Query("reconciled"); d != "" {
		notice = "已完成 " + d + " 的对账"
	}
	return c.moneyPage(ctx, fiber.StatusOK, "", notice)
}

func (c *Console) moneyPage(ctx *fiber.Ctx, status int, problem, notice string) error {
	rctx := ctx.UserContext()
	st := stateOf(ctx)
	body := moneyBody{AllAnomalies: ctx.Query("all") == "1", CanRun: pageMoneyRun.opens(st.user.Roles),
		Payment: ctx.Query("payment")}
	list, err := c.bills.anomalyList(rctx, c.d.Payments, body.AllAnomalies)
	if err != nil {
		return err
	}
	for _, a := range list {
		body.Anomalies = append(body.Anomalies, moneyAnomaly{ID: a.ID, Kind: labelOf(anomalyLabels, a.Kind), Provider: providerLabel(a.Provider),
			PaymentID: a.PaymentID, OrderID: a.OrderID, Expected: fenText(a.Expected), Actual: fenText(a.Actual), Detail: a.Detail,
			FirstAt: formatDateTime(a.FirstAt), LastAt: formatDateTime(a.LastAt), Seen: a.Seen, Resolved: a.Resolved})
	}
	today := workdays.DateOf(c.now())
	body.Today = today.String()
	chosen := today
	if q := ctx.Query("date"); q != "" {
		d, err := workdays.ParseDate(q)
		if err != nil {
			problem = "日期格式应为 YYYY-MM-DD，如 " + today.String()
			status = fiber.StatusBadRequest
		} else {
			chosen = d
		}
	}
	reports := map[string]payments.Report{}
	latest := ""
	for i := range reportDays {
		d := today.AddDays(-i)
		rep, found, err := c.bills.report(rctx, c.d.Payments, d)
		if err != nil {
			return err
		}
		row := reconDay{Date: d.String(), Link: "/console/money?date=" + d.String()}
		if found {
			reports[row.Date] = rep
			row.Reconciled, row.Complete, row.Lines, row.NeedsWork = true, rep.Complete, len(rep.Lines), rep.NeedsPerson
			for _, l := range rep.Lines {
				if l.Action == payments.ActionAutoFixed {
					row.AutoFixed++
				}
			}
			if latest == "" {
				latest = row.Date
			}
		}
		body.Days = append(body.Days, row)
	}
	if ctx.Query("date") == "" && latest != "" {
		chosen = workdays.MustParseDate(latest)
	}
	body.Chosen = chosen.String()
	rep, ok := reports[body.Chosen]
	if !ok && chosen.Before(today.AddDays(-reportDays+1)) {
		var err error
		if rep, ok, err = c.bills.report(rctx, c.d.Payments, chosen); err != nil {
			return err
		}
	}
	for i := range body.Days {
		body.Days[i].Current = body.Days[i].Date == body.Chosen
	}
	if ok {
		body.Day = moneyReport(rep)
	}
	return c.page(ctx, status, "money.html", &pageData{Body: body, Problem: problem, Notice: notice})
}

func moneyReport(rep payments.Report) *reconReport {
	v := &reconReport{Date: rep.Date, GeneratedAt: formatDateTime(rep.GeneratedAt), Complete: rep.Complete}
	for _, p := range rep.Providers {
		row := reconProvider{Name: providerLabel(p.Provider), Lines: p.BillLines, BillPaid: fenText(p.BillPaid), BillRefunds: fenText(p.BillRefunds), OurPay: fenText(p.OurPaid)}
		switch p.Error {
		case "bill_not_ready":
			row.Problem = "对账单尚未生成"
		case "":
		default:
			row.Problem = "对账单下载失败"
		}
		v.Providers = append(v.Providers, row)
	}
	var needs, fixed, matched []reconLine
	for _, l := range rep.Lines {
		row := reconLine{Kind: labelOf(matchLabels, l.Kind), Provider: providerLabel(l.Provider), OutTradeNo: l.OutTradeNo, OutRefundNo: l.OutRefundNo,
			PaymentCode: l.PaymentCode, BillAmount: fenText(l.BillAmount), OurAmount: fenText(l.OurAmount), Note: l.Note}
		switch l.Action {
		case payments.ActionNeedsPerson:
			needs = append(needs, row)
		case payments.ActionAutoFixed:
			fixed = append(fixed, row)
		default:
			matched = append(matched, row)
		}
	}
	v.Sections = []reconSection{
		{ID: "needs-person", Title: "待人工处理", Empty: "没有需要人工处理的差异", Lines: needs},
		{ID: "auto-fixed", Title: "已自动修复", Empty: "没有自动修复的差异", Lines: fixed},
		{ID: "matched", Title: "核对一致", Empty: "没有核对一致的记录", Lines: matched},
	}
	return v
}

// reconcile handles POST /console/money/reconcile (admins): the day's
// reconciliation run now, as the API's run does (the daily job runs it too).
func (c *Console) reconcile(ctx *fiber.Ctx) error {
	day, err := c.d.Payments.ParseDay(strings.TrimSpace(ctx.FormValue("date")))
	if err == nil {
		_, err = c.d.Payments.Reconcile(ctx.UserContext(), day)
	}
	if err != nil {
		e := apperr.From(err)
		if e.Kind == apperr.KindInternal {
			return err
		}
		return c.moneyPage(ctx, e.Kind.HTTPStatus(), "对账未完成："+e.Message, "")
	}
	d := day.Format(time.DateOnly)
	c.bills.forget(d)
	return ctx.Redirect("/console/money?"+url.Values{"date": {d}, "reconciled": {d}}.Encode(), fiber.StatusSeeOther)
}

type paymentBody struct {
	ID, PayerName, PayerKind, PayerID, Agency, CaseNumber string
	Amount, Status, IssuedAt, DueAt                       string
	Items                                                 []string
	Paid                                                  bool
	PaidChannel, PaidAt, PaidAmount, TransactionID        string
	Refunded, Refunding, Refundable                       string
	Orders                                                []payOrderRow
	Refunds                                               []payRefundRow
	Receipt                                               string
	// Refund form (admins, something left to refund).
	CanRefund      bool
	IdempotencyKey string
	FormAmount     string // the form's amount as typed back after a refusal
	Reason         string
	JustRefunded   string // the refund the last post made
}

type payOrderRow struct {
	ID, Channel, Amount, Status, CreatedAt, PaidAt, TransactionID, CloseReason string
}

type payRefundRow struct {
	ID, Kind, Amount, Reason, Status, CreatedAt, SettledAt, FailReason string
	Just                                                               bool
}

var paymentStatusText = map[payments.Status]string{
	payments.StatusUnpaid: "待缴费", payments.StatusPaid: "已缴费", payments.StatusPartiallyRefunded: "部分退费",
	payments.StatusRefunded: "已退费", payments.StatusCancelled: "已撤销",
}

var refundStatusText = map[payments.RefundStatus]string{
	payments.RefundStatusPending: "退款处理中", payments.RefundStatusSucceeded: "退款成功", payments.RefundStatusFailed: "退款失败",
}

var orderStatusText = map[payments.OrderStatus]string{
	payments.OrderOpen: "待支付", payments.OrderPaid: "已支付", payments.OrderClosed: "已关闭",
}

var channelText = map[payments.Channel]string{
	payments.WeChatJSAPI: "微信支付（小程序）", payments.WeChatApp: "微信支付（App）", payments.AlipayApp: "支付宝（App）", payments.AlipayWap: "支付宝（手机网页）",
}

// payment handles GET /console/money/payments/:id: a payment with its
// orders and refunds, the payer masked; the opening is audited. Admins get
// the refund form.
func (c *Console) payment(ctx *fiber.Ctx) error {
	notice := ""
	if r := ctx.Query("refund"); r != "" {
		notice = "退费申请已提交（退费单号 " + r + "），渠道退款完成后状态变为“退款成功”。重复提交不会重复退费"
	}
	return c.showPayment(ctx, fiber.StatusOK, notice, "", nil)
}

// refundTyped is what a refused refund post typed.
type refundTyped struct{ amount, reason string }

func (c *Console) showPayment(ctx *fiber.Ctx, status int, notice, problem string, typed *refundTyped) error {
	id := ctx.Params("id")
	if !payments.ValidPaymentCode(id) {
		return payments.ErrNotFound
	}
	rctx := ctx.UserContext()
	d, err := c.d.Payments.GetAny(rctx, id)
	if err != nil {
		return err
	}
	if err := c.auditOpen(ctx, "payment", id, nil); err != nil {
		return err
	}
	p := d.Payment
	name := p.PayerName
	if p.PayerKind != "company" {
		name = pii.MaskName(name)
	}
	b := paymentBody{ID: p.ID, PayerName: name, PayerKind: map[bool]string{true: "单位", false: "个人"}[p.PayerKind == "company"],
		PayerID: p.PayerMask, Agency: p.Agency, CaseNumber: p.CaseNumber, Amount: fenText(p.Amount),
		Status: labelOf(paymentStatusText, p.Status), IssuedAt: formatDateTime(p.IssuedAt), DueAt: formatDateTime(p.DueAt),
		Refunded: fenText(p.Refunded), Refunding: fenText(p.Refunding), JustRefunded: ctx.Query("refund")}
	for _, it := range p.Items {
		b.Items = append(b.Items, fmt.Sprintf("%s × %d：%s 元", it.Name, it.Quantity, fenText(it.Amount)))
	}
	if p.Status.Settled() {
		b.Paid, b.PaidChannel, b.PaidAt, b.PaidAmount, b.TransactionID = true, labelOf(channelText, p.PaidChannel),
			formatDateTime(p.PaidAt), fenText(p.PaidAmount), p.TransactionID
		b.Refundable = fenText(p.Refundable())
	}
	if p.Receipt != nil {
		b.Receipt = p.Receipt.Number
	}
	for _, o := range d.Orders {
		b.Orders = append(b.Orders, payOrderRow{ID: o.ID, Channel: labelOf(channelText, o.Channel), Amount: fenText(o.Amount), Status: labelOf(orderStatusText, o.Status),
			CreatedAt: formatDateTime(o.CreatedAt), PaidAt: formatDateTime(o.PaidAt), TransactionID: o.TransactionID, CloseReason: o.CloseReason})
	}
	for _, r := range d.Refunds {
		kind := "退费"
		if r.Kind == payments.RefundDuplicate {
			kind = "重复缴费自动退款"
		}
		b.Refunds = append(b.Refunds, payRefundRow{ID: r.ID, Kind: kind, Amount: fenText(r.Amount), Reason: r.Reason,
			Status: labelOf(refundStatusText, r.Status), CreatedAt: formatDateTime(r.CreatedAt), SettledAt: formatDateTime(r.SettledAt),
			FailReason: r.FailReason, Just: r.ID == b.JustRefunded})
	}
	if pageMoneyRefund.opens(stateOf(ctx).user.Roles) && p.Status.Settled() && p.Refundable() > 0 {
		// The key is made with the form: every post of this form (a double
		// click, the browser resending it) is one refund.
		b.CanRefund, b.IdempotencyKey = true, newFormKey()
		if typed != nil {
			b.FormAmount, b.Reason = typed.amount, typed.reason
		}
	}
	return c.page(ctx, status, "payment.html", &pageData{Title: "缴费 " + p.ID, Body: b, Notice: notice, Problem: problem})
}

// newFormKey is a fresh idempotency key for a rendered form.
func newFormKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "console-" + hex.EncodeToString(b[:])
}

// formKeyField is the hidden field carrying the form's idempotency key.
const formKeyField = "idempotency_key"

// refund handles POST /console/money/payments/:id/refund (admins): the
// API's refund with the API's rules. The form's key is claimed through
// platform/idempotency before any work; a repeated post of the same form
// gets the first post's answer (the same refund), never a second refund.
func (c *Console) refund(ctx *fiber.Ctx) error {
	st := stateOf(ctx)
	id := ctx.Params("id")
	if !payments.ValidPaymentCode(id) {
		return payments.ErrNotFound
	}
	typed := &refundTyped{amount: strings.TrimSpace(ctx.FormValue("amount")), reason: strings.TrimSpace(ctx.FormValue("reason"))}
	amount, ok := parseYuan(typed.amount)
	if !ok {
		return c.showPayment(ctx, fiber.StatusBadRequest, "", "退费金额格式有误：请填写元，最多两位小数（如 4.50），留空表示全部可退金额", typed)
	}
	rctx := ctx.UserContext()
	fp := idempotency.Fingerprint([]byte("console refund"), []byte(id), []byte(strconv.FormatInt(int64(amount), 10)), []byte(typed.reason))
	claim, stored, err := c.d.Idempotency.Begin(rctx, st.user.ID+":POST /console/money/payments/:id/refund", ctx.FormValue(formKeyField), fp)
	switch {
	case errors.Is(err, apperr.IdempotencyMissing):
		return c.showPayment(ctx, fiber.StatusBadRequest, "", "表单缺少防重复提交编号，请刷新页面后重新填写", typed)
	case errors.Is(err, apperr.IdempotencyReused):
		return c.showPayment(ctx, fiber.StatusUnprocessableEntity, "", "该退费表单已提交过不同的金额或原因，未再次退费。如需再退，请在刷新后的表单中重新填写", nil)
	case errors.Is(err, apperr.IdempotencyInFlight):
		return c.showPayment(ctx, fiber.StatusConflict, "", "该退费正在处理中，请稍后刷新本页查看结果（不会重复退费）", nil)
	case err != nil:
		return err
	case stored != nil:
		// The same form again: the first post's answer.
		if loc := stored.Headers[fiber.HeaderLocation]; loc != "" {
			return ctx.Redirect(loc, fiber.StatusSeeOther)
		}
		return payments.ErrBusy
	}
	r, err := c.d.Payments.RequestRefund(rctx, payments.RefundApplication{PaymentID: id, Amount: amount, Reason: typed.reason, Actor: st.user.ID})
	if err != nil {
		// Refused or failed: nothing changed, the form may be posted again.
		if rerr := c.d.Idempotency.Release(rctx, claim); rerr != nil {
			c.opt.Logger.Error("console: idempotency key not released", "err", rerr)
		}
		e := apperr.From(err)
		if e.Kind == apperr.KindInternal || e.Kind == apperr.KindUnavailable || e.Kind == apperr.KindNotFound {
			return err
		}
		msg := e.Message
		if v, ok := e.Details["refundable_fen"].(int64); ok {
			msg += fmt.Sprintf("（当前可退 %s 元）", fenText(payments.Fen(v)))
		}
		return c.showPayment(ctx, e.Kind.HTTPStatus(), "", msg, typed)
	}
	loc := "/console/money/payments/" + id + "?" + url.Values{"refund": {r.ID}}.Encode()
	if err := c.d.Idempotency.Complete(rctx, claim, idempotency.Response{Status: fiber.StatusSeeOther,
		Headers: map[string]string{fiber.HeaderLocation: loc}}); err != nil {
		// The refund is made; a resubmission waits out the lease and is
		// then refused by the refundable limit or refunds what is left.
		c.opt.Logger.Error("console: refund answer not stored", "refund", r.ID, "err", err)
	}
	return ctx.Redirect(loc, fiber.StatusSeeOther)
}

// parseYuan reads an amount in yuan ("4", "4.5", "4.50"); "" is 0 (the
// API's "everything still refundable").
func parseYuan(s string) (payments.Fen, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(s), "元")
	if s == "" {
		return 0, true
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 9 || len(frac) > 2 || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" {
		return 0, false
	}
	y, _ := strconv.ParseInt(whole, 10, 64)
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt((frac + "0")[:2], 10, 64)
	}
	return payments.Fen(y*100 + f), true
}

// auditOpen writes the opening of a page showing personal data to the audit
// log (like the hotline's look-ups): who, when, what (a code or a list), never the data.
func (c *Console) auditOpen(ctx *fiber.Ctx, kind, query string, ids []string) error {
	st := stateOf(ctx)
	return c.d.Audit.Append(ctx.UserContext(), &cases.AuditEntry{At: c.now(), OperatorID: st.user.ID, OperatorName: st.user.Username,
		QueryType: kind, Query: query, CaseIDs: ids, IP: ctx.IP()})
}
