package courier

import (
	"encoding/json"
	"net/http"
	"strings"

	"zwfw/sandbox/fake"
)

// queryParam is the param of a real-time query.
type queryParam struct {
	Com      string `json:"com"`
	Num      string `json:"num"`
	Phone    string `json:"phone"`
	From     string `json:"from"`
	To       string `json:"to"`
	Resultv2 string `json:"resultv2"`
	Show     string `json:"show"`  // 0 json (the only format the fake answers)
	Order    string `json:"order"` // desc (default) or asc
}

// query serves /courier/poll/query.do: the parcel's whole track in
// Kuaidi100's format, or {result:false, returnCode, message}.
func (s *Server) query(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, fake.MaxBody)
	if err := r.ParseForm(); err != nil {
		writeFail(w, fail(CodeBadParam, "请求格式错误"))
		return
	}
	customer, sign, raw := r.Form.Get("customer"), r.Form.Get("sign"), r.Form.Get("param")
	if customer == "" || sign == "" || raw == "" {
		writeFail(w, fail(CodeBadParam, "提交的数据不完整：customer、sign、param 均为必填"))
		return
	}
	// An unknown customer has no key to check the signature with.
	if customer != s.customer || !signOK(sign, QuerySign(raw, s.key, customer)) {
		s.log.Warn("courier query refused: bad signature")
		writeFail(w, fail(CodeBadSign, "验证签名失败"))
		return
	}
	var q queryParam
	if err := json.Unmarshal([]byte(raw), &q); err != nil {
		writeFail(w, fail(CodeBadParam, "param 不是合法的 JSON"))
		return
	}
	res, e := s.lookup(q)
	if e != nil {
		writeFail(w, e)
		return
	}
	fake.WriteJSON(w, http.StatusOK, res)
}

// lookup answers a query's param.
func (s *Server) lookup(q queryParam) (trackResult, *apiError) {
	c, ok := lookupCarrier(q.Com)
	switch {
	case q.Num == "":
		return trackResult{}, fail(CodeBadParam, "快递单号 num 不能为空")
	case !ok:
		return trackResult{}, fail(CodeBadParam, "找不到对应公司")
	case q.Show != "" && q.Show != "0":
		return trackResult{}, fail(CodeBadParam, "沙箱仅支持 show=0（json）")
	case q.Order != "" && q.Order != "desc" && q.Order != "asc":
		return trackResult{}, fail(CodeBadParam, "order 只能是 desc 或 asc")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.parcels[q.Num]
	if !ok || p.com != c.code || p.cancelled || len(p.events) == 0 {
		return trackResult{}, fail(CodeNoResult, "查询无结果，请隔段时间再查")
	}
	if c.needPhone && !phoneMatches(q.Phone, p.senderPhone, p.receiverPhone) {
		return trackResult{}, fail(CodePhoneCheck, "快递公司参数异常：手机号码（后四位）与运单不符")
	}
	return trackOf(p, q.Resultv2, q.Order == "asc"), nil
}

// phoneMatches checks a 顺丰-style phone: the full mobile or its last four
// digits, of the sender or the receiver.
func phoneMatches(given string, phones ...string) bool {
	given = strings.TrimSpace(given)
	if len(given) < 4 {
		return false
	}
	for _, p := range phones {
		if p == "" {
			continue
		}
		if given == p || (len(given) == 4 && strings.HasSuffix(p, given)) {
			return true
		}
	}
	return false
}
