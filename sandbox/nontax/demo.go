package nontax

import (
	"zwfw/sandbox/province"
)

// demoNotice is one notice the sandbox issues at start-up.
type demoNotice struct {
	items   []IssueItem
	dueDays int
}

// demoByName are the demo people's and companies' notices, by the name of
// the province fake's registries (province.DemoPeople,
// province.DemoCompanies). Due dates count from the sandbox's start, so
// "due in 3 days" stays true whenever it starts.
var demoByName = map[string][]demoNotice{
	"张三": {
		{items: []IssueItem{{Code: "103045500101"}, {Code: "103045500102"}}, dueDays: 15}, // 不动产登记费 + 证书工本费: 90 元
		{items: []IssueItem{{Code: "103040300101"}}, dueDays: 7},                          // 驾驶证工本费 10 元
		{items: []IssueItem{{Code: "103050100101"}}, dueDays: 15},                         // 交通违法罚款 200 元
	},
	"李四":  {{items: []IssueItem{{Code: "103040200101"}}, dueDays: 10}}, // 护照 120 元
	"王五":  {{items: []IssueItem{{Code: "103040100101"}}, dueDays: 3}},  // 身份证 20 元, due soon
	"赵六":  {{items: []IssueItem{{Code: "103040200201"}, {Code: "103040200202"}}, dueDays: 10}},
	"林小红": {{items: []IssueItem{{Code: "103042000101", Quantity: 2}}, dueDays: 5}}, // 考务费 2 科
	"陈建华": {{items: []IssueItem{{Code: "103045500101"}}, dueDays: 15}},
	"张小明": {{items: []IssueItem{{Code: "103040100101"}}, dueDays: 30}},

	"福州榕城餐饮管理有限公司": {
		{items: []IssueItem{{Code: "103044500101", UnitPrice: 45000}}, dueDays: 15}, // 垃圾处理费 (餐饮, 一季度)
		{items: []IssueItem{{Code: "103045500103"}}, dueDays: 20},                   // 不动产登记费（非住宅）550 元
	},
	"福建闽江数字科技有限公司":   {{items: []IssueItem{{Code: "103045500103"}}, dueDays: 20}},
	"福州市鼓楼区张三小吃店":    {{items: []IssueItem{{Code: "103044500101"}}, dueDays: 15}},
	"福州三坊七巷文化传媒有限公司": {{items: []IssueItem{{Code: "103044500201", Quantity: 60}}, dueDays: 7}}, // 占道 20㎡ × 3 日
}

// Notices of demo people and companies demoByName does not name.
var (
	demoPersonDefault  = []demoNotice{{items: []IssueItem{{Code: "103040100101"}}, dueDays: 15}}
	demoCompanyDefault = []demoNotice{{items: []IssueItem{{Code: "103045500103"}}, dueDays: 20}}
)

// seedDemo issues the demo notices, every one unpaid.
func (s *Server) seedDemo() {
	now := s.now()
	issue := func(id, name string, fallback []demoNotice) {
		list, ok := demoByName[name]
		if !ok {
			list = fallback
		}
		for _, d := range list {
			if _, e := s.issue(IssueRequest{PayerID: id, PayerName: name, Items: d.items, DueDays: d.dueDays}, now); e != nil {
				panic("nontax: bad demo notice for " + name + ": " + e.Error())
			}
		}
	}
	for _, p := range province.DemoPeople {
		issue(p.IDNumber, p.Name, demoPersonDefault)
	}
	for _, c := range province.DemoCompanies {
		issue(c.USCC, c.Name, demoCompanyDefault)
	}
}
