package courier

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Push outcomes, as GET /sandbox/courier/pushes shows them.
const (
	OutcomeQueued    = "queued"    // waiting for its (next) attempt
	OutcomeRetrying  = "retrying"  // an attempt failed; another is scheduled
	OutcomeDelivered = "delivered" // the receiver answered result=true, returnCode 200
	OutcomeGaveUp    = "gave_up"   // every attempt failed
	OutcomeDropped   = "dropped"   // lost on purpose (FaultDrop)
	OutcomeOff       = "off"       // not sent (FaultOff)
	OutcomeHeld      = "held"      // waiting for the next push to overtake it (FaultReorder)
)

// subKey identifies a subscription: Kuaidi100 subscribes company + number.
type subKey struct{ com, num string }

// subscription is one waybill's push subscription.
type subscription struct {
	com, num    string
	callbackURL string
	salt        string
	phone       string
	resultv2    string
	active      bool     // false once shut down (the parcel was signed for)
	held        *pushJob // a push FaultReorder holds back
}

// Push is one push as the controls show it.
type Push struct {
	ID             string    `json:"id"`
	Number         string    `json:"num"`
	Com            string    `json:"com"`
	State          string    `json:"state"`  // lastResult.state carried
	Events         int       `json:"events"` // track entries carried
	URL            string    `json:"url"`
	Fault          string    `json:"fault,omitempty"` // "duplicate" or "reordered" when a fault shaped this push
	Outcome        string    `json:"outcome"`
	Attempts       int       `json:"attempts"`
	LastHTTPStatus int       `json:"last_http_status,omitempty"`
	LastError      string    `json:"last_error,omitempty"`
	LastReply      string    `json:"last_reply,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	Param          string    `json:"param"`
	Sign           string    `json:"sign,omitempty"`
}

// pushBody is the JSON of a push's param field.
type pushBody struct {
	Status     string      `json:"status"`     // polling, shutdown (signed for), abort, updateall
	BillStatus string      `json:"billstatus"` // got, sending, check (deprecated by Kuaidi100)
	Message    string      `json:"message"`
	AutoCheck  string      `json:"autoCheck"`
	ComOld     string      `json:"comOld"`
	ComNew     string      `json:"comNew"`
	LastResult trackResult `json:"lastResult"`
}

// pushJob is one push on its way; a retry reuses it.
type pushJob struct {
	push    *Push
	body    string // the encoded form
	attempt int    // attempts made
}

// pushesLocked builds the push a parcel's change causes, applies the
// fault in force and returns what to send now, in order. The caller holds s.mu.
func (s *Server) pushesLocked(p *parcel) []*pushJob {
	sub := s.subs[subKey{p.com, p.num}]
	if sub == nil || !sub.active || len(p.events) == 0 {
		return nil
	}
	final := p.final()
	body := pushBody{Status: "polling", BillStatus: "sending", AutoCheck: "0", LastResult: trackOf(p, sub.resultv2, false)}
	switch {
	case final:
		// Kuaidi100 stops monitoring a signed-for waybill: status shutdown.
		body.Status, body.BillStatus = "shutdown", "check"
		sub.active = false
	case p.state() == StatePickedUp:
		body.BillStatus = "got"
	}
	job := s.newJobLocked(p, sub, body)

	f := s.faultForLocked(p.num)
	var send []*pushJob
	switch f.Mode {
	case FaultOff:
		job.push.Outcome = OutcomeOff
		if sub.held != nil {
			sub.held.push.Outcome = OutcomeOff
			sub.held = nil
		}
		return nil
	case FaultDrop:
		if s.rng.Float64() < f.DropRate {
			job.push.Outcome = OutcomeDropped
		} else {
			send = append(send, job)
		}
	case FaultDuplicate:
		dup := s.newJobLocked(p, sub, body)
		dup.push.Fault = FaultDuplicate
		send = append(send, job, dup)
	case FaultReorder:
		if sub.held == nil && !final {
			job.push.Outcome = OutcomeHeld
			sub.held = job
			return nil
		}
		send = append(send, job)
	default:
		send = append(send, job)
	}
	if sub.held != nil {
		// The later push has gone (or been lost); the earlier one follows it.
		sub.held.push.Outcome = OutcomeQueued
		sub.held.push.Fault = "reordered"
		send = append(send, sub.held)
		sub.held = nil
	}
	return send
}

// newJobLocked records a push of body to the subscriber. The caller holds s.mu.
func (s *Server) newJobLocked(p *parcel, sub *subscription, body pushBody) *pushJob {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Kuaidi100 sends 【】 and & as they are
	_ = enc.Encode(body)
	param := strings.TrimSuffix(buf.String(), "\n")
	form := url.Values{"param": {param}}
	var sign string
	if sub.salt != "" {
		// Kuaidi100 signs pushes only for subscriptions with a salt.
		sign = PushSign(param, sub.salt)
		form.Set("sign", sign)
	}
	s.pushSeq++
	push := &Push{
		ID: fmt.Sprintf("P%06d", s.pushSeq), Number: p.num, Com: p.com, State: body.LastResult.State,
		Events: len(body.LastResult.Data), URL: sub.callbackURL, Outcome: OutcomeQueued,
		CreatedAt: s.now(), Param: param, Sign: sign,
	}
	s.pushes = append(s.pushes, push)
	return &pushJob{push: push, body: form.Encode()}
}

// Pushes lists the pushes made for a waybill (all when num is ""), oldest first.
func (s *Server) Pushes(num string) []Push {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Push{}
	for _, p := range s.pushes {
		if num == "" || p.Number == num {
			out = append(out, *p)
		}
	}
	return out
}

// deliverLoop sends queued pushes one at a time, in the order they were
// queued, until Close.
func (s *Server) deliverLoop() {
	defer s.wg.Done()
	for {
		job := s.queue.pop(s.ctx)
		if job == nil {
			return
		}
		s.attempt(job)
	}
}

// attempt makes one delivery attempt and schedules the next after a failure.
func (s *Server) attempt(job *pushJob) {
	status, replyText, err := s.post(job)
	ok := err == nil && status == http.StatusOK && ackOK(replyText)
	s.mu.Lock()
	defer s.mu.Unlock()
	p := job.push
	job.attempt++
	p.Attempts = job.attempt
	p.LastHTTPStatus, p.LastReply, p.LastError = status, replyText, ""
	if err != nil {
		p.LastError = err.Error()
	}
	switch {
	case ok:
		p.Outcome = OutcomeDelivered
		return
	case s.ctx.Err() != nil:
		return // closing: the attempt was cut short, nothing more is sent
	case job.attempt > len(s.retryDelays):
		p.Outcome = OutcomeGaveUp
		s.log.Warn("courier push given up", "id", p.ID, "num", p.Number, "url", p.URL)
		return
	}
	p.Outcome = OutcomeRetrying
	s.log.Warn("courier push failed", "id", p.ID, "num", p.Number, "attempt", job.attempt, "status", status, "err", err)
	delay := s.retryDelays[job.attempt-1]
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			s.queue.push(job)
		case <-s.ctx.Done():
		}
	}()
}

// post sends the push form and returns the HTTP status and the reply's text.
func (s *Server) post(job *pushJob) (int, string, error) {
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, job.push.URL, strings.NewReader(job.body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded;charset=UTF-8")
	res, err := s.httpClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, string(b), nil
}

// ackOK reports whether a reply is Kuaidi100's expected
// {"result":true,"returnCode":"200",...}; returnCode may be a number too.
func ackOK(text string) bool {
	var a struct {
		Result     bool            `json:"result"`
		ReturnCode json.RawMessage `json:"returnCode"`
	}
	if json.Unmarshal([]byte(text), &a) != nil {
		return false
	}
	return a.Result && strings.Trim(string(a.ReturnCode), `"`) == CodeOK
}

// pushQueue is an unbounded FIFO of pushes to attempt.
type pushQueue struct {
	mu     sync.Mutex
	jobs   []*pushJob
	signal chan struct{}
}

func newPushQueue() *pushQueue { return &pushQueue{signal: make(chan struct{}, 1)} }

// push appends jobs and wakes the delivery loop.
func (q *pushQueue) push(jobs ...*pushJob) {
	if len(jobs) == 0 {
		return
	}
	q.mu.Lock()
	q.jobs = append(q.jobs, jobs...)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// pop waits for the next job; nil once ctx ends.
func (q *pushQueue) pop(ctx context.Context) *pushJob {
	for {
		q.mu.Lock()
		if len(q.jobs) > 0 {
			j := q.jobs[0]
			q.jobs[0] = nil
			q.jobs = q.jobs[1:]
			q.mu.Unlock()
			return j
		}
		q.mu.Unlock()
		select {
		case <-q.signal:
		case <-ctx.Done():
			return nil
		}
	}
}
