package courier

import (
	"encoding/json"
	"net/http"
	"strings"

	"zwfw/sandbox/fake"
)

// subscribeParam is the param of a subscription (schema=json).
type subscribeParam struct {
	Company    string `json:"company"`
	Number     string `json:"number"`
	From       string `json:"from"`
	To         string `json:"to"`
	Key        string `json:"key"`
	Parameters struct {
		CallbackURL string `json:"callbackurl"`
		Salt        string `json:"salt"`
		Resultv2    string `json:"resultv2"`
		AutoCom     string `json:"autoCom"`
		Phone       string `json:"phone"`
	} `json:"parameters"`
}

// subscribe serves POST /courier/poll. Kuaidi100 accepts a subscription
// for a number it has not seen yet and pushes once tracks appear; a
// subscription already monitoring the same company and number answers 501.
func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, fake.MaxBody)
	if err := r.ParseForm(); err != nil {
		writeFail(w, fail(CodeSubscribeBad, "请求格式错误"))
		return
	}
	if r.Form.Get("schema") != "json" {
		writeFail(w, fail(CodeSubscribeBad, "schema 须为 json（沙箱不支持 xml）"))
		return
	}
	var p subscribeParam
	if err := json.Unmarshal([]byte(r.Form.Get("param")), &p); err != nil {
		writeFail(w, fail(CodeSubscribeBad, "param 不是合法的 JSON"))
		return
	}
	if p.Key != s.key {
		writeFail(w, fail(CodeBadKey, "您不是合法的订阅者（即授权Key出错）"))
		return
	}
	c, ok := lookupCarrier(p.Company)
	pr := p.Parameters
	switch {
	case !ok:
		writeFail(w, fail(CodeSubscribeBad, "不支持的快递公司: "+p.Company))
		return
	case p.Number == "" || len(p.Number) > 32 || strings.ContainsAny(p.Number, " \t\r\n"):
		writeFail(w, fail(CodeSubscribeBad, "快递单号为空或超长"))
		return
	case !httpURL(pr.CallbackURL):
		writeFail(w, fail(CodeSubscribeBad, "错误的回调地址"))
		return
	case c.needPhone && len(strings.TrimSpace(pr.Phone)) < 4:
		writeFail(w, fail(CodeSubscribeBad, c.name+"单号须填写收件人或寄件人手机号（后四位）"))
		return
	case pr.Resultv2 != "" && pr.Resultv2 != "0" && pr.Resultv2 != "1" && pr.Resultv2 != "4":
		writeFail(w, fail(CodeSubscribeBad, "resultv2 只能是 0、1 或 4"))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	k := subKey{c.code, p.Number}
	if old := s.subs[k]; old != nil && old.active {
		writeFail(w, fail(CodeDuplicate, "重复订阅"))
		return
	}
	sub := &subscription{
		com: c.code, num: p.Number, callbackURL: pr.CallbackURL, salt: pr.Salt,
		phone: pr.Phone, resultv2: pr.Resultv2, active: true,
	}
	s.subs[k] = sub
	if pc := s.parcels[p.Number]; pc != nil && pc.com == c.code && !pc.cancelled {
		if c.needPhone && !phoneMatches(pr.Phone, pc.senderPhone, pc.receiverPhone) {
			// Kuaidi100 cannot fetch the track without the right phone: it
			// monitors in vain and pushes nothing.
			sub.active = false
		} else {
			// A subscriber hears the track so far at once.
			s.queue.push(s.pushesLocked(pc)...)
		}
	}
	s.log.Info("courier subscription", "com", c.code, "num", p.Number)
	writeOK(w, "提交成功", nil)
}
