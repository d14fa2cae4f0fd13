package province

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"zwfw/pii"
	"zwfw/sandbox/fake"
)

// Licence statuses.
const (
	LicenseValid   = "valid"
	LicenseExpired = "expired"
	LicenseRevoked = "revoked"
)

// Holder types.
const (
	HolderCitizen  = "citizen"
	HolderBusiness = "business"
)

// License is an e-licence as the gateway shows it (numbers and names masked).
type License struct {
	ID               string `json:"id"`
	Type             string `json:"type"`
	Name             string `json:"name"`
	NumberMasked     string `json:"number_masked"`
	HolderNameMasked string `json:"holder_name_masked"`
	Issuer           string `json:"issuer"`
	IssuedOn         string `json:"issued_on"`  // YYYY-MM-DD
	ExpiresOn        string `json:"expires_on"` // YYYY-MM-DD, "" = long-term (长期)
	Status           string `json:"status"`
}

// LicenseRecord is a licence with its clear number and holder, for the
// sandbox's control routes and Go callers.
type LicenseRecord struct {
	License
	Number     string `json:"number"`
	HolderType string `json:"holder_type"`
	HolderID   string `json:"holder_id"`
	HolderName string `json:"holder_name"`
}

// license is a stored licence.
type license struct {
	id, typ, number       string
	holderType, holderID  string
	holderName, issuer    string
	issued, expires       time.Time // expires zero = long-term
	revoked, generatedFor bool
}

// day is midnight of t's day in China.
func day(t time.Time) time.Time {
	y, m, d := t.In(chinaTime).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, chinaTime)
}

func (l *license) status(now time.Time) string {
	switch {
	case l.revoked:
		return LicenseRevoked
	case !l.expires.IsZero() && day(now).After(l.expires):
		return LicenseExpired
	}
	return LicenseValid
}

func (l *license) view(now time.Time) License {
	out := License{
		ID: l.id, Type: l.typ, Name: LicenseTypes[l.typ], NumberMasked: maskNumber(l.typ, l.number),
		HolderNameMasked: pii.MaskName(l.holderName), Issuer: l.issuer,
		IssuedOn: l.issued.Format(time.DateOnly), Status: l.status(now),
	}
	if !l.expires.IsZero() {
		out.ExpiresOn = l.expires.Format(time.DateOnly)
	}
	return out
}

func (l *license) record(now time.Time) LicenseRecord {
	return LicenseRecord{License: l.view(now), Number: l.number, HolderType: l.holderType, HolderID: l.holderID, HolderName: l.holderName}
}

// maskNumber hides the middle of a licence number.
func maskNumber(typ, n string) string {
	switch typ {
	case "id_card", "driving_license":
		return pii.MaskIDNumber(n)
	case "business_license":
		return pii.MaskUSCC(n)
	}
	r := []rune(n)
	if len(r) <= 6 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + strings.Repeat("*", len(r)-7) + string(r[len(r)-4:])
}

// licenseID is stable across restarts: derived from type, number and issue date.
func licenseID(typ, number string, issued time.Time) string {
	sum := sm3.Sum([]byte(typ + "|" + number + "|" + issued.Format(time.DateOnly)))
	return "EL" + strings.ToUpper(hex.EncodeToString(sum[:10]))
}

func newLicense(typ, number, holderType, holderID, holderName, issuer string, issued, expires time.Time) *license {
	return &license{id: licenseID(typ, number, issued), typ: typ, number: number, holderType: holderType,
		holderID: holderID, holderName: holderName, issuer: issuer, issued: issued, expires: expires}
}

// idCardIssuer is the public-security branch of an ID number's region.
func idCardIssuer(id string) string {
	switch id[:6] {
	case "350102":
		return "福州市公安局鼓楼分局"
	case "350103":
		return "福州市公安局台江分局"
	case "350104":
		return "福州市公安局仓山分局"
	case "350105":
		return "福州市公安局马尾分局"
	case "350111":
		return "福州市公安局晋安分局"
	case "350121":
		return "闽侯县公安局"
	}
	return "福州市公安局"
}

// idCardValidity follows 居民身份证法 第五条: under 16 five years, 16-25 ten,
// 26-45 twenty, 46 and over long-term (0).
func idCardValidity(birth, issued time.Time) int {
	age := issued.Year() - birth.Year()
	if issued.YearDay() < birth.YearDay() {
		age--
	}
	switch {
	case age < 16:
		return 5
	case age <= 25:
		return 10
	case age <= 45:
		return 20
	}
	return 0
}

func birthTime(id string) time.Time {
	t, _ := time.ParseInLocation("20060102", id[6:14], chinaTime)
	return t
}

// idCard is an ID-card licence issued on issued, valid by the holder's age.
func idCardLicense(p Person, issued time.Time) *license {
	var expires time.Time
	if years := idCardValidity(birthTime(p.IDNumber), issued); years > 0 {
		expires = issued.AddDate(years, 0, 0)
	}
	return newLicense("id_card", p.IDNumber, HolderCitizen, p.IDNumber, p.Name, idCardIssuer(p.IDNumber), issued, expires)
}

// demoLicenses are the demo people's and companies' licences, dated from
// today so that the expiring ones always expire within 30 days.
func demoLicenses(now time.Time) []*license {
	today := day(now)
	ago := func(y, d int) time.Time { return today.AddDate(-y, 0, -d) }
	in := func(y, d int) time.Time { return today.AddDate(y, 0, d) }
	const trafficPolice = "福建省福州市公安局交通警察支队"
	c := DemoCompanies
	var out []*license
	add := func(l *license) { out = append(out, l) }

	// 张三: ID card; driving licence expiring in 20 days; social security card.
	add(idCardLicense(zhangSan, ago(3, 40)))
	add(newLicense("driving_license", zhangSan.IDNumber, HolderCitizen, zhangSan.IDNumber, zhangSan.Name, trafficPolice, in(-6, 20), in(0, 20)))
	add(newLicense("social_security_card", "A35012388", HolderCitizen, zhangSan.IDNumber, zhangSan.Name, "福州市人力资源和社会保障局", ago(4, 100), time.Time{}))
	// 李四: ID card; marriage certificate with 林小红.
	add(idCardLicense(liSi, ago(8, 15)))
	add(newLicense("marriage_certificate", "J350103-2020-003187", HolderCitizen, liSi.IDNumber, liSi.Name, "福州市台江区民政局", ago(6, 30), time.Time{}))
	// 王五: ID card; driving licence expired 10 days ago.
	add(idCardLicense(wangWu, ago(5, 200)))
	add(newLicense("driving_license", wangWu.IDNumber, HolderCitizen, wangWu.IDNumber, wangWu.Name, trafficPolice, ago(10, 10), ago(0, 10)))
	// 赵六: long-term ID card (issued after 46).
	add(idCardLicense(zhaoLiu, ago(9, 60)))
	// 林小红: ten-year ID card expiring in 25 days; marriage certificate.
	add(idCardLicense(linXiaoHong, in(-10, 25)))
	add(newLicense("marriage_certificate", "J350103-2020-003188", HolderCitizen, linXiaoHong.IDNumber, linXiaoHong.Name, "福州市台江区民政局", ago(6, 30), time.Time{}))
	// 陈建华: ID card, driving licence, real-estate certificate, and the revoked one it replaced.
	add(idCardLicense(chenJianHua, ago(12, 5)))
	add(newLicense("driving_license", chenJianHua.IDNumber, HolderCitizen, chenJianHua.IDNumber, chenJianHua.Name, trafficPolice, ago(2, 90), in(8, -90)))
	add(newLicense("real_estate_certificate", "闽（2023）福州市不动产权第0123456号", HolderCitizen, chenJianHua.IDNumber, chenJianHua.Name, "福州市自然资源和规划局", ago(2, 180), time.Time{}))
	old := newLicense("real_estate_certificate", "闽（2016）福州市不动产权第0098765号", HolderCitizen, chenJianHua.IDNumber, chenJianHua.Name, "福州市国土资源局", ago(9, 20), time.Time{})
	old.revoked = true
	add(old)
	// 张小明: five-year ID card of a minor.
	add(idCardLicense(zhangXiaoMing, ago(1, 10)))

	// Companies: business licences (one ending within 30 days), a food-business licence expiring soon.
	add(newLicense("business_license", c[0].USCC, HolderBusiness, c[0].USCC, c[0].Name, "福州市鼓楼区市场监督管理局", ago(6, 150), time.Time{}))
	add(newLicense("food_business_license", "JY13501020123456", HolderBusiness, c[0].USCC, c[0].Name, "福州市鼓楼区市场监督管理局", in(-5, 28), in(0, 28)))
	add(newLicense("business_license", c[1].USCC, HolderBusiness, c[1].USCC, c[1].Name, "福州市市场监督管理局", ago(5, 100), time.Time{}))
	add(newLicense("business_license", c[2].USCC, HolderBusiness, c[2].USCC, c[2].Name, "福州市鼓楼区市场监督管理局", ago(5, 30), time.Time{}))
	add(newLicense("business_license", c[3].USCC, HolderBusiness, c[3].USCC, c[3].Name, "福州市鼓楼区市场监督管理局", in(-10, 15), in(0, 15)))
	return out
}

// generatedIDCard is the ID-card licence of a valid ID number not in the
// demo data: issued 1-4 years ago (a day derived from the number), so it is
// valid.
func generatedIDCard(id, name string, now time.Time) *license {
	sum := sm3.Sum([]byte(id))
	n := int(sum[0])<<8 | int(sum[1])
	issued := day(now).AddDate(-1-n%4, 0, -(n % 300))
	if b := birthTime(id); issued.Before(b) {
		issued = b
	}
	l := idCardLicense(Person{Name: name, IDNumber: id}, issued)
	l.generatedFor = true
	return l
}

// Licenses returns the licences of a holder (ID number or USCC; all when
// empty) with clear numbers.
func (s *Server) Licenses(holderID string) []LicenseRecord {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []LicenseRecord{}
	for _, l := range s.licenses {
		if holderID == "" || l.holderID == holderID {
			out = append(out, l.record(now))
		}
	}
	return out
}

// Errors of RenewLicense.
const (
	errLicenseNotFound   = controlError("licence not found")
	errLicenseNotRenewed = controlError("licence cannot be renewed")
)

// RenewLicense renews licence id as its issuer does (换证): the old one is
// revoked and a new one with the same number is issued today, valid until
// expires (a day after today). It returns the new licence.
func (s *Server) RenewLicense(id string, expires time.Time) (LicenseRecord, error) {
	now := s.now()
	expires = day(expires)
	if !expires.After(day(now)) {
		return LicenseRecord{}, fmt.Errorf("%w: expires_on must be after today", errLicenseNotRenewed)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var old *license
	for _, l := range s.licenses {
		if l.id == id {
			old = l
		}
	}
	if old == nil {
		return LicenseRecord{}, errLicenseNotFound
	}
	if old.revoked {
		return LicenseRecord{}, fmt.Errorf("%w: it was revoked (replaced) already", errLicenseNotRenewed)
	}
	fresh := newLicense(old.typ, old.number, old.holderType, old.holderID, old.holderName, old.issuer, day(now), expires)
	for _, l := range s.licenses {
		if l.id == fresh.id {
			return LicenseRecord{}, fmt.Errorf("%w: it was issued today already", errLicenseNotRenewed)
		}
	}
	old.revoked = true
	s.licenses = append(s.licenses, fresh)
	return fresh.record(now), nil
}

// queryLicenses: POST /api/licenses/query {"holder_type","holder_id"}
func (s *Server) queryLicenses(c *call) (any, *apiError) {
	var req struct {
		HolderType string `json:"holder_type"`
		HolderID   string `json:"holder_id"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	var holder string
	switch req.HolderType {
	case HolderCitizen:
		holder = pii.NormalizeIDNumber(req.HolderID)
		if err := pii.ValidateIDNumber(holder); err != nil {
			return nil, errorf(http.StatusBadRequest, CodeIDNumberInvalid, "%s", err.Error())
		}
	case HolderBusiness:
		holder = pii.NormalizeUSCC(req.HolderID)
		if err := pii.ValidateUSCC(holder); err != nil {
			return nil, errorf(http.StatusBadRequest, CodeUSCCInvalid, "%s", err.Error())
		}
	default:
		return nil, errorf(http.StatusBadRequest, CodeParamInvalid, "holder_type 应为 citizen 或 business")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var mine []*license
	for _, l := range s.licenses {
		if l.holderType == req.HolderType && l.holderID == holder {
			mine = append(mine, l)
		}
	}
	if len(mine) == 0 && req.HolderType == HolderCitizen {
		// Everyone has an ID card: make one for a number outside the demo data.
		name := ""
		if p, ok := s.people[holder]; ok {
			name = p.Name
		}
		l := generatedIDCard(holder, name, c.now)
		s.licenses = append(s.licenses, l)
		mine = append(mine, l)
	}
	for _, l := range mine {
		if l.generatedFor && l.holderName == "" {
			if p, ok := s.people[holder]; ok {
				l.holderName = p.Name // verified since the card was generated
			}
		}
	}
	sort.SliceStable(mine, func(i, j int) bool { return mine[i].issued.Before(mine[j].issued) })
	out := []License{}
	for _, l := range mine {
		out = append(out, l.view(c.now))
	}
	return map[string]any{"licenses": out}, nil
}

// verifyCode is a 亮证 code.
type verifyCode struct {
	licenseID string
	expires   time.Time
}

// codeAlphabet leaves out characters a clerk could misread (0/O, 1/I).
const codeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// issueVerifyCode: POST /api/licenses/{id}/verify-code {"holder_id"}
func (s *Server) issueVerifyCode(c *call) (any, *apiError) {
	var req struct {
		HolderID string `json:"holder_id"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	holder := strings.ToUpper(strings.TrimSpace(req.HolderID))
	id := c.r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	var l *license
	for _, x := range s.licenses {
		if x.id == id && x.holderID == holder {
			l = x
		}
	}
	if l == nil {
		// Someone else's licence is "not found", not "forbidden": ids are not probed.
		return nil, errorf(http.StatusNotFound, CodeLicenseNotFound, "证照不存在")
	}
	if st := l.status(c.now); st != LicenseValid {
		return nil, errorf(http.StatusConflict, CodeLicenseNotValid, "证照已%s，不能亮证", map[string]string{LicenseExpired: "过期", LicenseRevoked: "注销"}[st])
	}
	for k, v := range s.codes { // forget expired codes
		if !c.now.Before(v.expires) {
			delete(s.codes, k)
		}
	}
	code := fake.RandomString(codeAlphabet, 8)
	for s.codes[code] != nil {
		code = fake.RandomString(codeAlphabet, 8)
	}
	expires := c.now.Add(VerifyCodeTTL)
	s.codes[code] = &verifyCode{licenseID: l.id, expires: expires}
	return map[string]any{"code": code, "expires_at": expires.In(chinaTime).Format(time.RFC3339)}, nil
}

// checkVerifyCode: GET /api/licenses/verify?code=
func (s *Server) checkVerifyCode(c *call) (any, *apiError) {
	code := strings.ToUpper(strings.TrimSpace(c.r.URL.Query().Get("code")))
	if code == "" {
		return nil, errorf(http.StatusBadRequest, CodeParamInvalid, "code 不能为空")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	vc, ok := s.codes[code]
	if !ok || !c.now.Before(vc.expires) {
		return map[string]any{"valid": false}, nil
	}
	for _, l := range s.licenses {
		if l.id == vc.licenseID {
			v := l.view(c.now)
			return map[string]any{"valid": v.Status == LicenseValid, "license": v}, nil
		}
	}
	return map[string]any{"valid": false}, nil
}
