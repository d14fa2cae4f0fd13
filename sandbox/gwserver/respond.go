package gwserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

const responseContentType = "application/json; charset=utf-8"

// Refusal is a coded error answer: HTTP status, envelope code and message,
// and optional envelope data (the string to sign of a bad signature).
type Refusal struct {
	Status  int
	Code    string
	Message string
	Data    any
}

// Refuse builds a Refusal with a formatted message.
func Refuse(status int, code, format string, args ...any) *Refusal {
	return &Refusal{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// envelope is every gateway answer.
type envelope struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Data      any    `json:"data,omitempty"`
	RequestID string `json:"request_id"`
}

// Render builds the envelope bytes of an answer: data under code "0", or
// the refusal when rf is not nil. Should data not encode, it answers 500
// INTERNAL_ERROR.
func (g *Gateway) Render(requestID string, data any, rf *Refusal) (int, []byte) {
	env := envelope{Code: CodeOK, Message: MessageOK, Data: data, RequestID: requestID}
	status := http.StatusOK
	if rf != nil {
		env = envelope{Code: rf.Code, Message: rf.Message, Data: rf.Data, RequestID: requestID}
		status = rf.Status
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(env); err != nil {
		g.log.Error(g.opts.Name+": encode answer", "err", err)
		buf.Reset()
		buf.WriteString(`{"code":"INTERNAL_ERROR","message":"系统错误","request_id":"` + requestID + `"}` + "\n")
		status = http.StatusInternalServerError
	}
	return status, buf.Bytes()
}

// Reply renders and sends an answer.
func (g *Gateway) Reply(w http.ResponseWriter, r *http.Request, signMethod, requestID string, data any, rf *Refusal) {
	status, out := g.Render(requestID, data, rf)
	g.Send(w, r, signMethod, status, out)
}

// Send writes a signed answer: X-Gw-Timestamp, X-Gw-Nonce and
// X-Gw-Signature over STATUS, BODY_HASH, TIMESTAMP, NONCE and the request's
// nonce, with the request's sign method; X-Gw-Correlation-Id is echoed.
func (g *Gateway) Send(w http.ResponseWriter, r *http.Request, signMethod string, status int, body []byte) {
	ts := strconv.FormatInt(g.now().UnixMilli(), 10)
	nonce := NewNonce()
	h := w.Header()
	h.Set("Content-Type", responseContentType)
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderNonce, nonce)
	h.Set(HeaderSignMethod, signMethod)
	h.Set(HeaderSignature, Sign(g.opts.AppSecret, signMethod, ResponseStringToSign(status, body, signMethod, ts, nonce, r.Header.Get(HeaderNonce))))
	if id := r.Header.Get(HeaderCorrelationID); id != "" {
		h.Set(HeaderCorrelationID, id)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
