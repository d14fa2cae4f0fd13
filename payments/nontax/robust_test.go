package nontax

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"zwfw/payments"
	fakent "zwfw/sandbox/nontax"
	"zwfw/sandbox/province"
)

// roundTrip adapts a function to http.RoundTripper.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestWrongSecretAndAppKey(t *testing.T) {
	// A wrong secret: the platform refuses the signature, and the client
	// cannot verify the refusal's signature either, so it believes nothing.
	e := newEnv(t, func(c *Config, _ **http.Client) { c.AppSecret = "not-the-secret" })
	code := e.fake.Notices("", "")[0].PaymentCode
	if _, err := e.c.Notice(ctx, code); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("wrong secret: %v", err)
	}
	if st := e.fake.Stats().Endpoints[epNotice]; st.Refused != 1 || st.Calls != 1 {
		t.Fatalf("stats %+v (a bad response is not retried)", st)
	}
	// A wrong app key with the right secret: a signed refusal.
	e = newEnv(t, func(c *Config, _ **http.Client) { c.AppKey = "someone-else" })
	_, err := e.c.Notice(ctx, code)
	if CodeOf(err) != province.CodeAppKeyUnknown || errors.Is(err, payments.ErrNoticeNotFound) {
		t.Fatalf("wrong app key: %v", err)
	}
}

func TestSkewedClockRefused(t *testing.T) {
	e := newEnv(t, nil)
	code := e.fake.Notices("", "")[0].PaymentCode
	e.c.now = func() time.Time { return start.Add(-6 * time.Minute) }
	if _, err := e.c.Notice(ctx, code); CodeOf(err) != province.CodeTimestampSkew {
		t.Fatalf("skewed clock: %v", err)
	}
}

// A request replayed on the wire (same headers, same nonce) is refused by
// the platform, and the refusal is signed for that nonce.
func TestReplayedRequestRefused(t *testing.T) {
	e := newEnv(t, func(_ *Config, hc **http.Client) {
		*hc = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			first, err := http.DefaultTransport.RoundTrip(r.Clone(r.Context()))
			if err != nil {
				return nil, err
			}
			first.Body.Close()
			return http.DefaultTransport.RoundTrip(r) // the replay
		})}
	})
	code := e.fake.Notices("", "")[0].PaymentCode
	_, err := e.c.Notice(ctx, code)
	if CodeOf(err) != province.CodeNonceReplayed || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("replay: %v", err)
	}
	// Each attempt (with a fresh nonce) was replayed once: 3 attempts, 6 requests.
	if st := e.fake.Stats().Endpoints[epNotice]; st.Calls != 6 || st.Refused != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// An answer altered on the way (here: another notice's amount) fails the
// signature check and is not used.
func TestTamperedAnswerRejected(t *testing.T) {
	e := newEnv(t, func(_ *Config, hc **http.Client) {
		*hc = &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			resp, err := http.DefaultTransport.RoundTrip(r)
			if err != nil {
				return nil, err
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(bytes.Replace(b, []byte(`"amount":9000`), []byte(`"amount":1`), 1)))
			return resp, nil
		})}
	})
	code := e.fake.Notices(zhangSan.IDNumber, "")[0].PaymentCode
	if _, err := e.c.Notice(ctx, code); !errors.Is(err, ErrBadResponse) {
		t.Fatalf("tampered answer: %v", err)
	}
}

func TestReadsRetryThenGiveUp(t *testing.T) {
	e := newEnv(t, nil)
	code := e.fake.Notices("", "")[0].PaymentCode
	_ = e.fake.SetFault(fakent.Fault{Group: fakent.GroupNotices, Mode: fakent.FaultError, Count: 2})
	if _, err := e.c.Notice(ctx, code); err != nil {
		t.Fatalf("after 2 failures: %v", err)
	}
	if n := e.calls(epNotice); n != 3 {
		t.Fatalf("%d attempts, want 3", n)
	}
	e.fake.ResetStats()
	_ = e.fake.SetFault(fakent.Fault{Group: fakent.GroupNotices, Mode: fakent.FaultDown})
	_, err := e.c.Notice(ctx, code)
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, payments.ErrNoticeNotFound) {
		t.Fatalf("down: %v", err)
	}
	if n := e.calls(epNotice); n != 3 {
		t.Fatalf("%d attempts, want 3 (bounded)", n)
	}
	_ = e.fake.SetFault(fakent.Fault{Group: fakent.GroupNotices, Mode: fakent.FaultError, Status: 500})
	if _, err := e.c.Notice(ctx, code); !errors.Is(err, ErrUnavailable) || CodeOf(err) != province.CodeInternalError {
		t.Fatalf("500: %v", err)
	}
}

func TestRetriesOffAndCancelledContext(t *testing.T) {
	e := newEnv(t, func(c *Config, _ **http.Client) { c.Retries = -1 })
	code := e.fake.Notices("", "")[0].PaymentCode
	_ = e.fake.SetFault(fakent.Fault{Group: fakent.GroupNotices, Mode: fakent.FaultError, Count: 1})
	if _, err := e.c.Notice(ctx, code); !errors.Is(err, ErrUnavailable) || e.calls(epNotice) != 1 {
		t.Fatalf("no retries: %v, %d calls", err, e.calls(epNotice))
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.c.Notice(cctx, code); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// A hung platform costs one Timeout per attempt, then the retry succeeds.
func TestTimeoutRetried(t *testing.T) {
	e := newEnv(t, func(c *Config, _ **http.Client) { c.Timeout = 50 * time.Millisecond })
	code := e.fake.Notices("", "")[0].PaymentCode
	_ = e.fake.SetFault(fakent.Fault{Group: fakent.GroupNotices, Mode: fakent.FaultTimeout, Count: 1})
	if _, err := e.c.Notice(ctx, code); err != nil {
		t.Fatalf("after a timeout: %v", err)
	}
}

// A confirmation whose answer is lost is retried under the same
// Idempotency-Key: the client gets the receipt, the platform books once.
func TestLostConfirmationRetried(t *testing.T) {
	e := newEnv(t, nil)
	n := e.issue("103040100101")
	_ = e.fake.SetFault(fakent.Fault{Group: fakent.GroupPayments, Mode: fakent.FaultLost, Count: 1})
	r, err := e.c.ConfirmPaid(ctx, e.confirmation(n, "TX1"))
	if err != nil || r.Number == "" {
		t.Fatalf("confirm after a lost answer: %v %+v", err, r)
	}
	if e.calls(epConfirm) != 2 || len(e.fake.Confirmations(time.Time{})) != 1 {
		t.Fatalf("%d requests, %d bookings", e.calls(epConfirm), len(e.fake.Confirmations(time.Time{})))
	}
	// Refunds are retried the same way.
	_ = e.fake.SetFault(fakent.Fault{Group: fakent.GroupRefunds, Mode: fakent.FaultLost, Count: 1})
	if err := e.c.RegisterRefund(ctx, payments.RefundRegistration{PaymentCode: n.PaymentCode, RefundNo: "R1", Amount: 2000, Reason: "撤件退费", RefundedAt: start}); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.fake.NoticeByCode(n.PaymentCode); got.RefundedAmount != 2000 || got.Status != fakent.StatusRefunded {
		t.Fatalf("after the refund: %+v", got)
	}
}

func TestIdempotencyKeyIsStable(t *testing.T) {
	a := idempotencyKey("POST", "/api/v1/notices/1/payments", []byte(`{"a":1}`))
	if a != idempotencyKey("POST", "/api/v1/notices/1/payments", []byte(`{"a":1}`)) || len(a) != 43 {
		t.Fatalf("key %q", a)
	}
	for _, b := range []string{
		idempotencyKey("POST", "/api/v1/notices/2/payments", []byte(`{"a":1}`)),
		idempotencyKey("POST", "/api/v1/notices/1/payments", []byte(`{"a":2}`)),
		idempotencyKey("POST", "/api/v1/notices/1/refunds", []byte(`{"a":1}`)),
	} {
		if b == a {
			t.Fatal("different requests share a key")
		}
	}
}
