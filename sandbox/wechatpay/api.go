package wechatpay

import (
	"io"
	"net/http"
	"time"

	"zwfw/sandbox/fake"
)

// request is an authenticated API request.
type request struct {
	msg      Message
	appID    string
	signType string // as the request asked: the answer is signed the same way
	now      time.Time
}

// get returns a request parameter.
func (r *request) get(name string) string { return r.msg.Get(name) }

// result is what an API operation answers: business fields, or a business
// error (result_code FAIL with err_code / err_code_des).
type result struct {
	fields  Message
	errCode string
	errDes  string
}

func fail(code, des string) result { return result{errCode: code, errDes: des} }

// api wraps an operation with what every v2 API call goes through: read
// the XML, check merchant, app id, nonce and signature (refusals are
// return_code FAIL, as WeChat answers them), settle what the clock made
// due, and answer with a signed message.
func (s *Server) api(op func(*request) result) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, fake.MaxBody))
		if err != nil || len(body) == 0 {
			writeFail(w, "post数据为空")
			return
		}
		msg, err := ParseMessage(body)
		if err != nil {
			writeFail(w, "XML格式错误")
			return
		}
		req, refusal := s.authenticate(msg)
		if refusal != "" {
			s.log.Warn("wechatpay request refused", "path", r.URL.Path, "reason", refusal)
			writeFail(w, refusal)
			return
		}
		req.now = s.now()
		s.settleDue(req.now)
		res := op(req)
		if res.errCode != "" {
			s.log.Info("wechatpay business error", "path", r.URL.Path, "err_code", res.errCode, "err_code_des", res.errDes)
		}
		writeMessage(w, http.StatusOK, s.signedAnswer(req, res))
	}
}

// authenticate checks what WeChat Pay checks before any business rule;
// the non-empty string says why a request is refused.
func (s *Server) authenticate(msg Message) (*request, string) {
	switch mch := msg.Get("mch_id"); {
	case mch == "":
		return nil, "缺少参数mch_id"
	case mch != s.mchID:
		return nil, "mch_id参数错误：商户号不存在"
	}
	appID := msg.Get("appid")
	switch {
	case appID == "":
		return nil, "缺少参数appid"
	case appID != s.miniAppID && appID != s.appAppID:
		return nil, "appid和mch_id不匹配"
	}
	if n := msg.Get("nonce_str"); n == "" || len(n) > 32 {
		return nil, "nonce_str参数长度有误"
	}
	signType := msg.Get("sign_type")
	if !validSignType(signType) {
		return nil, "sign_type参数错误"
	}
	if signType == "" {
		signType = SignMD5
	}
	if msg.Get("sign") == "" || !verify(msg.Map(), s.apiKey, signType) {
		return nil, "签名错误"
	}
	return &request{msg: msg, appID: appID, signType: signType}, ""
}

// signedAnswer is the reply to an authenticated request, signed with the
// request's sign type.
func (s *Server) signedAnswer(req *request, res result) Message {
	msg := Message{
		{"return_code", "SUCCESS"},
		{"return_msg", "OK"},
		{"appid", req.appID},
		{"mch_id", s.mchID},
		{"nonce_str", fake.RandomString(fake.Alphanumeric, 16)},
	}
	if res.errCode == "" {
		msg = append(msg, Field{"result_code", "SUCCESS"})
	} else {
		msg = append(msg, Field{"result_code", "FAIL"}, Field{"err_code", res.errCode}, Field{"err_code_des", res.errDes})
	}
	msg = append(msg, res.fields...)
	msg = append(msg, Field{"sign", Sign(msg.Map(), s.apiKey, req.signType)})
	return msg
}

// writeFail answers return_code FAIL (not signed: WeChat does not sign them).
func writeFail(w http.ResponseWriter, msg string) {
	writeMessage(w, http.StatusOK, Message{{"return_code", "FAIL"}, {"return_msg", msg}})
}

// writeMessage writes an XML message.
func writeMessage(w http.ResponseWriter, status int, msg Message) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(msg.Encode())
}
