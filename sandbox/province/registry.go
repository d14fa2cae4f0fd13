package province

import (
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"zwfw/pii"
	"zwfw/sandbox/fake"
)

// Person is a resident in the population registry (人口库).
type Person struct {
	Name      string `json:"name"`
	IDNumber  string `json:"id_number"`
	Gender    string `json:"gender"`     // 男 / 女
	BirthDate string `json:"birth_date"` // YYYY-MM-DD
	Phone     string `json:"phone"`
	Address   string `json:"address"`
	Note      string `json:"note"` // what the person is for in demos and tests
}

// Operator is someone who may act for a company.
type Operator struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
}

// Company is a market entity in the company registry (法人库).
type Company struct {
	Name        string     `json:"name"`
	USCC        string     `json:"uscc"`
	Kind        string     `json:"kind"` // 有限责任公司, 个体工商户, ...
	LegalRep    Operator   `json:"legal_representative"`
	Agents      []Operator `json:"agents"` // authorised agents (经办人)
	Address     string     `json:"address"`
	Established string     `json:"established"` // YYYY-MM-DD
}

// idNumber builds a check-digit-valid ID number from the region code,
// birth date (YYYYMMDD) and 3-digit sequence (odd = male, even = female).
func idNumber(region, birth, seq string) string {
	first17 := region + birth + seq
	c, ok := pii.IDNumberCheckChar(first17)
	if !ok {
		panic("province: bad demo ID number " + first17)
	}
	return first17 + string(c)
}

// uscc builds a check-digit-valid USCC from its first 17 characters.
func uscc(first17 string) string {
	c, ok := pii.USCCCheckChar(first17)
	if !ok {
		panic("province: bad demo USCC " + first17)
	}
	return first17 + string(c)
}

// Demo people, in the order of DemoPeople.
var (
	zhangSan      = Person{Name: "张三", IDNumber: idNumber("350102", "19900307", "123"), Gender: "男", BirthDate: "1990-03-07", Phone: "13800138000", Address: "福州市鼓楼区五四路88号", Note: "ID card; driving licence expiring within 30 days; legal representative of 福州榕城餐饮管理有限公司 and operator of the 个体工商户"}
	liSi          = Person{Name: "李四", IDNumber: idNumber("350103", "19850612", "235"), Gender: "男", BirthDate: "1985-06-12", Phone: "13900139001", Address: "福州市台江区工业路233号", Note: "ID card, marriage certificate; legal representative of 福建闽江数字科技有限公司"}
	wangWu        = Person{Name: "王五", IDNumber: idNumber("350104", "19780920", "417"), Gender: "男", BirthDate: "1978-09-20", Phone: "13700137002", Address: "福州市仓山区首山路66号", Note: "ID card; driving licence EXPIRED; agent of 福州榕城餐饮管理有限公司"}
	zhaoLiu       = Person{Name: "赵六", IDNumber: idNumber("350111", "19620115", "051"), Gender: "男", BirthDate: "1962-01-15", Phone: "13600136003", Address: "福州市晋安区福新中路120号", Note: "long-term ID card; legal representative of 福州三坊七巷文化传媒有限公司"}
	linXiaoHong   = Person{Name: "林小红", IDNumber: idNumber("350105", "19950428", "062"), Gender: "女", BirthDate: "1995-04-28", Phone: "15000150004", Address: "福州市马尾区君竹路8号", Note: "ID card expiring within 30 days; marriage certificate; agent of 福建闽江数字科技有限公司"}
	chenJianHua   = Person{Name: "陈建华", IDNumber: idNumber("350121", "19720803", "139"), Gender: "男", BirthDate: "1972-08-03", Phone: "18600186005", Address: "福州市闽侯县上街镇学府路1号", Note: "ID card, driving licence, real-estate certificate (and a revoked older one); agent of 福州三坊七巷文化传媒有限公司"}
	zhangXiaoMing = Person{Name: "张小明", IDNumber: idNumber("350102", "20150601", "011"), Gender: "男", BirthDate: "2015-06-01", Phone: "", Address: "福州市鼓楼区五四路88号", Note: "a minor (张三's son): 5-year ID card"}
)

// DemoPeople are the residents of the sandbox's population registry.
var DemoPeople = []Person{zhangSan, liSi, wangWu, zhaoLiu, linXiaoHong, chenJianHua, zhangXiaoMing}

// DemoCompanies are the market entities of the sandbox's company registry.
var DemoCompanies = []Company{
	{Name: "福州榕城餐饮管理有限公司", USCC: uscc("91350102MA2XK8L3R"), Kind: "有限责任公司（自然人投资或控股）",
		LegalRep: op(zhangSan), Agents: []Operator{op(wangWu)}, Address: "福州市鼓楼区东街33号", Established: "2019-05-10"},
	{Name: "福建闽江数字科技有限公司", USCC: uscc("91350100MA34Y7T5X"), Kind: "有限责任公司（自然人投资或控股）",
		LegalRep: op(liSi), Agents: []Operator{op(linXiaoHong)}, Address: "福州市仓山区金山大道618号", Established: "2020-09-18"},
	{Name: "福州市鼓楼区张三小吃店", USCC: uscc("92350102MA8U4N2P6"), Kind: "个体工商户",
		LegalRep: op(zhangSan), Agents: []Operator{}, Address: "福州市鼓楼区南后街12号", Established: "2021-03-02"},
	{Name: "福州三坊七巷文化传媒有限公司", USCC: uscc("91350102MA2Y0HQ1B"), Kind: "有限责任公司（自然人独资）",
		LegalRep: op(zhaoLiu), Agents: []Operator{op(chenJianHua)}, Address: "福州市鼓楼区南后街88号", Established: "2016-07-21"},
}

func op(p Person) Operator { return Operator{Name: p.Name, IDNumber: p.IDNumber} }

// person is a registry entry; sandbox entries were made by a real-name
// check of an unregistered number.
type person struct {
	Person
	sandbox bool
}

type company struct{ Company }

// seedRegistries fills the registries and e-licences, dating licences from
// now so that the "expiring soon" ones stay so whenever the sandbox starts.
func (s *Server) seedRegistries(now time.Time) {
	for _, p := range DemoPeople {
		s.people[p.IDNumber] = &person{Person: p}
	}
	for _, c := range DemoCompanies {
		s.companies[c.USCC] = &company{Company: c}
	}
	s.licenses = demoLicenses(now)
}

// People returns the population registry: the demo people first, then
// those verified in sandbox mode.
func (s *Server) People() []Person {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]Person(nil), DemoPeople...)
	for _, p := range s.people {
		if p.sandbox {
			out = append(out, p.Person)
		}
	}
	return out
}

// sandboxNote marks people registered by a sandbox-mode real-name check.
const sandboxNote = "verified in sandbox mode"

// sandboxName: a name an unregistered ID number may be verified with,
// 2 to 4 Chinese characters.
func sandboxName(name string) bool {
	n := utf8.RuneCountInString(name)
	if n < 2 || n > 4 {
		return false
	}
	for _, r := range name {
		if !unicode.Is(unicode.Han, r) {
			return false
		}
	}
	return true
}

// RealnameResult is the answer of a real-name check.
type RealnameResult struct {
	Match    bool   `json:"match"`
	VerifyID string `json:"verify_id"`
}

// VerifyRealname is the Go form of POST /api/identity/realname/verify. A
// registered ID number matches only its name. An unregistered one that is
// valid matches a name of 2-4 Chinese characters and is then registered
// with that name (so later checks with another name fail, as for a real
// person). It returns pii's validation error for a malformed ID number.
func (s *Server) VerifyRealname(name, id string, now time.Time) (RealnameResult, error) {
	id = pii.NormalizeIDNumber(id)
	if err := pii.ValidateIDNumber(id); err != nil {
		return RealnameResult{}, err
	}
	name = strings.TrimSpace(name)
	s.mu.Lock()
	match := false
	if p, ok := s.people[id]; ok {
		match = p.Name == name
	} else if sandboxName(name) {
		s.people[id] = &person{sandbox: true, Person: Person{Name: name, IDNumber: id, Gender: genderOf(id), BirthDate: birthOf(id), Note: sandboxNote}}
		match = true
	}
	s.mu.Unlock()
	s.log.Info("province realname check", "name", pii.Name(name), "id_number", pii.IDNumber(id), "match", match)
	return RealnameResult{Match: match, VerifyID: "RV" + now.In(chinaTime).Format("20060102") + fake.RandomString(fake.Digits, 12)}, nil
}

func genderOf(id string) string {
	if (id[16]-'0')%2 == 1 {
		return "男"
	}
	return "女"
}

func birthOf(id string) string { return id[6:10] + "-" + id[10:12] + "-" + id[12:14] }

// realnameVerify: POST /api/identity/realname/verify {"name","id_number"}
func (s *Server) realnameVerify(c *call) (any, *apiError) {
	var req struct {
		Name     string `json:"name"`
		IDNumber string `json:"id_number"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	if strings.TrimSpace(req.Name) == "" {
		return nil, errorf(http.StatusBadRequest, CodeParamInvalid, "姓名不能为空")
	}
	res, err := s.VerifyRealname(req.Name, req.IDNumber, c.now)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, CodeIDNumberInvalid, "%s", err.Error())
	}
	return res, nil
}

// companyVerify: POST /api/identity/company/verify {"uscc","operator_name","operator_id_number"}
func (s *Server) companyVerify(c *call) (any, *apiError) {
	var req struct {
		USCC             string `json:"uscc"`
		OperatorName     string `json:"operator_name"`
		OperatorIDNumber string `json:"operator_id_number"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	code := pii.NormalizeUSCC(req.USCC)
	if err := pii.ValidateUSCC(code); err != nil {
		return nil, errorf(http.StatusBadRequest, CodeUSCCInvalid, "%s", err.Error())
	}
	id := pii.NormalizeIDNumber(req.OperatorIDNumber)
	if err := pii.ValidateIDNumber(id); err != nil {
		return nil, errorf(http.StatusBadRequest, CodeIDNumberInvalid, "%s", err.Error())
	}
	name := strings.TrimSpace(req.OperatorName)
	if name == "" {
		return nil, errorf(http.StatusBadRequest, CodeParamInvalid, "经办人姓名不能为空")
	}
	s.mu.Lock()
	co, ok := s.companies[code]
	s.mu.Unlock()
	if !ok {
		return nil, errorf(http.StatusNotFound, CodeCompanyNotFound, "未查询到该统一社会信用代码对应的市场主体")
	}
	out := map[string]any{"match": false, "company_name": co.Name}
	switch {
	case co.LegalRep.IDNumber == id && co.LegalRep.Name == name:
		out["match"], out["role"] = true, "legal_representative"
	default:
		for _, a := range co.Agents {
			if a.IDNumber == id && a.Name == name {
				out["match"], out["role"] = true, "agent"
			}
		}
	}
	s.log.Info("province company check", "uscc", pii.MaskUSCC(code), "match", out["match"])
	return out, nil
}

// describePeople lists the registry for the control route, marking
// sandbox-made entries.
func (s *Server) describePeople() []map[string]any {
	out := []map[string]any{}
	for _, p := range s.People() {
		src := "demo"
		if p.Note == sandboxNote {
			src = "sandbox"
		}
		out = append(out, map[string]any{"name": p.Name, "id_number": p.IDNumber, "gender": p.Gender, "birth_date": p.BirthDate,
			"phone": p.Phone, "address": p.Address, "note": p.Note, "source": src})
	}
	return out
}
