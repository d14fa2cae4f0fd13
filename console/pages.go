package console

import (
	"slices"
	"strings"

	"zwfw/identity"
)

// Page is one screen of the console: where it is, what it is called, and
// who may open it. The navigation lists the pages the signed-in account's
// roles open; every route of a page refuses the other roles with a 403 page.
type Page struct {
	Path  string // under /console, e.g. "/hall"
	Title string // in the navigation and the window title
	Roles []identity.Role
	// Hint is a line on the home page saying what the page is for.
	Hint string
	// Nav lists the page in the navigation (detail pages are reached from another page).
	Nav bool
}

// The console's pages. A new page is one more entry here, its template
// and its routes (routes.go).
var (
	pageHome = Page{Path: "/", Title: "首页", Roles: []identity.Role{identity.RoleHotline, identity.RoleStaff, identity.RoleAdmin, identity.RoleSupervisor}}
	pageHall = Page{Path: "/hall", Title: "大厅取号", Roles: []identity.Role{identity.RoleStaff}, Nav: true,
		Hint: "今日本大厅的预约（按时段）、扫码或输入核验码取号、排队号与爽约"}
	pageHotline = Page{Path: "/hotline", Title: "12345 热线查询", Roles: []identity.Role{identity.RoleHotline}, Nav: true,
		Hint: "按办件编号、手机号、身份证号或统一社会信用代码查询办件（须填写工单号，全程留痕）"}
	pageHotlineCase = Page{Path: "/hotline/cases", Title: "办件详情", Roles: []identity.Role{identity.RoleHotline}}
	pageSessions    = Page{Path: "/admin/sessions", Title: "在线会话", Roles: []identity.Role{identity.RoleAdmin}, Nav: true,
		Hint: "当前登录控制台的工作人员，可强制下线"}
	pageMoney = Page{Path: "/money", Title: "资金对账", Roles: []identity.Role{identity.RoleSupervisor, identity.RoleAdmin}, Nav: true,
		Hint: "支付异常、每日对账明细（自动修复与待人工处理），按缴款码查看缴费并发起退费"}
	pageMoneyRun     = Page{Path: "/money/reconcile", Title: "执行对账", Roles: []identity.Role{identity.RoleAdmin}}
	pageMoneyPayment = Page{Path: "/money/payments", Title: "缴费详情", Roles: []identity.Role{identity.RoleSupervisor, identity.RoleAdmin}}
	pageMoneyRefund  = Page{Path: "/money/payments/refund", Title: "退费", Roles: []identity.Role{identity.RoleAdmin}}
	pageReminders    = Page{Path: "/reminders", Title: "失败提醒", Roles: []identity.Role{identity.RoleSupervisor, identity.RoleAdmin}, Nav: true,
		Hint: "所有渠道均发送失败的提醒，及每次尝试的渠道、时间和错误"}
	pageAudit = Page{Path: "/audit", Title: "审计日志", Roles: []identity.Role{identity.RoleAdmin, identity.RoleSupervisor}, Nav: true,
		Hint: "查询、查看个人信息的留痕记录，按工作人员用户名和日期筛选"}
	pageAdminHalls = Page{Path: "/admin/halls", Title: "大厅配置", Roles: []identity.Role{identity.RoleAdmin}, Nav: true,
		Hint: "服务大厅的窗口、办公时段、预约时段长度和闭厅日期"}
	pageAdminCalendar = Page{Path: "/admin/calendar", Title: "节假日调整", Roles: []identity.Role{identity.RoleAdmin}, Nav: true,
		Hint: "法定节假日、调休上班日等日历调整（影响预约时段和办理时限）"}
	pageSupervision = Page{Path: "/supervision", Title: "电子监察", Roles: []identity.Role{identity.RoleSupervisor, identity.RoleAdmin}, Nav: true,
		Hint: "在办件按时限状态（正常、黄牌预警、红牌超期）分部门、分事项统计，逐级查看到办件；近 30 天趋势"}
	pageSupervisionCase = Page{Path: "/supervision/cases", Title: "监察办件", Roles: []identity.Role{identity.RoleSupervisor, identity.RoleAdmin}}
	pageEvaluations     = Page{Path: "/evaluations", Title: "好差评", Roles: []identity.Role{identity.RoleSupervisor, identity.RoleAdmin}, Nav: true,
		Hint: "评价按等级、部门、事项分布；差评整改（责任人、答复、回访、办结），超期标红"}
	pageRectification = Page{Path: "/rectifications", Title: "差评整改", Roles: []identity.Role{identity.RoleSupervisor, identity.RoleAdmin}}
)

// pages lists the pages in navigation order.
// A supervisor starts on 电子监察 (Landing is the first page a role opens).
var pages = []Page{pageHome, pageHall, pageHotline, pageHotlineCase, pageSessions,
	pageSupervision, pageSupervisionCase, pageEvaluations, pageRectification,
	pageMoney, pageMoneyRun, pageMoneyPayment, pageMoneyRefund, pageReminders, pageAudit, pageAdminHalls, pageAdminCalendar}

// opens reports whether an account with roles may open the page.
func (p Page) opens(roles []identity.Role) bool {
	return slices.ContainsFunc(p.Roles, func(r identity.Role) bool { return slices.Contains(roles, r) })
}

// navLink is one entry of the navigation.
type navLink struct {
	Path, Title, Hint string
	Current           bool
}

// navFor lists the pages roles may open, marking the current one.
func navFor(roles []identity.Role, current Page) []navLink {
	var out []navLink
	for _, p := range pages {
		if p.Nav && p.opens(roles) {
			out = append(out, navLink{Path: "/console" + p.Path, Title: p.Title, Hint: p.Hint,
				Current: current.Path == p.Path || strings.HasPrefix(current.Path, p.Path+"/")})
		}
	}
	return out
}

// roleLabel names a role as staff know it.
func roleLabel(r identity.Role) string {
	switch r {
	case identity.RoleHotline:
		return "12345 热线坐席"
	case identity.RoleStaff:
		return "大厅窗口人员"
	case identity.RoleAdmin:
		return "管理员"
	case identity.RoleSupervisor:
		return "电子监察督查员"
	}
	return string(r)
}

func rolesLabel(roles []identity.Role) string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = roleLabel(r)
	}
	return strings.Join(out, "、")
}

// Landing is where an account with roles starts: the first page of its
// navigation (the home page when it has none).
func Landing(roles []identity.Role) string {
	if nav := navFor(roles, pageHome); len(nav) > 0 {
		return nav[0].Path
	}
	return "/console/"
}
