package courier

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// pushBody is a push's param field.
type pushBody struct {
	Status     string     `json:"status"`
	Message    string     `json:"message"`
	AutoCheck  string     `json:"autoCheck"`
	ComNew     string     `json:"comNew"`
	LastResult *wireTrack `json:"lastResult"`
}

// ParsePush verifies and reads a push the aggregator POSTed to a
// subscription's callback URL: form holds the request's form fields
// (param, sign) and salt is the subscription's. The signature
// upper(md5(param + salt)) is compared in constant time before anything in
// param is read.
//
// Returns ErrForgedPush when sign is missing or wrong (or salt is empty:
// an unsigned push cannot be trusted), ErrNotTrackingPush for a signed
// message without a track (acknowledge it and move on), ErrBadResponse for
// a signed but unreadable one. The handler answers PushReply(true) once the
// push is stored, PushReply(false) to have it sent again later. Pushes may
// arrive twice or out of order: the one with more events (or the later
// newest event) wins.
func ParsePush(form url.Values, salt string) (Tracking, error) {
	param, sign := form.Get("param"), form.Get("sign")
	if salt == "" || param == "" || sign == "" {
		return Tracking{}, ErrForgedPush
	}
	want := md5Upper(param, salt)
	if subtle.ConstantTimeCompare([]byte(strings.ToUpper(sign)), []byte(want)) != 1 {
		return Tracking{}, ErrForgedPush
	}
	var b pushBody
	if err := json.Unmarshal([]byte(param), &b); err != nil {
		return Tracking{}, ErrBadResponse.WithCause(fmt.Errorf("kuaidi100 push: %w", err))
	}
	if b.LastResult == nil {
		return Tracking{}, ErrNotTrackingPush
	}
	t, err := b.LastResult.tracking()
	if err != nil {
		return Tracking{}, err
	}
	if b.AutoCheck == "1" && b.ComNew != "" {
		// Kuaidi100 corrected the company code and follows the new one.
		t.Carrier = b.ComNew
	}
	t.MonitorStatus, t.MonitorMessage = b.Status, b.Message
	return t, nil
}

// Push replies Kuaidi100 expects; anything else makes it push again.
var (
	pushOK   = []byte(`{"result":true,"returnCode":"200","message":"成功"}`)
	pushFail = []byte(`{"result":false,"returnCode":"500","message":"失败"}`)
)

// PushReply is the JSON body to answer a push with (Content-Type
// application/json): ok = stored, the aggregator stops; otherwise it
// retries later.
func PushReply(ok bool) []byte {
	if ok {
		return append([]byte(nil), pushOK...)
	}
	return append([]byte(nil), pushFail...)
}
