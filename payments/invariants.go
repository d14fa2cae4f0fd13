package payments

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"zwfw/platform/invariants"
)

// CheckTotals is the name of the payments self-check.
const CheckTotals = "payments.totals"

// invariantQuiet: a reservation younger than this may be a refund request
// still between its two writes, so an excess in refunding is left to the
// next run.
const invariantQuiet = 10 * time.Minute

// Invariants returns the payments self-check: a payment's paid and
// refunded totals equal its orders and refunds. Run by the daily data
// self-check and POST /api/v1/admin/invariants/run.
func (s *Service) Invariants() []invariants.Check {
	return []invariants.Check{invariants.Func{CheckName: CheckTotals, Fn: s.checkTotals}}
}

// checkTotals walks every payment with its orders and refunds. With repair
// it derives what can be derived (idempotently: a second run finds
// nothing):
//   - a paid order the payment does not know is settled (the payment is
//     marked paid, or the money is refunded automatically as a duplicate);
//   - the paid amount, channel and transaction are the paid order's;
//   - refunded is the sum of the succeeded refunds staff asked for,
//     refunding the sum of the pending ones (a reservation left by a crash
//     before its refund was stored is released);
//   - a pending refund without its job gets one.
//
// A paid order missing behind a paid payment, or more refunded than paid,
// is reported for a person.
func (s *Service) checkTotals(ctx context.Context, repair bool) (invariants.Result, error) {
	var res invariants.Result
	after := ""
	for {
		page, err := s.store.PaymentsAfter(ctx, after, 200)
		if err != nil {
			return res, err
		}
		if len(page) == 0 {
			return res, nil
		}
		ids := make([]string, len(page))
		for i, p := range page {
			ids[i] = p.ID
		}
		orders, err := s.store.OrdersOfPayments(ctx, ids)
		if err != nil {
			return res, err
		}
		refunds, err := s.store.RefundsOfPayments(ctx, ids)
		if err != nil {
			return res, err
		}
		ordersOf, refundsOf := map[string][]Order{}, map[string][]Refund{}
		for _, o := range orders {
			ordersOf[o.PaymentID] = append(ordersOf[o.PaymentID], o)
		}
		for _, r := range refunds {
			refundsOf[r.PaymentID] = append(refundsOf[r.PaymentID], r)
		}
		for _, p := range page {
			res.Examined++
			found, err := s.checkPayment(ctx, p, ordersOf[p.ID], refundsOf[p.ID], repair)
			res.Findings = append(res.Findings, found...)
			if err != nil {
				return res, err
			}
		}
		after = page[len(page)-1].ID
	}
}

func (s *Service) checkPayment(ctx context.Context, p Payment, orders []Order, refunds []Refund, repair bool) ([]invariants.Finding, error) {
	subject := Subject(p.ID)
	var out []invariants.Finding
	finding := func(problem, action string, repaired bool) {
		out = append(out, invariants.Finding{Subject: subject, Problem: problem, Action: action, Repaired: repaired})
	}
	duplicateRefunds := map[string]bool{}
	for _, r := range refunds {
		if r.Kind == RefundDuplicate {
			duplicateRefunds[r.OrderID] = true
		}
	}
	var paid []Order
	for _, o := range orders {
		if o.Status == OrderPaid {
			paid = append(paid, o)
		}
	}
	sort.Slice(paid, func(i, j int) bool { return paid[i].PaidAt.Before(paid[j].PaidAt) })

	// Money zwfw received but did not apply: the payment is settled by the
	// first paid order, every other one is refunded.
	unapplied := false
	for _, o := range paid {
		if o.ID == p.PaidOrder || duplicateRefunds[o.ID] {
			continue
		}
		unapplied = true
		problem := fmt.Sprintf("订单 %s 已收款 %s 元，缴费记录未入账也未退款", o.ID, o.Amount.Yuan())
		if !repair {
			finding(problem, "待修复：入账或自动退还重复款项", false)
			continue
		}
		if err := s.settle(ctx, o); err != nil {
			finding(problem, "修复失败："+err.Error(), false)
			continue
		}
		finding(problem, "已按订单入账或自动原路退还重复款项", true)
	}
	if unapplied || !p.Status.Settled() {
		return out, s.ensureRefundJobs(ctx, p, refunds, repair, &out)
	}

	want := totalsOf(p)
	var po *Order
	for i := range orders {
		if orders[i].ID == p.PaidOrder {
			po = &orders[i]
		}
	}
	switch {
	case po == nil || po.Status != OrderPaid:
		finding(fmt.Sprintf("缴费记录为已缴费，但支付订单 %q 不存在或未支付", p.PaidOrder), "需人工核查渠道交易", false)
	default:
		want.PaidChannel, want.TransactionID, want.PaidAt, want.PaidAmount = po.Channel, po.TransactionID, po.PaidAt, po.Amount
	}
	want.Refunded, want.Refunding, want.SettledRefunds = 0, 0, []string{}
	for _, r := range refunds {
		if r.Kind != RefundRequested {
			continue
		}
		switch r.Status {
		case RefundStatusSucceeded:
			want.Refunded += r.Amount
			want.SettledRefunds = append(want.SettledRefunds, r.ID)
		case RefundStatusFailed:
			want.SettledRefunds = append(want.SettledRefunds, r.ID)
		case RefundStatusPending:
			want.Refunding += r.Amount
		}
	}
	if p.Refunding > want.Refunding && s.now().Sub(p.UpdatedAt) < invariantQuiet {
		// Perhaps a refund request between its reservation and its insert.
		want.Refunding = p.Refunding
	}
	want.Status = refundStatus(p.Status, want.PaidAmount, want.Refunded)
	if want.Refunded+want.Refunding > want.PaidAmount {
		finding(fmt.Sprintf("退款合计 %s 元超过实收 %s 元", (want.Refunded+want.Refunding).Yuan(), want.PaidAmount.Yuan()), "需人工核查退款", false)
		return out, s.ensureRefundJobs(ctx, p, refunds, repair, &out)
	}
	if problem := totalsDiff(totalsOf(p), want); problem != "" {
		switch {
		case !repair:
			finding(problem, "待修复：按订单与退款记录重算", false)
		default:
			ok, err := s.store.SetTotals(ctx, p.ID, p.Version, want, s.now().UTC())
			switch {
			case err != nil:
				return out, err
			case ok:
				finding(problem, "已按订单与退款记录重算", true)
			default:
				finding(problem, "缴费记录正在变化，下次自检复核", false)
			}
		}
	}
	return out, s.ensureRefundJobs(ctx, p, refunds, repair, &out)
}

// ensureRefundJobs gives every pending refund its job (a crash between the
// refund's insert and its enqueue leaves none); Enqueue is a no-op for a
// refund that has one.
func (s *Service) ensureRefundJobs(ctx context.Context, p Payment, refunds []Refund, repair bool, out *[]invariants.Finding) error {
	if !repair {
		return nil
	}
	for _, r := range refunds {
		if r.Status != RefundStatusPending {
			continue
		}
		_, created, err := s.queue.Enqueue(ctx, refundJobRequest(r.ID))
		if err != nil {
			return err
		}
		if created {
			*out = append(*out, invariants.Finding{Subject: Subject(p.ID), Repaired: true,
				Problem: fmt.Sprintf("退款 %s 待办理，但没有办理任务", r.ID), Action: "已补建退款任务"})
		}
	}
	return nil
}

// totalsDiff says how stored totals differ from derived ones ("" for none).
func totalsDiff(got, want Totals) string {
	var diffs []string
	add := func(field string, g, w any) {
		diffs = append(diffs, fmt.Sprintf("%s 为 %v，应为 %v", field, g, w))
	}
	if got.Status != want.Status {
		add("状态", got.Status, want.Status)
	}
	if got.PaidAmount != want.PaidAmount {
		add("实收金额（分）", got.PaidAmount, want.PaidAmount)
	}
	if got.PaidChannel != want.PaidChannel || got.TransactionID != want.TransactionID || !got.PaidAt.Equal(want.PaidAt) {
		add("支付渠道交易", string(got.PaidChannel)+" "+got.TransactionID, string(want.PaidChannel)+" "+want.TransactionID)
	}
	if got.Refunded != want.Refunded {
		add("已退金额（分）", got.Refunded, want.Refunded)
	}
	if got.Refunding != want.Refunding {
		add("退款中金额（分）", got.Refunding, want.Refunding)
	}
	if !sameSet(got.SettledRefunds, want.SettledRefunds) {
		add("已结算退款", got.SettledRefunds, want.SettledRefunds)
	}
	if len(diffs) == 0 {
		return ""
	}
	return fmt.Sprint(diffs)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
