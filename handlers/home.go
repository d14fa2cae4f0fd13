package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/cases"
	"zwfw/home"
	"zwfw/identity"
	"zwfw/links"
	"zwfw/logistics"
	"zwfw/notify"
)

// Home serves the first screen.
type Home struct {
	Svc   *home.Service
	Links *links.Maker
}

// SectionView is one section of the home screen: whether it is complete,
// which sources did not answer (and a sentence saying so), and its items.
type SectionView[T any] struct {
	Status      string   `json:"status"`
	Unavailable []string `json:"unavailable"`
	Message     string   `json:"message,omitempty"`
	Items       []T      `json:"items"`
}

// HomeView is the home screen.
type HomeView struct {
	Client      string                          `json:"client"`
	Degraded    bool                            `json:"degraded"`
	Todos       SectionView[TodoView]           `json:"todos"`
	Cases       SectionView[HomeCaseView]       `json:"cases_in_progress"`
	Shipments   SectionView[ShipmentBrief]      `json:"shipments_in_transit"`
	Licenses    SectionView[HomeLicenseView]    `json:"licenses_expiring"`
	Messages    MessagesView                    `json:"messages"`
	Recommended SectionView[RecommendationView] `json:"recommended"`
}

// TodoView is one to-do.
type TodoView struct {
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	Detail      string     `json:"detail"`
	DueAt       time.Time  `json:"due_at"`
	Link        links.Link `json:"link"`
	CheckInCode string     `json:"check_in_code,omitempty"`
	AmountFen   int64      `json:"amount_fen,omitempty"`
}

// HomeCaseView is a case in progress with its working-day countdown.
type HomeCaseView struct {
	ID          string        `json:"id"`
	ItemName    string        `json:"item_name"`
	CaseNumber  string        `json:"case_number,omitempty"`
	Status      string        `json:"status"`
	StatusLabel string        `json:"status_label"`
	TimeLimit   TimeLimitView `json:"time_limit"`
	Link        links.Link    `json:"link"`
}

// HomeLicenseView is an e-licence expiring soon.
type HomeLicenseView struct {
	ID         string     `json:"id"`
	Type       string     `json:"type"`
	Name       string     `json:"name"`
	HolderType string     `json:"holder_type"`
	ExpiresOn  string     `json:"expires_on"`
	DaysLeft   int        `json:"days_left"`
	Link       links.Link `json:"link"`
}

// MessagesView is the unread inbox: how many, the newest few, and the inbox's link.
type MessagesView struct {
	SectionView[MessageBrief]
	Unread int        `json:"unread"`
	Link   links.Link `json:"link"`
}

// MessageBrief is an unread message; its link opens what it is about.
type MessageBrief struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
	Link      links.Link `json:"link"`
}

// RecommendationView is a suggested item; its link opens the guide.
type RecommendationView struct {
	ItemCode string     `json:"item_code"`
	Name     string     `json:"name"`
	Reason   string     `json:"reason"`
	Link     links.Link `json:"link"`
}

// Get handles GET /api/v1/home: always 200; a section whose source failed
// says so (status, unavailable, message) and the others are whole.
func (h *Home) Get(c *fiber.Ctx) error {
	p := PrincipalFrom(c)
	sc := h.Svc.Screen(c.UserContext(), home.Viewer{UserID: p.UserID, Business: p.HasAnyRole(identity.RoleBusiness)})
	link := func(r links.Ref) links.Link { return LinkFor(c, h.Links, r) }
	v := HomeView{Client: string(ClientFrom(c)), Degraded: sc.Degraded()}
	v.Todos = sectionView(sc.Todos, func(t home.Todo) TodoView {
		return TodoView{Kind: string(t.Kind), Title: t.Title, Detail: t.Detail, DueAt: t.DueAt.In(Shanghai), Link: link(t.Link),
			CheckInCode: t.CheckInCode, AmountFen: t.AmountFen}
	})
	v.Cases = sectionView(sc.Cases, func(p home.CaseInProgress) HomeCaseView {
		return HomeCaseView{ID: p.Case.ID, ItemName: p.Case.ItemName, CaseNumber: p.Case.CaseNumber, Status: string(p.Case.Status),
			StatusLabel: p.Case.Status.Label(), TimeLimit: timeLimitView(p.TimeLimit), Link: link(links.To(links.Case, p.Case.ID))}
	})
	v.Shipments = sectionView(sc.Shipments, func(sh logistics.Shipment) ShipmentBrief { return shipmentBrief(c, h.Links, sh) })
	v.Licenses = sectionView(sc.Licenses, func(l home.ExpiringLicense) HomeLicenseView {
		return HomeLicenseView{ID: l.ID, Type: l.Type, Name: l.Name, HolderType: l.HolderType,
			ExpiresOn: l.ExpiresOn.In(Shanghai).Format(time.DateOnly), DaysLeft: l.DaysLeft, Link: link(links.To(links.License, l.ID))}
	})
	v.Messages = MessagesView{SectionView: sectionView(sc.Messages, func(m notify.Message) MessageBrief {
		return MessageBrief{ID: m.PublicID, Title: m.Title, Body: m.Body, CreatedAt: m.CreatedAt.In(Shanghai), Link: link(m.Target())}
	}), Unread: sc.Unread, Link: link(links.Ref{Target: links.Messages})}
	v.Recommended = sectionView(sc.Recommended, func(r home.Recommendation) RecommendationView {
		return RecommendationView{ItemCode: r.ItemCode, Name: r.Name, Reason: r.Reason, Link: link(links.To(links.Guide, r.ItemCode))}
	})
	return c.JSON(v)
}

func sectionView[T, V any](s home.Section[T], shape func(T) V) SectionView[V] {
	v := SectionView[V]{Status: string(s.Status()), Unavailable: make([]string, 0, len(s.Missing)), Message: s.Message(),
		Items: make([]V, 0, len(s.Items))}
	for _, m := range s.Missing {
		v.Unavailable = append(v.Unavailable, string(m))
	}
	for _, it := range s.Items {
		v.Items = append(v.Items, shape(it))
	}
	return v
}

// timeLimitView is a case against its promised time limit, in working days.
func timeLimitView(tl cases.TimeLimit) TimeLimitView {
	v := TimeLimitView{PromisedDays: tl.PromisedDays, StatutoryDays: tl.StatutoryDays, Overdue: tl.Overdue}
	if tl.DueOn != nil {
		v.DueOn = tl.DueOn.In(Shanghai).Format(time.DateOnly)
		left := tl.DaysLeft
		v.WorkdaysLeft = &left
	}
	return v
}
