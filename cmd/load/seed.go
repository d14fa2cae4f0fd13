package main

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/url"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"zwfw/booking"
	"zwfw/pii"
)

// Seeding goes through the public API as people and staff use it (WeChat
// logins with the sandbox's test:<name> codes, real-name verification,
// the admin's hall configuration, applications with their materials,
// fees issued at the non-tax platform and paid at WeChat Pay), except for
// the bulk of cases that only make the store big (see grow.go).

// citizen is a signed-in, real-name-verified person.
type citizen struct {
	name, token, userID string
	realName, idNumber  string
	at                  time.Time // when token was issued
}

// seeder seeds one running zwfw.
type seeder struct {
	z   *zwfwProc
	api string // z.base + "/api/v1"
}

// seq numbers people across the run (both modes share one store, and an
// ID number has one holder).
var seq atomic.Int64

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑")
	given    = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂")
)

// seedWorkers is how many seeding requests run at once.
const seedWorkers = 16

// citizens logs n new people in and verifies their real names (the
// sandbox registers an unknown valid ID number under the first name it is
// verified with).
func (s *seeder) citizens(ctx context.Context, tag string, n int) ([]*citizen, error) {
	out := make([]*citizen, n)
	err := parallel(ctx, n, seedWorkers, func(ctx context.Context, i int) error {
		k := seq.Add(1)
		first17 := fmt.Sprintf("350102%04d%02d%02d%03d", 1960+k%40, 1+k%12, 1+k%28, 100+k%900)
		check, _ := pii.IDNumberCheckChar(first17)
		c := &citizen{name: fmt.Sprintf("load-%s-%d", tag, k), idNumber: first17 + string(check),
			realName: string([]rune{surnames[k%int64(len(surnames))], given[(k/7)%int64(len(given))], given[(k/3)%int64(len(given))]})}
		var v struct {
			Access string `json:"access_token"`
			User   struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		if err := want(ctx, 200, "POST", s.api+"/auth/wechat", map[string]string{"code": "test:" + c.name}, &v); err != nil {
			return err
		}
		c.token, c.userID, c.at = v.Access, v.User.ID, time.Now()
		if err := want(ctx, 200, "POST", s.api+"/me/realname", map[string]string{"name": c.realName, "id_number": c.idNumber}, nil, bearer(c.token)...); err != nil {
			return err
		}
		out[i] = c
		return nil
	})
	return out, err
}

// tokenAge is how old a token may be when a round starts: access tokens
// last 15 minutes, a round and its profile take less than two.
const tokenAge = 12 * time.Minute

// fresh signs in again (same WeChat code, same person) those of people
// whose tokens are about to expire.
func (s *seeder) fresh(ctx context.Context, people []*citizen) error {
	var stale []*citizen
	seen := map[*citizen]bool{}
	for _, c := range people {
		if !seen[c] && time.Since(c.at) > tokenAge {
			seen[c] = true
			stale = append(stale, c)
		}
	}
	return parallel(ctx, len(stale), seedWorkers, func(ctx context.Context, i int) error {
		c := stale[i]
		var v struct {
			Access string `json:"access_token"`
		}
		if err := want(ctx, 200, "POST", s.api+"/auth/wechat", map[string]string{"code": "test:" + c.name}, &v); err != nil {
			return err
		}
		c.token, c.at = v.Access, time.Now()
		return nil
	})
}

// staffFresh is the staff member's token, signed in again when about to expire.
func (s *seeder) staffFresh(ctx context.Context, st *staffToken) (string, error) {
	if time.Since(st.at) > tokenAge {
		tok, err := s.staff(ctx, st.username)
		if err != nil {
			return "", err
		}
		st.token, st.at = tok, time.Now()
	}
	return st.token, nil
}

// staff signs a demo staff account in (its password is in the data directory).
func (s *seeder) staff(ctx context.Context, username string) (string, error) {
	pw, ok := s.z.accounts[username]
	if !ok {
		return "", fmt.Errorf("no demo staff account %s", username)
	}
	var v struct {
		Access string `json:"access_token"`
	}
	err := want(ctx, 200, "POST", s.api+"/auth/staff", map[string]string{"username": username, "password": pw}, &v)
	return v.Access, err
}

// itemSummary and guide are the parts of the catalog the harness reads.
type itemSummary struct {
	Code        string `json:"code"`
	OnlineApply bool   `json:"online_apply"`
	Bookable    bool   `json:"bookable"`
}

type guide struct {
	Code        string `json:"code"`
	OnlineApply bool   `json:"online_apply"`
	Bookable    bool   `json:"bookable"`
	Halls       []struct {
		ID string `json:"id"`
	} `json:"halls"`
	Materials []struct {
		ID       string `json:"id"`
		Required bool   `json:"required"`
	} `json:"materials"`
	FormFields []struct {
		Name     string   `json:"name"`
		Type     string   `json:"type"`
		Options  []string `json:"options"`
		Required bool     `json:"required"`
	} `json:"form_fields"`
}

// catalog is every item's guide.
func (s *seeder) catalog(ctx context.Context) ([]guide, error) {
	var codes []string
	cursor := ""
	for page := 0; page < 100; page++ {
		var list struct {
			Items []itemSummary `json:"items"`
			Next  string        `json:"next_cursor"`
		}
		if err := want(ctx, 200, "GET", s.api+"/items?limit=50&cursor="+url.QueryEscape(cursor), nil, &list); err != nil {
			return nil, err
		}
		for _, it := range list.Items {
			if it.Bookable || it.OnlineApply {
				codes = append(codes, it.Code)
			}
		}
		if cursor = list.Next; cursor == "" {
			break
		}
	}
	guides := make([]guide, len(codes))
	err := parallel(ctx, len(codes), seedWorkers, func(ctx context.Context, i int) error {
		return want(ctx, 200, "GET", s.api+"/items/"+codes[i], nil, &guides[i])
	})
	return guides, err
}

// hallSetup is the hall every booking goes to: the bookable items it
// serves, each window's capacity raised so the slots never fill, and its
// bookable slots of the coming week.
type hallSetup struct {
	hall  string
	items []string
	slots []string // RFC 3339 starts, soonest first
}

// setupHall takes the hall serving the most bookable items, keeps its
// configuration (the demo seed's windows) and raises the capacity of the
// windows serving up to maxItems of them, as an admin does (PUT with the
// version read).
func (s *seeder) setupHall(ctx context.Context, admin string, guides []guide, maxItems, capacity int) (*hallSetup, error) {
	byHall := map[string][]string{}
	for _, g := range guides {
		if !g.Bookable {
			continue
		}
		for _, h := range g.Halls {
			byHall[h.ID] = append(byHall[h.ID], g.Code)
		}
	}
	best := ""
	for h, items := range byHall {
		if len(items) > len(byHall[best]) || (len(items) == len(byHall[best]) && h < best) {
			best = h
		}
	}
	if best == "" {
		return nil, fmt.Errorf("no bookable item in the catalog")
	}
	items := byHall[best]
	sort.Strings(items)
	items = items[:min(maxItems, len(items))]
	cfg, err := booking.NewMongoStore(s.z.db).HallConfig(ctx, best)
	if err != nil {
		return nil, fmt.Errorf("hall %s: %w", best, err)
	}
	for i, w := range cfg.Windows {
		for _, it := range w.ItemCodes {
			if slices.Contains(items, it) {
				cfg.Windows[i].PerSlotCapacity = capacity
			}
		}
	}
	if err := want(ctx, 200, "PUT", s.api+"/admin/halls/"+best+"/config", cfg, nil, bearer(admin)...); err != nil {
		return nil, err
	}
	h := &hallSetup{hall: best, items: items}
	var v struct {
		Slots []struct {
			Start    string `json:"start"`
			Bookable bool   `json:"bookable"`
		} `json:"slots"`
	}
	if err := want(ctx, 200, "GET", s.api+"/halls/"+best+"/slots?days=7&item_code="+items[0], nil, &v); err != nil {
		return nil, err
	}
	for _, sl := range v.Slots {
		if sl.Bookable {
			h.slots = append(h.slots, sl.Start)
		}
	}
	if len(h.slots) == 0 {
		return nil, fmt.Errorf("no bookable slot at %s this week", best)
	}
	return h, nil
}

// bookingTarget is one booking to make: a person, an item, a slot.
type bookingTarget struct {
	c    *citizen
	item string
	slot string
}

// bookingPool hands out (person, item) pairs, each once: a person holds
// one active booking per item and three at most, so every booking the
// harness makes is one a real person could make.
type bookingPool struct {
	mu    sync.Mutex
	pairs []bookingTarget
	next  int
	slots []string
	k     atomic.Int64
}

func newBookingPool(people []*citizen, h *hallSetup, perPerson int) *bookingPool {
	p := &bookingPool{slots: h.slots}
	// Item-major, so consecutive bookings are by different people.
	for j := 0; j < min(perPerson, len(h.items)); j++ {
		for _, c := range people {
			p.pairs = append(p.pairs, bookingTarget{c: c, item: h.items[j]})
		}
	}
	return p
}

func (p *bookingPool) left() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pairs) - p.next
}

// take hands out n bookings, spread over the week's slots.
func (p *bookingPool) take(n int) ([]bookingTarget, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next+n > len(p.pairs) {
		return nil, fmt.Errorf("the booking pool is used up (%d left, %d wanted): seed more people", len(p.pairs)-p.next, n)
	}
	out := slices.Clone(p.pairs[p.next : p.next+n])
	p.next += n
	for i := range out {
		out[i].slot = p.slots[int(p.k.Add(1))%len(p.slots)]
	}
	return out, nil
}

// realCase is an application made through the API, submitted and given
// its case number by the province.
type realCase struct {
	id, number string
	owner      *citizen
}

// accountFields are filled in by zwfw from the verified account.
var accountFields = map[string]bool{"applicant_name": true, "applicant_id_number": true, "contact_name": true, "contact_id_number": true}

func (c *citizen) form(g guide) map[string]any {
	form := map[string]any{}
	for _, f := range g.FormFields {
		if accountFields[f.Name] {
			continue
		}
		switch f.Type {
		case "number":
			form[f.Name] = 1
		case "date":
			form[f.Name] = time.Now().AddDate(0, 1, 0).Format(time.DateOnly)
		case "enum":
			form[f.Name] = f.Options[0]
		case "phone":
			form[f.Name] = "13800138000"
		case "id_number":
			form[f.Name] = c.idNumber
		case "uscc":
			form[f.Name] = "91350102MA2XK8L3RP" // a company of the sandbox's registry
		case "address":
			form[f.Name] = "福州市鼓楼区五四路158号"
		default:
			form[f.Name] = "测试"
		}
	}
	return form
}

var minimalPDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

// applyFor makes one application of c for g (materials uploaded, result
// electronic), submits it and waits for the province's case number.
func (s *seeder) applyFor(ctx context.Context, c *citizen, g guide) (realCase, error) {
	var v struct {
		ID string `json:"id"`
	}
	if err := want(ctx, 201, "POST", s.api+"/cases", map[string]any{"item_code": g.Code, "form": c.form(g),
		"delivery": map[string]any{"materials": "upload", "result": "electronic"}}, &v, bearer(c.token)...); err != nil {
		return realCase{}, err
	}
	for _, m := range g.Materials {
		if !m.Required {
			continue
		}
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		_ = w.WriteField("slot_id", m.ID)
		fw, _ := w.CreateFormFile("file", m.ID+".pdf")
		_, _ = fw.Write(minimalPDF)
		_ = w.Close()
		if err := want(ctx, 201, "POST", s.api+"/cases/"+v.ID+"/materials", body.Bytes(), nil,
			append(bearer(c.token), "Content-Type", w.FormDataContentType())...); err != nil {
			return realCase{}, err
		}
	}
	r, err := call(ctx, "POST", s.api+"/cases/"+v.ID+"/submit", nil, append(bearer(c.token), "Idempotency-Key", uuid.NewString())...)
	if err != nil {
		return realCase{}, err
	}
	if r.status/100 != 2 {
		return realCase{}, fmt.Errorf("submit %s: %s", g.Code, r)
	}
	rc := realCase{id: v.ID, owner: c}
	deadline := time.Now().Add(2 * time.Minute)
	for rc.number == "" {
		var cv struct {
			Number string `json:"case_number"`
		}
		if err := want(ctx, 200, "GET", s.api+"/cases/"+v.ID, nil, &cv, bearer(c.token)...); err != nil {
			return realCase{}, err
		}
		if rc.number = cv.Number; rc.number != "" {
			break
		}
		if time.Now().After(deadline) {
			return realCase{}, fmt.Errorf("case %s got no case number from the province in 2 minutes", v.ID)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return rc, nil
}

// cases makes one application per owner, for the first item of the
// catalog that a verified person can apply for with uploads alone.
func (s *seeder) cases(ctx context.Context, owners []*citizen, guides []guide) ([]realCase, error) {
	var item *guide
	var first realCase
	var errs []error
	for i := range guides {
		g := guides[i]
		if !g.OnlineApply {
			continue
		}
		rc, err := s.applyFor(ctx, owners[0], g)
		if err == nil {
			item, first = &g, rc
			break
		}
		if errs = append(errs, err); len(errs) >= 8 {
			break
		}
	}
	if item == nil {
		return nil, fmt.Errorf("no item could be applied for: %v", errs)
	}
	out := make([]realCase, len(owners))
	out[0] = first
	err := parallel(ctx, len(owners)-1, seedWorkers, func(ctx context.Context, i int) error {
		rc, err := s.applyFor(ctx, owners[i+1], *item)
		out[i+1] = rc
		return err
	})
	return out, err
}

// notice is a fee the non-tax platform issued to a person, mirrored in
// zwfw by the person's look-up.
type notice struct {
	c    *citizen
	code string
}

// notices issues n fees, one per person in turn, each looked up once.
func (s *seeder) notices(ctx context.Context, payers []*citizen, n int) ([]notice, error) {
	out := make([]notice, n)
	err := parallel(ctx, n, seedWorkers, func(ctx context.Context, i int) error {
		c := payers[i%len(payers)]
		var v struct {
			Code string `json:"payment_code"`
		}
		r, err := call(ctx, "POST", s.z.sandbox+"/sandbox/nontax/notices", map[string]any{"payer_id": c.idNumber,
			"payer_name": c.realName, "items": []map[string]any{{"code": "103040300101"}}})
		if err != nil {
			return err
		}
		if r.status/100 != 2 {
			return fmt.Errorf("the non-tax platform issued no notice: %s", r)
		}
		if err := r.decode(&v); err != nil {
			return err
		}
		if err := want(ctx, 200, "GET", s.api+"/payments/lookup?payment_code="+v.Code, nil, nil, bearer(c.token)...); err != nil {
			return err
		}
		out[i] = notice{c: c, code: v.Code}
		return nil
	})
	return out, err
}

// signedNotify is WeChat Pay's paid notify for one order, as the sandbox
// signed it with the merchant key, held back so the harness sends it.
type signedNotify struct {
	url  string
	body []byte
}

// openOrders pays each notice with WeChat Pay (JSAPI) in zwfw, has the
// payer pay at the sandbox with the notify held back, and returns the
// notifies WeChat Pay would have sent: each a first notify for zwfw.
func (s *seeder) openOrders(ctx context.Context, ns []notice) ([]signedNotify, error) {
	orders := make([]string, len(ns))
	err := parallel(ctx, len(ns), seedWorkers, func(ctx context.Context, i int) error {
		var a struct {
			OrderID string            `json:"order_id"`
			WeChat  map[string]string `json:"wechat_params"`
		}
		if err := want(ctx, 200, "POST", s.api+"/payments/"+ns[i].code+"/pay", map[string]string{"channel": "wechat_jsapi"}, &a,
			append(bearer(ns[i].c.token), "Idempotency-Key", uuid.NewString())...); err != nil {
			return err
		}
		orders[i] = a.OrderID
		return want(ctx, 200, "POST", s.z.sandbox+"/sandbox/wechatpay/pay", map[string]any{"params": a.WeChat, "notify": "drop"}, nil)
	})
	if err != nil {
		return nil, err
	}
	var held []struct {
		Kind       string `json:"kind"`
		OutTradeNo string `json:"out_trade_no"`
		URL        string `json:"url"`
		Body       string `json:"body"`
	}
	if err := want(ctx, 200, "GET", s.z.sandbox+"/sandbox/wechatpay/notifies", nil, &held); err != nil {
		return nil, err
	}
	byOrder := map[string]signedNotify{}
	for _, h := range held {
		if h.Kind == "paid" {
			byOrder[h.OutTradeNo] = signedNotify{url: h.URL, body: []byte(h.Body)}
		}
	}
	out := make([]signedNotify, len(orders))
	for i, o := range orders {
		n, ok := byOrder[o]
		if !ok {
			return nil, fmt.Errorf("WeChat Pay holds no paid notify of order %s", o)
		}
		out[i] = n
	}
	return out, nil
}
