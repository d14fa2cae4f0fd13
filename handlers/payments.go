package handlers

import (
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/payments"
	"zwfw/pii"
)

// Payments serves non-tax fee payment: notices, paying them through a
// channel, the channels' notifies, refunds and reconciliation reports.
type Payments struct {
	Svc       *payments.Service
	BodyLimit int
}

// PaymentItemView is one charge on a notice.
type PaymentItemView struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Amount   int64  `json:"amount_fen"`
	Quantity int    `json:"quantity"`
}

// PaidView says how a payment was paid.
type PaidView struct {
	Channel       string    `json:"channel"`
	PaidAt        time.Time `json:"paid_at"`
	Amount        int64     `json:"amount_fen"`
	TransactionID string    `json:"transaction_id"`
}

// ReceiptView is the official e-receipt.
type ReceiptView struct {
	Number   string    `json:"number"`
	Code     string    `json:"code"`
	CheckSum string    `json:"check_sum"`
	URL      string    `json:"url"`
	IssuedAt time.Time `json:"issued_at"`
}

// PaymentView is a payment notice and where its payment stands.
type PaymentView struct {
	ID            string            `json:"id"`
	PaymentCode   string            `json:"payment_code"`
	PayerName     string            `json:"payer_name"`
	PayerKind     string            `json:"payer_kind"`
	PayerIDMasked string            `json:"payer_id_masked"`
	Agency        string            `json:"agency"`
	Items         []PaymentItemView `json:"items"`
	Amount        int64             `json:"amount_fen"`
	Status        string            `json:"status"`
	StatusLabel   string            `json:"status_label"`
	IssuedAt      time.Time         `json:"issued_at"`
	DueAt         time.Time         `json:"due_at"`
	CaseNumber    string            `json:"case_number,omitempty"`
	Paid          *PaidView         `json:"paid,omitempty"`
	Refunded      int64             `json:"refunded_fen"`
	Refunding     int64             `json:"refunding_fen"`
	Receipt       *ReceiptView      `json:"receipt,omitempty"`
}

// OrderView is one channel order of a payment.
type OrderView struct {
	ID            string     `json:"id"`
	Channel       string     `json:"channel"`
	Amount        int64      `json:"amount_fen"`
	Status        string     `json:"status"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
	PaidAt        *time.Time `json:"paid_at,omitempty"`
	TransactionID string     `json:"transaction_id,omitempty"`
	CloseReason   string     `json:"close_reason,omitempty"`
}

// RefundView is one refund of a payment.
type RefundView struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"` // refund | duplicate
	Amount    int64      `json:"amount_fen"`
	Reason    string     `json:"reason"`
	Status    string     `json:"status"`
	CreatedAt time.Time  `json:"created_at"`
	SettledAt *time.Time `json:"settled_at,omitempty"`
}

// PaymentDetailView is a payment with its orders and refunds.
type PaymentDetailView struct {
	PaymentView
	Orders  []OrderView  `json:"orders"`
	Refunds []RefundView `json:"refunds"`
}

var paymentStatusLabels = map[payments.Status]string{
	payments.StatusUnpaid: "待缴费", payments.StatusPaid: "已缴费", payments.StatusPartiallyRefunded: "部分退费",
	payments.StatusRefunded: "已退费", payments.StatusCancelled: "已撤销",
}

// PaymentViewOf shapes a payment for its payer (and the look-up by code, the
// case and hotline views). A person's name is masked: anyone holding the
// 20-digit code may look a notice up; a company's name is public.
func PaymentViewOf(p payments.Payment) PaymentView {
	name := p.PayerName
	if p.PayerKind != "company" {
		name = pii.MaskName(name)
	}
	v := PaymentView{
		ID: p.ID, PaymentCode: p.ID, PayerName: name, PayerKind: p.PayerKind, PayerIDMasked: p.PayerMask,
		Agency: p.Agency, Items: []PaymentItemView{}, Amount: int64(p.Amount), Status: string(p.Status),
		StatusLabel: paymentStatusLabels[p.Status], IssuedAt: p.IssuedAt.In(Shanghai), DueAt: p.DueAt.In(Shanghai),
		CaseNumber: p.CaseNumber, Refunded: int64(p.Refunded), Refunding: int64(p.Refunding),
	}
	for _, it := range p.Items {
		v.Items = append(v.Items, PaymentItemView{Code: it.Code, Name: it.Name, Amount: int64(it.Amount), Quantity: it.Quantity})
	}
	if p.Status.Settled() {
		v.Paid = &PaidView{Channel: string(p.PaidChannel), PaidAt: p.PaidAt.In(Shanghai), Amount: int64(p.PaidAmount), TransactionID: p.TransactionID}
	}
	if r := p.Receipt; r != nil {
		v.Receipt = &ReceiptView{Number: r.Number, Code: r.Code, CheckSum: r.CheckSum, URL: r.URL, IssuedAt: r.IssuedAt.In(Shanghai)}
	}
	return v
}

func paymentDetailView(d payments.Detail) PaymentDetailView {
	v := PaymentDetailView{PaymentView: PaymentViewOf(d.Payment), Orders: []OrderView{}, Refunds: []RefundView{}}
	for _, o := range d.Orders {
		ov := OrderView{ID: o.ID, Channel: string(o.Channel), Amount: int64(o.Amount), Status: string(o.Status),
			CreatedAt: o.CreatedAt.In(Shanghai), ExpiresAt: o.ExpiresAt.In(Shanghai), TransactionID: o.TransactionID, CloseReason: o.CloseReason}
		if !o.PaidAt.IsZero() {
			t := o.PaidAt.In(Shanghai)
			ov.PaidAt = &t
		}
		v.Orders = append(v.Orders, ov)
	}
	for _, r := range d.Refunds {
		v.Refunds = append(v.Refunds, refundView(r))
	}
	return v
}

func refundView(r payments.Refund) RefundView {
	kind := "refund"
	if r.Kind == payments.RefundDuplicate {
		kind = "duplicate"
	}
	rv := RefundView{ID: r.ID, Kind: kind, Amount: int64(r.Amount), Reason: r.Reason, Status: string(r.Status), CreatedAt: r.CreatedAt.In(Shanghai)}
	if !r.SettledAt.IsZero() {
		t := r.SettledAt.In(Shanghai)
		rv.SettledAt = &t
	}
	return rv
}

// List handles GET /api/v1/payments?status=.
func (h *Payments) List(c *fiber.Ctx) error {
	status := payments.Status(c.Query("status"))
	if status != "" {
		if _, ok := paymentStatusLabels[status]; !ok {
			return apperr.InvalidInput.WithFields(apperr.Field("status", "STATUS_INVALID", "状态应为 unpaid、paid、partially_refunded、refunded 或 cancelled"))
		}
	}
	list, err := h.Svc.List(c.UserContext(), PrincipalFrom(c).UserID, status)
	if err != nil {
		return err
	}
	items := make([]PaymentView, 0, len(list))
	for _, p := range list {
		items = append(items, PaymentViewOf(p))
	}
	return c.JSON(fiber.Map{"items": items, "next_cursor": nil})
}

// Lookup handles GET /api/v1/payments/lookup?payment_code=.
func (h *Payments) Lookup(c *fiber.Ctx) error {
	p, err := h.Svc.Lookup(c.UserContext(), PrincipalFrom(c).UserID, c.Query("payment_code"))
	if err != nil {
		return err
	}
	return c.JSON(PaymentViewOf(p))
}

// Get handles GET /api/v1/payments/:id.
func (h *Payments) Get(c *fiber.Ctx) error {
	d, err := h.Svc.Get(c.UserContext(), PrincipalFrom(c).UserID, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(paymentDetailView(d))
}

// AdminGet handles GET /api/v1/admin/payments/:id (staff and admins).
func (h *Payments) AdminGet(c *fiber.Ctx) error {
	if !payments.ValidPaymentCode(c.Params("id")) {
		return payments.ErrNotFound
	}
	d, err := h.Svc.GetAny(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(paymentDetailView(d))
}

// Pay handles POST /api/v1/payments/:id/pay (Idempotency-Key required; the
// idempotency middleware answers retries).
func (h *Payments) Pay(c *fiber.Ctx) error {
	var req struct {
		Channel string `json:"channel"`
	}
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	res, err := h.Svc.Pay(c.UserContext(), payments.PayRequest{
		UserID: PrincipalFrom(c).UserID, PaymentID: c.Params("id"), Channel: payments.Channel(req.Channel),
		ClientIP: c.IP(),
	})
	if err != nil {
		return err
	}
	out := fiber.Map{
		"order_id": res.Order.ID, "payment_id": res.Order.PaymentID, "channel": string(res.Order.Channel),
		"amount_fen": int64(res.Order.Amount), "expires_at": res.Order.ExpiresAt.In(Shanghai),
	}
	switch {
	case res.Prepay.Params != nil:
		out["wechat_params"] = res.Prepay.Params
	case res.Prepay.OrderString != "":
		out["alipay_order_string"] = res.Prepay.OrderString
	case res.Prepay.PayURL != "":
		out["alipay_pay_url"] = res.Prepay.PayURL
	}
	return c.JSON(out)
}

// Refund handles POST /api/v1/admin/payments/:id/refund (Idempotency-Key
// required; the idempotency middleware answers retries).
func (h *Payments) Refund(c *fiber.Ctx) error {
	var req struct {
		Amount int64  `json:"amount_fen"`
		Reason string `json:"reason"`
	}
	if err := BindJSON(c, h.BodyLimit, &req); err != nil {
		return err
	}
	if !payments.ValidPaymentCode(c.Params("id")) {
		return payments.ErrNotFound
	}
	r, err := h.Svc.RequestRefund(c.UserContext(), payments.RefundApplication{
		PaymentID: c.Params("id"), Amount: payments.Fen(req.Amount), Reason: req.Reason,
		Actor: PrincipalFrom(c).UserID,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(refundView(r))
}

// Anomalies handles GET /api/v1/admin/payments/anomalies?all=true.
func (h *Payments) Anomalies(c *fiber.Ctx) error {
	list, err := h.Svc.Anomalies(c.UserContext(), c.Query("all") == "true")
	if err != nil {
		return err
	}
	if list == nil {
		list = []payments.Anomaly{}
	}
	return c.JSON(fiber.Map{"items": list})
}

// RunReconciliation handles POST /api/v1/admin/reconciliation/run?date=.
func (h *Payments) RunReconciliation(c *fiber.Ctx) error {
	day, err := h.Svc.ParseDay(c.Query("date"))
	if err != nil {
		return err
	}
	rep, err := h.Svc.Reconcile(c.UserContext(), day)
	if err != nil {
		return err
	}
	return c.JSON(reportView(rep))
}

// Reconciliation handles GET /api/v1/admin/reconciliation?date=.
func (h *Payments) Reconciliation(c *fiber.Ctx) error {
	day, err := h.Svc.ParseDay(c.Query("date"))
	if err != nil {
		return err
	}
	rep, err := h.Svc.Report(c.UserContext(), day)
	if err != nil {
		return err
	}
	return c.JSON(reportView(rep))
}

func reportView(r payments.Report) payments.Report {
	r.GeneratedAt = r.GeneratedAt.In(Shanghai)
	if r.Lines == nil {
		r.Lines = []payments.ReportLine{}
	}
	if r.Providers == nil {
		r.Providers = []payments.ProviderSummary{}
	}
	return r
}

// WeChatPayNotify handles POST /api/v1/callbacks/wechatpay/notify (paid and refund notifies).
func (h *Payments) WeChatPayNotify(c *fiber.Ctx) error {
	return h.notify(c, payments.WeChatPay, nil)
}

// AlipayNotify handles POST /api/v1/callbacks/alipay/notify (form-encoded).
func (h *Payments) AlipayNotify(c *fiber.Ctx) error {
	form, err := url.ParseQuery(string(c.Body()))
	if err != nil {
		return apperr.InvalidInput
	}
	return h.notify(c, payments.Alipay, form)
}

// notify answers the channel in its own format: the success body once the
// notify is applied or recorded, the failure body (and an error status)
// otherwise, so the channel retries what zwfw could not store.
func (h *Payments) notify(c *fiber.Ctx, p payments.Provider, form url.Values) error {
	if len(c.Body()) > h.BodyLimit {
		return apperr.BodyTooLarge
	}
	body := append([]byte(nil), c.Body()...) // fiber reuses the buffer
	res, err := h.Svc.HandleNotify(c.UserContext(), p, payments.InboundNotify{
		Body: body, ContentType: string(c.Request().Header.ContentType()), Form: form,
	})
	status := fiber.StatusOK
	if err != nil {
		status = apperr.From(err).Kind.HTTPStatus()
		if res.Body == nil {
			return err
		}
	}
	c.Set(fiber.HeaderContentType, res.ContentType)
	return c.Status(status).Send(res.Body)
}
