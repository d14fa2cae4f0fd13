package wechat

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"zwfw/sandbox/fake"
)

// Phone numbers (手机号快速验证): the mini-program's getPhoneNumber button
// hands the page a one-time code for the WeChat account's verified phone,
// and the server exchanges it through wxa/business/getuserphonenumber.

type phoneCode struct {
	phone, countryCode string
	expires            time.Time
	used               bool
}

// mainlandPhone is what the control accepts: an 11-digit mainland mobile number.
var mainlandPhone = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// IssuePhoneCode is the Go form of POST /sandbox/wechat/phonecodes: the user
// tapped the getPhoneNumber button and allowed it, and the page received a
// one-time code for phone (country code 86), valid for the code TTL.
func (s *Server) IssuePhoneCode(phone string) string {
	code := fake.RandomString(fake.Alphanumeric, 64) // real ones are 64 hex-ish characters
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c, pc := range s.phoneCodes { // forget codes nobody can use any more
		if now.After(pc.expires) {
			delete(s.phoneCodes, c)
		}
	}
	s.phoneCodes[code] = &phoneCode{phone: phone, countryCode: "86", expires: now.Add(s.codeTTL)}
	return code
}

// PhoneInfo is the phone_info object of getuserphonenumber.
type PhoneInfo struct {
	PhoneNumber     string    `json:"phoneNumber"`     // with the country code for numbers outside the mainland
	PurePhoneNumber string    `json:"purePhoneNumber"` // without it
	CountryCode     string    `json:"countryCode"`
	Watermark       Watermark `json:"watermark"`
}

// Watermark says which app asked, and when.
type Watermark struct {
	Timestamp int64  `json:"timestamp"`
	AppID     string `json:"appid"`
}

// getUserPhoneNumber: POST /wxa/business/getuserphonenumber?access_token= {"code": "..."}.
// A code works once, for the app it was issued to, within its TTL; anything
// else is 40029 "invalid code", as WeChat answers.
func (s *Server) getUserPhoneNumber(w http.ResponseWriter, r *http.Request) {
	if !s.checkToken(w, r) {
		return
	}
	var req struct {
		Code string `json:"code"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
		writeErr(w, ErrCodeDataFormat, "data format error")
		return
	}
	if strings.TrimSpace(req.Code) == "" {
		writeErr(w, ErrCodeCodeMissing, "missing code")
		return
	}
	now := s.now()
	s.mu.Lock()
	pc, ok := s.phoneCodes[req.Code]
	valid := ok && !pc.used && now.Before(pc.expires)
	if valid {
		pc.used = true
	}
	s.mu.Unlock()
	if !valid {
		writeErr(w, ErrCodeInvalidCode, "invalid code")
		return
	}
	s.log.Info("wechat getuserphonenumber", "phone", pc.phone[:3]+"****"+pc.phone[7:])
	writeOK(w, struct {
		apiError
		PhoneInfo PhoneInfo `json:"phone_info"`
	}{apiError{0, "ok"}, PhoneInfo{
		PhoneNumber: pc.phone, PurePhoneNumber: pc.phone, CountryCode: pc.countryCode,
		Watermark: Watermark{Timestamp: now.Unix(), AppID: s.appID},
	}})
}

// postPhoneCode: POST /sandbox/wechat/phonecodes {"phone"} -> a one-time phone code.
func (s *Server) postPhoneCode(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Phone string `json:"phone"`
	}
	if err := fake.ReadJSON(w, r, &req); err != nil {
		fake.ControlError(w, http.StatusBadRequest, "body must be JSON {\"phone\": \"138...\"}: %v", err)
		return
	}
	if !mainlandPhone.MatchString(req.Phone) {
		fake.ControlError(w, http.StatusBadRequest, "phone must be an 11-digit mainland mobile number")
		return
	}
	fake.WriteJSON(w, http.StatusCreated, map[string]any{
		"code":       s.IssuePhoneCode(req.Phone),
		"expires_in": int(s.codeTTL.Seconds()),
	})
}
