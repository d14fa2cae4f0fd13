package bff

import (
	"context"
	"errors"

	"zwfw/booking"
	"zwfw/cases"
	"zwfw/home"
	"zwfw/identity"
	"zwfw/logistics"
	"zwfw/notify"
	"zwfw/payments"
	"zwfw/wxapi"
)

// wechatPhone adapts the WeChat client to identity.WeChatPhone.
type wechatPhone struct{ mp *wxapi.MiniProgram }

func (w wechatPhone) PhoneNumber(ctx context.Context, code string) (string, string, error) {
	p, err := w.mp.PhoneNumber(ctx, code)
	switch {
	case errors.Is(err, wxapi.ErrInvalidPhoneCode):
		return "", "", identity.ErrLoginProof.WithMessage("手机号授权已失效，请重新点击获取手机号").WithCause(err)
	case err != nil:
		return "", "", identity.ErrWeChatUnavailable.WithCause(err)
	}
	return p.CountryCode, p.PurePhoneNumber, nil
}

// wireMerges lets identity merge persons: each domain moves its records
// through its own store (the merge's consumer-declared Reassigner), and the
// merge and its late sweep run as durable jobs.
func (a *App) wireMerges() {
	a.identity.UseMerges(identity.MergeOptions{
		Queue:          a.queue,
		StopAfterSteps: a.cfg.MergeStopAfterSteps,
		Domains: []identity.Domain{
			{Name: "cases", Move: identity.ReassignFunc(cases.NewMongoStore(a.db).ReassignOwner)},
			{Name: "booking", Move: identity.ReassignFunc(booking.NewMongoStore(a.db).ReassignUser)},
			{Name: "payments", Move: identity.ReassignFunc(payments.NewMongoStore(a.db).ReassignUser)},
			{Name: "logistics", Move: identity.ReassignFunc(logistics.NewMongoStore(a.db).ReassignUser)},
			{Name: "notify", Move: identity.ReassignFunc(notify.NewMongoStore(a.db).ReassignUser)},
			// Derived views after the records moved: counted again when next read.
			{Name: "notify-inbox", Move: identity.ReassignFunc(notify.NewMongoStore(a.db).ForgetInboxSummaries)},
			{Name: "home", Move: identity.ReassignFunc(home.NewMongoIndexStore(a.db).ReassignUser)},
		},
	})
	a.jobs.Register(identity.JobMerge, a.identity.HandleMergeJob)
	a.jobs.Register(identity.JobMergeSweep, a.identity.HandleMergeSweepJob)
}
