package alipay

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// notifyRecord is one notify and its deliveries.
type notifyRecord struct {
	id, outTradeNo, kind, url string
	form                      url.Values
	mode                      NotifyMode
	created                   time.Time
	attempts                  []NotifyAttempt
	delivered                 int
	done                      bool
}

// Notify is a notify as the sandbox shows it (GET /sandbox/alipay/notifies).
type Notify struct {
	NotifyID   string            `json:"notify_id"`
	OutTradeNo string            `json:"out_trade_no"`
	Kind       string            `json:"kind"` // payment or refund
	URL        string            `json:"url"`
	Mode       NotifyMode        `json:"mode"`
	Form       map[string]string `json:"form"` // the form fields as sent, sign included
	CreatedAt  time.Time         `json:"created_at"`
	Attempts   []NotifyAttempt   `json:"attempts"`
	Delivered  int               `json:"delivered"` // deliveries the merchant answered success
	Pending    bool              `json:"pending"`   // more attempts to come
}

// NotifyAttempt is one POST of a notify.
type NotifyAttempt struct {
	At     time.Time `json:"at"`
	Status int       `json:"status,omitempty"`
	Body   string    `json:"body,omitempty"` // the merchant's answer, cut at 200 bytes
	Error  string    `json:"error,omitempty"`
	OK     bool      `json:"ok"`
}

// addNotify records a notify and starts delivering it as mode says; the
// caller holds s.mu.
func (s *Server) addNotify(t *trade, form url.Values, mode NotifyMode) *notifyRecord {
	kind := "payment"
	if form.Get("out_biz_no") != "" {
		kind = "refund"
	}
	rec := &notifyRecord{
		id: form.Get("notify_id"), outTradeNo: t.outTradeNo, kind: kind, url: t.notifyURL,
		form: form, mode: mode, created: s.now(),
	}
	s.notifies = append(s.notifies, rec)
	switch {
	case mode == NotifyDrop:
		rec.done = true
	case rec.url == "":
		rec.attempts = append(rec.attempts, NotifyAttempt{At: s.now(), Error: "订单没有 notify_url，通知无处可发"})
		rec.done = true
	case s.ctx.Err() != nil:
		rec.attempts = append(rec.attempts, NotifyAttempt{At: s.now(), Error: "sandbox closed"})
		rec.done = true
	default:
		s.wg.Add(1) // under s.mu, before Close's cancel: Close waits for it
		go s.deliver(rec)
	}
	return rec
}

// deliver POSTs the notify until the merchant answers success, waiting the
// retry delays between attempts; NotifyTwice delivers it a second time once
// the first delivery succeeded.
func (s *Server) deliver(rec *notifyRecord) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		rec.done = true
		s.mu.Unlock()
	}()
	runs := 1
	if rec.mode == NotifyTwice {
		runs = 2
	}
	for range runs {
		if !s.deliverOnce(rec) {
			return
		}
	}
}

// deliverOnce makes up to 1+len(retry delays) attempts; true on success.
func (s *Server) deliverOnce(rec *notifyRecord) bool {
	for i := 0; ; i++ {
		if s.attempt(rec) {
			return true
		}
		if i >= len(s.retryDelays) {
			s.log.Warn("alipay notify given up", "notify_id", rec.id, "url", rec.url)
			return false
		}
		timer := time.NewTimer(s.retryDelays[i])
		select {
		case <-s.ctx.Done():
			timer.Stop()
			return false
		case <-timer.C:
		}
	}
}

// attempt POSTs the form once. Alipay counts only the plain text success
// (surrounding white space aside) as received.
func (s *Server) attempt(rec *notifyRecord) bool {
	a := NotifyAttempt{At: s.now()}
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, rec.url, strings.NewReader(rec.form.Encode()))
	if err == nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		var res *http.Response
		if res, err = s.httpClient.Do(req); err == nil {
			body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
			res.Body.Close()
			a.Status = res.StatusCode
			a.Body = string(body[:min(len(body), 200)])
			a.OK = res.StatusCode == http.StatusOK && string(bytes.TrimSpace(body)) == "success"
		}
	}
	if err != nil {
		a.Error = err.Error()
	}
	s.mu.Lock()
	rec.attempts = append(rec.attempts, a)
	if a.OK {
		rec.delivered++
	}
	s.mu.Unlock()
	s.log.Info("alipay notify attempt", "notify_id", rec.id, "url", rec.url, "status", a.Status, "ok", a.OK, "err", a.Error)
	return a.OK
}

// Notifies lists the notifies, oldest first; outTradeNo filters when not empty.
func (s *Server) Notifies(outTradeNo string) []Notify {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Notify{}
	for _, n := range s.notifies {
		if outTradeNo != "" && n.outTradeNo != outTradeNo {
			continue
		}
		form := map[string]string{}
		for k := range n.form {
			form[k] = n.form.Get(k)
		}
		out = append(out, Notify{
			NotifyID: n.id, OutTradeNo: n.outTradeNo, Kind: n.kind, URL: n.url, Mode: n.mode,
			Form: form, CreatedAt: n.created, Attempts: append([]NotifyAttempt{}, n.attempts...),
			Delivered: n.delivered, Pending: !n.done,
		})
	}
	return out
}
