package push

import (
	"fmt"
	"net/http"

	"zwfw/sandbox/fake"
)

// JPush Push API v3 error codes the fake answers with.
const (
	CodeInternal       = 1000 // 500: server internal error, retry later
	CodeMethod         = 1001 // 405: only POST
	CodeMissingParam   = 1002 // 400: a mandatory field is missing
	CodeInvalidParam   = 1003 // 400: a field's value is invalid
	CodeAuthFailed     = 1004 // 401: app key / master secret refused
	CodeTooLarge       = 1005 // 400: the message body is too large
	CodeNoTarget       = 1011 // 400: no device matches the audience
	CodeServiceTimeout = 1030 // 503: internal service timeout, retry later
	CodeRateLimited    = 2002 // 429: over the app key's rate limit
)

// statusOf is the HTTP status JPush pairs with each code.
var statusOf = map[int]int{
	CodeInternal:       http.StatusInternalServerError,
	CodeMethod:         http.StatusMethodNotAllowed,
	CodeMissingParam:   http.StatusBadRequest,
	CodeInvalidParam:   http.StatusBadRequest,
	CodeAuthFailed:     http.StatusUnauthorized,
	CodeTooLarge:       http.StatusBadRequest,
	CodeNoTarget:       http.StatusBadRequest,
	CodeServiceTimeout: http.StatusServiceUnavailable,
	CodeRateLimited:    http.StatusTooManyRequests,
}

// Messages JPush gives for the codes it always words the same way.
const (
	msgAuthFailed  = "Authen failed"
	msgNoTarget    = "cannot find user by this audience or has been inactive for more than 255 days"
	msgRateLimited = "Rate limit exceeded"
	msgInternal    = "Server Internal error."
	msgMethod      = "Only support HTTP POST method."
)

// apiError is an answer other than success.
type apiError struct {
	code  int
	msg   string
	msgID string // set on 1011, as JPush reports which push found no one
}

func errorf(code int, format string, args ...any) *apiError {
	return &apiError{code: code, msg: fmt.Sprintf(format, args...)}
}

func (e *apiError) Error() string { return fmt.Sprintf("jpush %d: %s", e.code, e.msg) }

// write answers {"error": {"code", "message"}} (plus "msg_id" when known)
// with the code's HTTP status.
func (e *apiError) write(w http.ResponseWriter) {
	type body struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	status, ok := statusOf[e.code]
	if !ok {
		status = http.StatusBadRequest
	}
	fake.WriteJSON(w, status, struct {
		Error body   `json:"error"`
		MsgID string `json:"msg_id,omitempty"`
	}{body{e.code, e.msg}, e.msgID})
}

// gatewayDown is the page a load balancer serves when the gateway behind it
// is gone: HTML, not JPush's JSON, so clients must not rely on a code.
const gatewayDown = `<html>
<head><title>503 Service Temporarily Unavailable</title></head>
<body>
<center><h1>503 Service Temporarily Unavailable</h1></center>
<hr><center>nginx</center>
</body>
</html>
`

func writeGatewayDown(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(gatewayDown))
}
