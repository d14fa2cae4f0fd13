package alipay

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"zwfw/sandbox/fake"
)

// call is one gateway request whose common parameters and signature
// checked out.
type call struct {
	method string
	values url.Values
	now    time.Time
	base   string // scheme://host the request came to, for URLs the answer hands out
}

// decodeBiz parses biz_content into v.
func (c *call) decodeBiz(v any) *Error {
	biz := c.values.Get("biz_content")
	if biz == "" {
		return missingArg(SubMissingBizContent, "缺少业务参数 biz_content")
	}
	if err := json.Unmarshal([]byte(biz), v); err != nil {
		return invalidArg(SubInvalidBizContent, "biz_content 不是合法的 JSON 对象：%v", err)
	}
	return nil
}

// api is one OpenAPI method: it answers a success body or an Error.
type api func(c *call) (any, *Error)

// apis are the OpenAPI methods the gateway serves.
func (s *Server) apis() map[string]api {
	return map[string]api{
		"alipay.trade.query":                             s.apiQuery,
		"alipay.trade.close":                             s.apiClose,
		"alipay.trade.refund":                            s.apiRefund,
		"alipay.trade.fastpay.refund.query":              s.apiRefundQuery,
		"alipay.data.dataservice.bill.downloadurl.query": s.apiBillURL,
	}
}

// Payment methods the client side builds: the app SDK or the browser takes
// them to Alipay, never zwfw's server.
const (
	methodAppPay = "alipay.trade.app.pay"
	methodWapPay = "alipay.trade.wap.pay"
)

// gateway: GET|POST /alipay/gateway.do. Parameters come form-encoded in the
// body (what the SDK sends) or in the query (what a browser opening a WAP
// URL sends), as on the real gateway.
func (s *Server) gateway(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, fake.MaxBody)
	if err := r.ParseForm(); err != nil {
		s.writeResponse(w, "", nil, invalidArg(SubInvalidParam, "请求参数无法解析：%v", err), false)
		return
	}
	values := r.Form
	now := s.now()
	if values.Get("method") == methodWapPay {
		s.cashier(w, values)
		return
	}
	method, e := s.checkRequest(values, now)
	if e != nil {
		s.writeResponse(w, method, nil, e, false)
		return
	}
	fn, ok := s.apis()[method]
	if !ok {
		// The response key of an unknown method is error_response.
		s.writeResponse(w, "", nil, invalidArg(SubInvalidMethod, "不存在的方法名：%s", method), false)
		return
	}
	body, e := fn(&call{method: method, values: values, now: now, base: baseURL(r)})
	s.writeResponse(w, method, body, e, true)
}

// checkRequest checks the common request parameters and the RSA2
// signature, in the order the gateway does, and returns the method. A
// refusal's method is "" when the method itself is at fault (the answer
// then goes under error_response).
func (s *Server) checkRequest(v url.Values, now time.Time) (string, *Error) {
	method := v.Get("method")
	switch {
	case method == "":
		return "", missingArg(SubMissingMethod, "缺少方法名参数")
	case v.Get("app_id") == "":
		return method, missingArg(SubMissingAppID, "缺少AppID参数")
	case v.Get("app_id") != s.appID:
		return method, invalidArg(SubInvalidAppID, "无效的AppID参数")
	case !strings.EqualFold(v.Get("charset"), "utf-8"):
		return method, invalidArg(SubInvalidCharset, "字符集错误：沙箱只接受 utf-8，收到 %q", v.Get("charset"))
	case v.Get("format") != "" && !strings.EqualFold(v.Get("format"), "JSON"):
		return method, invalidArg(SubInvalidFormat, "无效的数据格式：%q", v.Get("format"))
	case v.Get("sign_type") != "RSA2":
		return method, invalidArg(SubInvalidSignType, "无效的签名类型：%q（应用须使用 RSA2）", v.Get("sign_type"))
	case v.Get("version") != "1.0":
		return method, invalidArg(SubInvalidVersion, "无效的版本号：%q", v.Get("version"))
	case v.Get("encrypt_type") != "":
		return method, invalidArg(SubInvalidEncrypt, "沙箱不支持接口内容加密")
	}
	if e := s.checkTimestamp(v.Get("timestamp"), now); e != nil {
		return method, e
	}
	if v.Get("sign") == "" {
		return method, missingArg(SubMissingSignature, "缺少签名参数")
	}
	content := SignContent(v, "sign")
	if rsa2Verify(&s.appKey.PublicKey, []byte(content), v.Get("sign")) != nil {
		return method, invalidArg(SubInvalidSignature, "%s%s", signatureMismatchPrefix, content)
	}
	return method, nil
}

// checkTimestamp checks the "yyyy-MM-dd HH:mm:ss" (GMT+8) timestamp, and its
// distance from the clock when MaxTimestampSkew is set.
func (s *Server) checkTimestamp(ts string, now time.Time) *Error {
	if ts == "" {
		return missingArg(SubMissingTimestamp, "缺少时间戳参数")
	}
	t, err := time.ParseInLocation(timeLayout, ts, chinaTime)
	if err != nil {
		return invalidArg(SubInvalidTimestamp, "非法的时间戳参数：%q（格式 yyyy-MM-dd HH:mm:ss）", ts)
	}
	if s.maxSkew > 0 {
		if d := now.Sub(t); d > s.maxSkew || d < -s.maxSkew {
			return invalidArg(SubInvalidTimestamp, "非法的时间戳参数：与支付宝服务器时间相差 %s", d.Round(time.Second))
		}
	}
	return nil
}

// writeResponse answers {"<method>_response": value, "sign": "..."}: value
// is body, or e when the call failed. The signature covers exactly the
// value's bytes as written, which is what the SDK verifies. sign is false
// for refusals of requests that did not pass the common checks (the SDK
// then reads the unsigned error, as it does with the real gateway's).
func (s *Server) writeResponse(w http.ResponseWriter, method string, body any, e *Error, sign bool) {
	key := "error_response"
	if method != "" {
		key = strings.ReplaceAll(method, ".", "_") + "_response"
	}
	var value any = body
	if e != nil {
		value = e
	}
	raw := marshal(value)
	var out bytes.Buffer
	out.WriteString(`{"`)
	out.WriteString(key)
	out.WriteString(`":`)
	out.Write(raw)
	if sign {
		out.WriteString(`,"sign":"`)
		out.WriteString(rsa2Sign(s.gwKey, raw))
		out.WriteString(`"`)
	}
	out.WriteString("}")
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(http.StatusOK) // Alipay answers 200 for every OpenAPI outcome
	_, _ = w.Write(out.Bytes())
}

// marshal is JSON without HTML escaping and without the encoder's newline.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // the fake's own reply types always marshal
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// baseURL is scheme://host of the request, so URLs the gateway hands out
// point back at the sandbox however it is reached.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
