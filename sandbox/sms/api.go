package sms

import (
	"crypto/subtle"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"zwfw/sandbox/fake"
)

// Aliyun error codes the gateway answers with.
const (
	CodeOK                 = "OK"
	CodeAccessKeyNotFound  = "InvalidAccessKeyId.NotFound"
	CodeSignatureMismatch  = "SignatureDoesNotMatch"
	CodeTimestampExpired   = "InvalidTimeStamp.Expired"
	CodeTimestampFormat    = "InvalidTimeStamp.Format"
	CodeNonceUsed          = "SignatureNonceUsed"
	CodeActionNotFound     = "InvalidAction.NotFound"
	CodeInvalidVersion     = "InvalidVersion"
	CodeSignatureMethod    = "InvalidSignatureMethod.Unsupported"
	CodeSignatureVersion   = "InvalidSignatureVersion.Unsupported"
	CodeMobileIllegal      = "isv.MOBILE_NUMBER_ILLEGAL"
	CodeMobileCountOver    = "isv.MOBILE_COUNT_OVER_LIMIT"
	CodeSignatureIllegal   = "isv.SMS_SIGNATURE_ILLEGAL"
	CodeTemplateIllegal    = "isv.SMS_TEMPLATE_ILLEGAL"
	CodeInvalidJSONParam   = "isv.INVALID_JSON_PARAM"
	CodeMissingParameters  = "isv.TEMPLATE_MISSING_PARAMETERS"
	CodeParamLengthLimit   = "isv.PARAM_LENGTH_LIMIT"
	CodeBusinessLimit      = "isv.BUSINESS_LIMIT_CONTROL"
	CodeDayLimit           = "isv.DAY_LIMIT_CONTROL"
	CodeAmountNotEnough    = "isv.AMOUNT_NOT_ENOUGH"
	CodeServiceUnavailable = "ServiceUnavailable"
	CodeInternalError      = "InternalError"
)

const (
	maxPhonesPerRequest    = 1000
	maxTemplateParamRunes  = 2000
	defaultInjectedMessage = "sandbox injected failure"
)

// errorTable: HTTP status and Aliyun's message per code. Codes marked
// (sandbox) are not documented by Aliyun with this exact spelling.
var errorTable = map[string]struct {
	status int
	msg    string
}{
	CodeAccessKeyNotFound:  {http.StatusNotFound, "Specified access key is not found."},
	CodeSignatureMismatch:  {http.StatusBadRequest, "Specified signature is not matched with our calculation."},
	CodeTimestampExpired:   {http.StatusBadRequest, "Specified time stamp or date value is expired."},
	CodeTimestampFormat:    {http.StatusBadRequest, "Specified time stamp or date value is not well formatted."},
	CodeNonceUsed:          {http.StatusBadRequest, "Specified signature nonce was used already."},
	CodeActionNotFound:     {http.StatusNotFound, "Specified api is not found, please check your url and method."},
	CodeInvalidVersion:     {http.StatusBadRequest, "Specified parameter Version is not valid."},
	CodeSignatureMethod:    {http.StatusBadRequest, "Specified signature method is not supported."},  // (sandbox)
	CodeSignatureVersion:   {http.StatusBadRequest, "Specified signature version is not supported."}, // (sandbox)
	CodeServiceUnavailable: {http.StatusServiceUnavailable, "The request has failed due to a temporary failure of the server."},
	CodeInternalError:      {http.StatusInternalServerError, "The request processing has failed due to some unknown error, exception or failure."},
	CodeMobileIllegal:      {http.StatusOK, "非法手机号"},
	CodeMobileCountOver:    {http.StatusOK, "手机号码数量超过限制"},
	CodeSignatureIllegal:   {http.StatusOK, "该账号下找不到对应签名"},
	CodeTemplateIllegal:    {http.StatusOK, "该账号下找不到对应模板"},
	CodeInvalidJSONParam:   {http.StatusOK, "JSON参数不合法，只接受字符串值"},
	CodeMissingParameters:  {http.StatusOK, "模板缺少变量"},
	CodeParamLengthLimit:   {http.StatusOK, "参数超出长度限制"},
	CodeBusinessLimit:      {http.StatusOK, "触发分钟级流控Permits:1"},
	CodeDayLimit:           {http.StatusOK, "触发日发送限额"},
	CodeAmountNotEnough:    {http.StatusOK, "账户余额不足"},
}

// knownError returns the status and message for code: the table's, else
// 200 for business (isv.*) codes and 400 for others.
func knownError(code string) (int, string) {
	if e, ok := errorTable[code]; ok {
		return e.status, e.msg
	}
	if strings.HasPrefix(code, "isv.") {
		return http.StatusOK, defaultInjectedMessage
	}
	return http.StatusBadRequest, defaultInjectedMessage
}

// rpcError is an answer other than OK.
type rpcError struct {
	status int
	code   string
	msg    string
}

func newErr(code string) *rpcError {
	status, msg := knownError(code)
	return &rpcError{status: status, code: code, msg: msg}
}

func (e *rpcError) withMsg(msg string) *rpcError { e.msg = msg; return e }

// missing is POP's answer for an absent mandatory parameter.
func missing(param string) *rpcError {
	return &rpcError{status: http.StatusBadRequest, code: "Missing" + param, msg: param + " is mandatory for this action."}
}

// rpc serves Action=SendSms.
func (g *Gateway) rpc(w http.ResponseWriter, r *http.Request) {
	requestID := strings.ToUpper(uuid.NewString())
	r.Body = http.MaxBytesReader(w, r.Body, fake.MaxBody)
	if err := r.ParseForm(); err != nil {
		g.reply(w, "JSON", requestID, "", &rpcError{status: http.StatusBadRequest, code: "InvalidParameter", msg: "The request body is not a valid form."})
		return
	}
	params := r.Form // form body and query, as the gateway takes either
	format := params.Get("Format")
	now := g.now()
	if err := g.authenticate(r.Method, params, now); err != nil {
		g.log.Warn("sms request refused", "code", err.code, "status", err.status)
		g.reply(w, format, requestID, "", err)
		return
	}
	// An injected failure hits only requests that authenticate, so that it
	// is not eaten by a malformed probe before zwfw's next send.
	if f, ok := g.takeFailure(strings.Split(params.Get("PhoneNumbers"), ",")); ok {
		g.log.Warn("sms send failed (injected)", "code", f.Code)
		if f.Code == FailDropConnection {
			dropConnection(w)
			return
		}
		g.reply(w, format, requestID, "", &rpcError{status: f.Status, code: f.Code, msg: f.Message})
		return
	}
	bizID, err := g.deliver(params, requestID, now)
	if err != nil {
		g.log.Warn("sms send rejected", "code", err.code)
	}
	g.reply(w, format, requestID, bizID, err)
}

// authenticate checks a request the way the POP gateway does: route,
// credentials, timestamp, signature, replay.
func (g *Gateway) authenticate(method string, params url.Values, now time.Time) *rpcError {
	for _, p := range []string{"Action", "Version", "AccessKeyId", "Timestamp", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Signature"} {
		if params.Get(p) == "" {
			return missing(p)
		}
	}
	switch {
	case params.Get("Action") != Action:
		return newErr(CodeActionNotFound)
	case params.Get("Version") != Version:
		return newErr(CodeInvalidVersion)
	case params.Get("AccessKeyId") != g.keyID:
		return newErr(CodeAccessKeyNotFound)
	case params.Get("SignatureMethod") != "HMAC-SHA1":
		return newErr(CodeSignatureMethod)
	case params.Get("SignatureVersion") != "1.0":
		return newErr(CodeSignatureVersion)
	}
	ts, err := time.Parse(TimestampLayout, params.Get("Timestamp"))
	if err != nil {
		return newErr(CodeTimestampFormat)
	}
	if d := now.Sub(ts); d > Window || d < -Window {
		return newErr(CodeTimestampExpired)
	}
	sts := StringToSign(method, params)
	if subtle.ConstantTimeCompare([]byte(Sign(sts, g.keySecret)), []byte(params.Get("Signature"))) != 1 {
		// Aliyun shows its string to sign so that a client can find its bug.
		return newErr(CodeSignatureMismatch).withMsg(errorTable[CodeSignatureMismatch].msg + " server string to sign is:" + sts)
	}
	if !g.useNonce(params.Get("SignatureNonce"), now) {
		return newErr(CodeNonceUsed)
	}
	return nil
}

// deliver checks a request the way the SMS service does (numbers,
// signature, template, variables, flow control) and records the message.
func (g *Gateway) deliver(params url.Values, requestID string, now time.Time) (string, *rpcError) {
	for _, p := range []string{"PhoneNumbers", "SignName", "TemplateCode"} {
		if params.Get(p) == "" {
			return "", missing(p)
		}
	}
	phones := strings.Split(params.Get("PhoneNumbers"), ",")
	if len(phones) > maxPhonesPerRequest {
		return "", newErr(CodeMobileCountOver)
	}
	for i, p := range phones {
		phones[i] = normalizePhone(p)
		if !mobilePattern.MatchString(phones[i]) {
			return "", newErr(CodeMobileIllegal)
		}
	}
	signName, tmplCode := params.Get("SignName"), params.Get("TemplateCode")
	g.mu.Lock()
	signOK := g.signNames[signName]
	tmpl, tmplOK := g.templates[tmplCode]
	g.mu.Unlock()
	if !signOK {
		return "", newErr(CodeSignatureIllegal)
	}
	if !tmplOK {
		return "", newErr(CodeTemplateIllegal)
	}
	vars, err := templateParams(params.Get("TemplateParam"), tmpl)
	if err != nil {
		return "", err
	}
	if err := g.admit(phones, tmpl.Code, now); err != nil {
		return "", err
	}
	// Aliyun BizIds: 18 digits and "^0".
	bizID := fake.RandomString("123456789", 1) + fake.RandomString(fake.Digits, 17) + "^0"
	g.mu.Lock()
	for _, p := range phones {
		g.messages = append(g.messages, Message{
			Phone: p, SignName: signName, TemplateCode: tmpl.Code, Params: vars,
			Content: tmpl.Render(signName, vars), BizID: bizID, OutID: params.Get("OutId"),
			RequestID: requestID, Time: now,
		})
	}
	g.mu.Unlock()
	for _, p := range phones {
		g.log.Info("sms accepted", "phone", maskPhone(p), "template", tmpl.Code, "biz_id", bizID)
	}
	return bizID, nil
}

// templateParams parses TemplateParam and checks it against tmpl.
func templateParams(raw string, tmpl Template) (map[string]string, *rpcError) {
	vars := map[string]string{}
	if raw != "" {
		if utf8.RuneCountInString(raw) > maxTemplateParamRunes {
			return nil, newErr(CodeParamLengthLimit)
		}
		var anyVars map[string]any
		if err := json.Unmarshal([]byte(raw), &anyVars); err != nil {
			return nil, newErr(CodeInvalidJSONParam)
		}
		for k, v := range anyVars {
			s, ok := v.(string) // Aliyun takes string values only
			if !ok {
				return nil, newErr(CodeInvalidJSONParam)
			}
			vars[k] = s
		}
	}
	for _, p := range tmpl.Params() {
		v, ok := vars[p]
		if !ok || v == "" {
			return nil, newErr(CodeMissingParameters).withMsg(fmt.Sprintf("模板缺少变量: %s", p))
		}
		if utf8.RuneCountInString(v) > tmpl.maxParamLen() {
			return nil, newErr(CodeParamLengthLimit).withMsg(fmt.Sprintf("参数超出长度限制: %s", p))
		}
	}
	return vars, nil
}

// useNonce records a nonce; false when it was used within Window.
func (g *Gateway) useNonce(nonce string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(g.nonceLog) > 0 && now.Sub(g.nonceLog[0].at) > Window {
		if g.nonces[g.nonceLog[0].nonce] == g.nonceLog[0].at {
			delete(g.nonces, g.nonceLog[0].nonce)
		}
		g.nonceLog = g.nonceLog[1:]
	}
	if at, used := g.nonces[nonce]; used && now.Sub(at) <= Window {
		return false
	}
	g.nonces[nonce] = now
	g.nonceLog = append(g.nonceLog, nonceEntry{nonce, now})
	return true
}

// chinaTime is UTC+8 without tzdata: Aliyun's day limits follow the calendar day in China.
var chinaTime = time.FixedZone("CST", 8*3600)

// admit applies flow control to every phone and, when all pass, counts the send.
func (g *Gateway) admit(phones []string, template string, now time.Time) *rpcError {
	g.mu.Lock()
	defer g.mu.Unlock()
	y, m, d := now.In(chinaTime).Date()
	dayStart := time.Date(y, m, d, 0, 0, 0, 0, chinaTime)
	for _, p := range phones {
		k := flowKey{p, template}
		var lastMinute, lastHour, today int
		kept := g.sent[k][:0]
		for _, t := range g.sent[k] {
			if now.Sub(t) >= 24*time.Hour {
				continue // older than any window
			}
			kept = append(kept, t)
			if now.Sub(t) < time.Minute {
				lastMinute++
			}
			if now.Sub(t) < time.Hour {
				lastHour++
			}
			if !t.Before(dayStart) {
				today++
			}
		}
		g.sent[k] = kept
		switch f := g.flow; {
		case f.PerMinute > 0 && lastMinute >= f.PerMinute:
			return newErr(CodeBusinessLimit).withMsg(fmt.Sprintf("触发分钟级流控Permits:%d", f.PerMinute))
		case f.PerHour > 0 && lastHour >= f.PerHour:
			return newErr(CodeBusinessLimit).withMsg(fmt.Sprintf("触发小时级流控Permits:%d", f.PerHour))
		case f.PerDay > 0 && today >= f.PerDay:
			return newErr(CodeBusinessLimit).withMsg(fmt.Sprintf("触发天级流控Permits:%d", f.PerDay))
		}
	}
	for _, p := range phones {
		k := flowKey{p, template}
		g.sent[k] = append(g.sent[k], now)
	}
	return nil
}

// Mainland mobile numbers: 11 digits starting 13-19.
var mobilePattern = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// normalizePhone strips the country prefixes Aliyun accepts (+86, 0086, 86).
func normalizePhone(p string) string {
	p = strings.TrimSpace(p)
	for _, prefix := range []string{"+86", "0086"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			return rest
		}
	}
	if len(p) == 13 && strings.HasPrefix(p, "86") {
		return p[2:]
	}
	return p
}

// maskPhone keeps log lines free of full phone numbers.
func maskPhone(p string) string {
	if len(p) != 11 {
		return "***"
	}
	return p[:3] + "****" + p[7:]
}

// reply writes the answer in the requested Format (Aliyun's default is XML).
func (g *Gateway) reply(w http.ResponseWriter, format, requestID, bizID string, e *rpcError) {
	type okBody struct {
		XMLName   xml.Name `json:"-" xml:"SendSmsResponse"`
		Message   string   `json:"Message"`
		RequestID string   `json:"RequestId" xml:"RequestId"`
		BizID     string   `json:"BizId,omitempty" xml:"BizId,omitempty"`
		Code      string   `json:"Code"`
	}
	type gatewayErrBody struct {
		XMLName   xml.Name `json:"-" xml:"Error"`
		RequestID string   `json:"RequestId" xml:"RequestId"`
		HostID    string   `json:"HostId" xml:"HostId"`
		Code      string   `json:"Code"`
		Message   string   `json:"Message"`
		Recommend string   `json:"Recommend"`
	}
	var status int
	var body any
	switch {
	case e == nil:
		status, body = http.StatusOK, okBody{Message: "OK", RequestID: requestID, BizID: bizID, Code: CodeOK}
	case e.status == http.StatusOK:
		// Business errors: HTTP 200, the same shape as success, Code says why.
		status, body = http.StatusOK, okBody{Message: e.msg, RequestID: requestID, Code: e.code}
	default:
		status, body = e.status, gatewayErrBody{
			RequestID: requestID, HostID: HostID, Code: e.code, Message: e.msg,
			Recommend: "https://api.aliyun.com/troubleshoot?q=" + e.code + "&product=Dysmsapi",
		}
	}
	if strings.EqualFold(format, "JSON") {
		fake.WriteJSON(w, status, body)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(body)
}

// dropConnection closes the connection without answering.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // net/http aborts the response
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
