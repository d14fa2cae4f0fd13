package payments

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"zwfw/platform/jobs"
)

// MatchKind classifies one line of a reconciliation report.
type MatchKind string

// Line kinds of a report.
const (
	MatchOK             MatchKind = "matched"          // the channel, zwfw and the non-tax platform agree
	MatchSurplus        MatchKind = "surplus"          // 长款: the channel has money zwfw did not book as paid
	MatchShortfall      MatchKind = "shortfall"        // 短款: zwfw booked a payment the channel's bill lacks
	MatchAmountMismatch MatchKind = "amount_mismatch"  // both have it, amounts differ
	MatchRefundOK       MatchKind = "refund_matched"   // a refund both sides agree on
	MatchRefundUnknown  MatchKind = "refund_unmatched" // a refund in the bill zwfw has no settled record of
	MatchNotConfirmed   MatchKind = "not_confirmed"    // paid at the channel and in zwfw, not yet booked by the platform
	MatchDuplicate      MatchKind = "duplicate"        // a second payment of one notice, refunded automatically
)

// Action says what reconciliation did about a line.
type Action string

// Actions.
const (
	ActionNone        Action = "none"
	ActionAutoFixed   Action = "auto_fixed"   // repaired from the channel's own answer (query, confirm)
	ActionNeedsPerson Action = "needs_person" // a person must decide (refund a surplus, chase a shortfall)
)

// ReportLine is one finding of a reconciliation.
type ReportLine struct {
	Kind          MatchKind `bson:"kind" json:"kind"`
	Provider      Provider  `bson:"provider" json:"provider"`
	OutTradeNo    string    `bson:"out_trade_no" json:"out_trade_no"`
	TransactionID string    `bson:"transaction_id,omitempty" json:"transaction_id,omitempty"`
	OutRefundNo   string    `bson:"out_refund_no,omitempty" json:"out_refund_no,omitempty"`
	PaymentCode   string    `bson:"payment_code,omitempty" json:"payment_code,omitempty"`
	BillAmount    Fen       `bson:"bill_amount" json:"bill_amount_fen"`
	OurAmount     Fen       `bson:"our_amount" json:"our_amount_fen"`
	Action        Action    `bson:"action" json:"action"`
	Note          string    `bson:"note" json:"note"`
}

// ProviderSummary is one provider's totals in a report.
type ProviderSummary struct {
	Provider    Provider `bson:"provider" json:"provider"`
	BillLines   int      `bson:"bill_lines" json:"bill_lines"`
	BillPaid    Fen      `bson:"bill_paid" json:"bill_paid_fen"`
	BillRefunds Fen      `bson:"bill_refunds" json:"bill_refunds_fen"`
	OurPaid     Fen      `bson:"our_paid" json:"our_paid_fen"`
	Error       string   `bson:"error,omitempty" json:"error,omitempty"`
}

// Report is the reconciliation of one day (Asia/Shanghai).
type Report struct {
	Date        string            `bson:"_id" json:"date"`
	GeneratedAt time.Time         `bson:"generated_at" json:"generated_at"`
	Providers   []ProviderSummary `bson:"providers" json:"providers"`
	Lines       []ReportLine      `bson:"lines" json:"lines"`
	Counts      map[string]int    `bson:"counts" json:"counts"`
	NeedsPerson int               `bson:"needs_person" json:"needs_person"`
	Complete    bool              `bson:"complete" json:"complete"` // every provider's bill was read
}

// ParseDay parses a YYYY-MM-DD day in Asia/Shanghai that is not in the future.
func (s *Service) ParseDay(day string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02", day, shanghai)
	if err != nil || t.After(s.now().In(shanghai)) {
		return time.Time{}, ErrDateInvalid
	}
	return t, nil
}

// Reconcile matches each channel's bill of the day line by line against
// zwfw's orders and the non-tax platform's confirmations, repairs what the
// channels' own answers can repair (a lost notify becomes a payment by
// query; an unconfirmed payment is confirmed), and stores the report,
// replacing an earlier run of the same day. Returns ErrBillNotReadyYet when no
// provider's bill is available yet.
func (s *Service) Reconcile(ctx context.Context, day time.Time) (Report, error) {
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, shanghai)
	next := day.AddDate(0, 0, 1)
	rep := Report{Date: day.Format("2006-01-02"), GeneratedAt: s.now().UTC(), Counts: map[string]int{}, Complete: true}

	confirmed := map[string]Confirmation{} // by transaction id
	if cs, err := s.treasury.Confirmations(ctx, day); err != nil {
		return Report{}, ErrTreasuryDown.WithCause(err)
	} else {
		for _, c := range cs {
			confirmed[c.TransactionID] = c
		}
	}
	providers := make([]Provider, 0, len(s.gateways))
	for p := range s.gateways {
		providers = append(providers, p)
	}
	sort.Slice(providers, func(i, j int) bool { return providers[i] < providers[j] })
	ready := 0
	for _, prov := range providers {
		sum := ProviderSummary{Provider: prov}
		lines, err := s.gateways[prov].Bill(ctx, day)
		if err != nil {
			rep.Complete = false
			if errors.Is(err, ErrBillNotReady) {
				sum.Error = "bill_not_ready"
			} else {
				sum.Error = "bill_unavailable"
				s.log.Warn("payments: bill download failed", "provider", prov, "day", rep.Date, "err", err)
			}
			rep.Providers = append(rep.Providers, sum)
			continue
		}
		ready++
		found, err := s.reconcileProvider(ctx, prov, lines, confirmed, &sum, day, next)
		if err != nil {
			return Report{}, err
		}
		rep.Lines = append(rep.Lines, found...)
		rep.Providers = append(rep.Providers, sum)
	}
	if ready == 0 {
		return Report{}, ErrBillNotReadyYet
	}
	for _, l := range rep.Lines {
		rep.Counts[string(l.Kind)]++
		if l.Action == ActionNeedsPerson {
			rep.NeedsPerson++
		}
	}
	if err := s.store.SaveReport(ctx, rep); err != nil {
		return Report{}, err
	}
	s.log.Info("payments: reconciliation done", "day", rep.Date, "lines", len(rep.Lines), "needs_person", rep.NeedsPerson, "complete", rep.Complete)
	return rep, nil
}

func (s *Service) reconcileProvider(ctx context.Context, prov Provider, bill []BillLine, confirmed map[string]Confirmation,
	sum *ProviderSummary, from, to time.Time) ([]ReportLine, error) {
	var out []ReportLine
	inBill := map[string]bool{}
	sum.BillLines = len(bill)
	for _, b := range bill {
		if b.Kind == BillRefund {
			sum.BillRefunds += b.Amount
			line, err := s.reconcileRefund(ctx, prov, b)
			if err != nil {
				return nil, err
			}
			out = append(out, line)
			continue
		}
		sum.BillPaid += b.Amount
		inBill[b.OutTradeNo] = true
		line, err := s.reconcilePayment(ctx, prov, b, confirmed)
		if err != nil {
			return nil, err
		}
		out = append(out, line)
	}
	// Our payments the bill lacks: 短款.
	ours, err := s.store.OrdersPaidBetween(ctx, prov, from, to)
	if err != nil {
		return nil, err
	}
	for _, o := range ours {
		sum.OurPaid += o.Amount
		if inBill[o.ID] {
			continue
		}
		line := ReportLine{Kind: MatchShortfall, Provider: prov, OutTradeNo: o.ID, TransactionID: o.TransactionID,
			PaymentCode: o.PaymentID, OurAmount: o.Amount, Action: ActionNeedsPerson,
			Note: "本系统已记为缴费成功，但渠道对账单无此交易（短款），需人工核查"}
		if t, err := s.gateways[prov].Query(ctx, o.ID); err == nil && (t.State == TradePaid || t.State == TradeRefunded) {
			line.Note = "渠道查询为已支付，但当日对账单无此交易（可能跨日入账），请次日复核"
		}
		out = append(out, line)
	}
	return out, nil
}

func (s *Service) reconcilePayment(ctx context.Context, prov Provider, b BillLine, confirmed map[string]Confirmation) (ReportLine, error) {
	line := ReportLine{Provider: prov, OutTradeNo: b.OutTradeNo, TransactionID: b.TransactionID, BillAmount: b.Amount}
	o, err := s.store.Order(ctx, b.OutTradeNo)
	if errors.Is(err, ErrNotFound) {
		line.Kind, line.Action, line.Note = MatchSurplus, ActionNeedsPerson, "渠道有收款，本系统无此订单（长款），需人工退款或补录"
		return line, nil
	}
	if err != nil {
		return ReportLine{}, err
	}
	line.PaymentCode, line.OurAmount = o.PaymentID, o.Amount
	if b.Amount != o.Amount {
		line.Kind, line.Action = MatchAmountMismatch, ActionNeedsPerson
		line.Note = fmt.Sprintf("对账单金额 %s 元与订单金额 %s 元不符，需人工核查", b.Amount.Yuan(), o.Amount.Yuan())
		return line, nil
	}
	fixed := false
	if o.Status != OrderPaid {
		// The notify was lost and the query has not run yet (or the order
		// was closed and its channel took the money anyway): ask the channel.
		t, err := s.gateways[prov].Query(ctx, o.ID)
		if err != nil {
			line.Kind, line.Action, line.Note = MatchSurplus, ActionNeedsPerson, "订单未支付但对账单有收款，渠道查询失败，请稍后重试对账"
			return line, nil
		}
		outcome, err := s.applyPaid(ctx, prov, t, "reconciliation")
		if err != nil {
			return ReportLine{}, err
		}
		if outcome != OutcomePaid && outcome != OutcomeDuplicate {
			line.Kind, line.Action, line.Note = MatchSurplus, ActionNeedsPerson, "对账单有收款，渠道查询未确认支付，需人工核查"
			return line, nil
		}
		if o, err = s.store.Order(ctx, o.ID); err != nil {
			return ReportLine{}, err
		}
		fixed = true
	}
	if o.TransactionID != b.TransactionID {
		line.Kind, line.Action, line.Note = MatchSurplus, ActionNeedsPerson, "同一订单出现另一笔渠道交易（长款），需人工退款"
		return line, nil
	}
	p, err := s.store.Payment(ctx, o.PaymentID)
	if err != nil {
		return ReportLine{}, err
	}
	if p.PaidOrder != o.ID {
		// settle is idempotent: it makes sure the refund exists and is queued.
		if err := s.settle(ctx, o); err != nil {
			return ReportLine{}, err
		}
		line.Kind, line.Action = MatchDuplicate, ActionAutoFixed
		line.Note = "同一缴款通知书重复缴费，已自动原路退款（退款单号 " + duplicateRefundID(o.ID) + "）"
		return line, nil
	}
	line.Kind, line.Action = MatchOK, ActionNone
	if fixed {
		line.Action, line.Note = ActionAutoFixed, "支付通知丢失，已按渠道查询结果补记缴费成功"
	}
	if _, ok := confirmed[b.TransactionID]; !ok && p.Receipt == nil {
		if _, _, err := s.queue.Enqueue(ctx, confirmJob(o.ID)); err != nil {
			return ReportLine{}, err
		}
		if !fixed {
			line.Kind, line.Action, line.Note = MatchNotConfirmed, ActionAutoFixed, "非税平台尚未入账，已重新发起入账确认"
		}
	}
	return line, nil
}

func (s *Service) reconcileRefund(ctx context.Context, prov Provider, b BillLine) (ReportLine, error) {
	line := ReportLine{Provider: prov, OutTradeNo: b.OutTradeNo, TransactionID: b.TransactionID, OutRefundNo: b.OutRefundNo, BillAmount: b.Amount}
	r, err := s.store.Refund(ctx, b.OutRefundNo)
	if errors.Is(err, ErrNotFound) {
		line.Kind, line.Action, line.Note = MatchRefundUnknown, ActionNeedsPerson, "对账单有退款，本系统无此退费记录，需人工核查"
		return line, nil
	}
	if err != nil {
		return ReportLine{}, err
	}
	line.PaymentCode, line.OurAmount = r.PaymentID, r.Amount
	if r.Amount != b.Amount {
		line.Kind, line.Action, line.Note = MatchRefundUnknown, ActionNeedsPerson, "退款金额与退费记录不符，需人工核查"
		return line, nil
	}
	if r.Status == RefundStatusPending {
		if _, err := s.applyRefundResult(ctx, RefundResult{OutTradeNo: r.OrderID, OutRefundNo: r.ID, RefundID: b.RefundID, Amount: b.Amount, State: RefundSuccess, SettledAt: b.At}); err != nil {
			return ReportLine{}, err
		}
		line.Kind, line.Action, line.Note = MatchRefundOK, ActionAutoFixed, "退款结果通知未到，已按对账单补记退款成功"
		return line, nil
	}
	line.Kind, line.Action = MatchRefundOK, ActionNone
	return line, nil
}

// HandleReconcile runs the daily reconciliation job (key: the day), retrying
// later while the channels have not produced the bill.
func (s *Service) HandleReconcile(ctx context.Context, j *jobs.Job) error {
	var p struct {
		Day string `bson:"day"`
	}
	if err := j.Decode(&p); err != nil {
		return jobs.Permanent(err)
	}
	day, err := time.ParseInLocation("2006-01-02", p.Day, shanghai)
	if err != nil {
		return jobs.Permanent(err)
	}
	rep, err := s.Reconcile(ctx, day)
	if errors.Is(err, ErrBillNotReadyYet) {
		return jobs.RetryAfter(err, time.Hour)
	}
	if err != nil {
		return err
	}
	if !rep.Complete {
		return jobs.RetryAfter(errors.New("some bills not ready"), time.Hour)
	}
	return nil
}

// ReconcileJob is the daily job for the day before at: it runs at 10:00
// Asia/Shanghai (channels publish bills by 9:00–10:00), keyed by the day so
// N replicas queue it once.
func ReconcileJob(at time.Time) jobs.EnqueueRequest {
	local := at.In(shanghai)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, shanghai).AddDate(0, 0, -1)
	runAt := time.Date(local.Year(), local.Month(), local.Day(), 10, 0, 0, 0, shanghai)
	return jobs.EnqueueRequest{Type: JobReconcile, Key: day.Format("2006-01-02"), RunAt: runAt, MaxAttempts: 24,
		Payload: map[string]string{"day": day.Format("2006-01-02")}}
}

// Report returns a stored reconciliation report, or ErrReportNotFound.
func (s *Service) Report(ctx context.Context, day time.Time) (Report, error) {
	return s.store.Report(ctx, day.Format("2006-01-02"))
}

// Anomalies lists money that waits for a person.
func (s *Service) Anomalies(ctx context.Context, includeResolved bool) ([]Anomaly, error) {
	return s.store.Anomalies(ctx, includeResolved, 200)
}
