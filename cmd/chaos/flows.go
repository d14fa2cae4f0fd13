package main

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/url"
	"time"
)

// guide is the part of an item's guide the suite needs.
type guide struct {
	Code          string `json:"code"`
	OnlineApply   bool   `json:"online_apply"`
	Bookable      bool   `json:"bookable"`
	MailMaterials bool   `json:"mail_materials"`
	MailResult    bool   `json:"mail_result"`
	Halls         []struct {
		ID string `json:"id"`
	} `json:"halls"`
	Materials []struct {
		ID       string `json:"id"`
		Required bool   `json:"required"`
	} `json:"materials"`
	FormFields []struct {
		Name    string   `json:"name"`
		Type    string   `json:"type"`
		Options []string `json:"options"`
	} `json:"form_fields"`
}

// findItem pages through the catalog for an item whose guide satisfies ok.
func (d *deployment) findItem(ctx context.Context, p *person, ok func(g guide) bool) (guide, error) {
	cursor := ""
	for page := 0; page < 50; page++ {
		r, err := p.want(ctx, 200, "GET", "/items?limit=50&cursor="+url.QueryEscape(cursor), nil, "")
		if err != nil {
			return guide{}, err
		}
		var list struct {
			Items []struct {
				Code        string `json:"code"`
				OnlineApply bool   `json:"online_apply"`
				Bookable    bool   `json:"bookable"`
			} `json:"items"`
			Next string `json:"next_cursor"`
		}
		if err := r.json(&list); err != nil {
			return guide{}, err
		}
		for _, it := range list.Items {
			if !it.OnlineApply && !it.Bookable {
				continue
			}
			r, err := p.want(ctx, 200, "GET", "/items/"+it.Code, nil, "")
			if err != nil {
				return guide{}, err
			}
			var g guide
			if err := r.json(&g); err != nil {
				return guide{}, err
			}
			if ok(g) {
				return g, nil
			}
		}
		if cursor = list.Next; cursor == "" {
			break
		}
	}
	return guide{}, fmt.Errorf("no item in the catalog fits")
}

// mailItem is applied for online, its materials can be picked up and its
// result is mailed.
func mailItem(g guide) bool {
	return g.OnlineApply && g.MailMaterials && g.MailResult && len(g.FormFields) > 0
}

// bookableItem can be booked at a hall.
func bookableItem(g guide) bool { return g.Bookable && len(g.Halls) > 0 }

// accountFields are filled in by zwfw from the verified account.
var accountFields = map[string]bool{"applicant_name": true, "applicant_id_number": true, "contact_name": true, "contact_id_number": true}

var pickupAddress = map[string]string{"name": "张三", "phone": "13800138000", "province": "福建省", "city": "福州市",
	"district": "鼓楼区", "detail": "五四路158号环球广场1201室"}

// demoUSCC is a company of the sandbox's registry (福州榕城餐饮管理有限公司).
const demoUSCC = "91350102MA2XK8L3RP"

func (p *person) form(g guide) map[string]any {
	form := map[string]any{}
	for _, f := range g.FormFields {
		if accountFields[f.Name] {
			continue
		}
		switch f.Type {
		case "number":
			form[f.Name] = 1
		case "date":
			form[f.Name] = "2026-11-20"
		case "enum":
			form[f.Name] = f.Options[0]
		case "phone":
			form[f.Name] = "13800138000"
		case "id_number":
			form[f.Name] = p.idNumber
		case "uscc":
			form[f.Name] = demoUSCC
		case "address":
			form[f.Name] = "福州市鼓楼区五四路158号"
		default:
			form[f.Name] = "测试"
		}
	}
	return form
}

// draft creates a complete application for g (materials picked up by the
// courier, the result mailed), every required material uploaded.
func (p *person) draft(ctx context.Context, g guide) (string, error) {
	r, err := p.want(ctx, 201, "POST", "/cases", map[string]any{"item_code": g.Code, "form": p.form(g),
		"delivery": map[string]any{"materials": "pickup", "result": "mail", "address": pickupAddress}}, "")
	if err != nil {
		return "", err
	}
	id, _ := r.m()["id"].(string)
	for _, m := range g.Materials {
		if m.Required {
			if err := p.upload(ctx, id, m.ID); err != nil {
				return "", err
			}
		}
	}
	return id, nil
}

var minimalPDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

func (p *person) upload(ctx context.Context, caseID, slot string) error {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("slot_id", slot)
	fw, _ := w.CreateFormFile("file", slot+".pdf")
	_, _ = fw.Write(minimalPDF)
	_ = w.Close()
	rq := request{method: "POST", url: p.d.base + "/api/v1/cases/" + caseID + "/materials", body: body.Bytes(),
		ctype: w.FormDataContentType()}
	rq = rq.with("Authorization", "Bearer "+p.token).with("X-Forwarded-For", p.ip)
	if r := p.d.call(ctx, p.t, rq); r.status != 201 {
		return fmt.Errorf("upload %s: %s", slot, r)
	}
	return nil
}

// caseView is the part of GET /cases/{id} the suite reads.
type caseView struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	CaseNumber string `json:"case_number"`
}

func (p *person) getCase(ctx context.Context, id string) (caseView, error) {
	var c caseView
	r, err := p.want(ctx, 200, "GET", "/cases/"+id, nil, "")
	if err == nil {
		err = r.json(&c)
	}
	return c, err
}

// provinceCase is the part of the sandbox province's case record the suite counts.
type provinceCase struct {
	CaseNumber string         `json:"case_number"`
	Status     string         `json:"status"`
	Applicant  map[string]any `json:"applicant"`
	Evaluation *struct {
		Level int `json:"level"`
	} `json:"evaluation"`
	History []struct {
		Status string `json:"status"`
	} `json:"history"`
}

func (c provinceCase) idNumber() string { s, _ := c.Applicant["id_number"].(string); return s }

func (c provinceCase) historyCount(status string) int {
	n := 0
	for _, h := range c.History {
		if h.Status == status {
			n++
		}
	}
	return n
}

// provinceCases are every case the province holds.
func (d *deployment) provinceCases(ctx context.Context) ([]provinceCase, error) {
	var out []provinceCase
	err := d.sb(ctx, "GET", "/sandbox/province/cases", nil, &out)
	return out, err
}

// advance is a department clerk moving a case at the province.
func (d *deployment) advance(ctx context.Context, number, status, result string) error {
	body := map[string]any{"status": status}
	if result != "" {
		body["result"] = result
	}
	return d.sb(ctx, "POST", "/sandbox/province/cases/"+number+"/advance", body, nil)
}

// provinceFault sets a fault on a group of the province's API.
func (d *deployment) provinceFault(ctx context.Context, group, mode string, extra map[string]any) error {
	body := map[string]any{"group": group, "mode": mode}
	for k, v := range extra {
		body[k] = v
	}
	return d.sb(ctx, "POST", "/sandbox/province/faults", body, nil)
}

// waitUntil polls cond every 100 ms until it holds or limit passes.
func waitUntil(ctx context.Context, limit time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", limit, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// hallSetup is a hall configured for one bookable item, with room for
// every copy of a volley in each slot.
type hallSetup struct {
	hall, item string
	slots      []string // bookable slot starts, soonest first
}

// setupHall configures the first hall of a bookable item (an admin's PUT)
// and lists its bookable slots of the coming week.
func (d *deployment) setupHall(ctx context.Context, admin *person, capacity int) (hallSetup, error) {
	g, err := d.findItem(ctx, admin, bookableItem)
	if err != nil {
		return hallSetup{}, err
	}
	h := hallSetup{hall: g.Halls[0].ID, item: g.Code}
	if _, err := admin.want(ctx, 200, "PUT", "/admin/halls/"+h.hall+"/config", map[string]any{
		"name": "大厅", "windows": []map[string]any{{"id": "w1", "name": "1号窗口", "item_codes": []string{h.item}, "per_slot_capacity": capacity}},
	}, ""); err != nil {
		return hallSetup{}, err
	}
	from := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	r, err := admin.want(ctx, 200, "GET", fmt.Sprintf("/halls/%s/slots?item_code=%s&from=%s&days=7", h.hall, h.item, from), nil, "")
	if err != nil {
		return hallSetup{}, err
	}
	var v struct {
		Slots []struct {
			Start    string `json:"start"`
			Bookable bool   `json:"bookable"`
		} `json:"slots"`
	}
	if err := r.json(&v); err != nil {
		return hallSetup{}, err
	}
	for _, s := range v.Slots {
		if s.Bookable {
			h.slots = append(h.slots, s.Start)
		}
	}
	if len(h.slots) < 4 {
		return hallSetup{}, fmt.Errorf("only %d bookable slots at %s this week", len(h.slots), h.hall)
	}
	return h, nil
}

// tomorrowWindow is 09:00-11:00 China time tomorrow: a courier pickup window.
func tomorrowWindow() map[string]string {
	cst := time.FixedZone("CST", 8*3600)
	day := time.Now().In(cst).AddDate(0, 0, 1)
	start := time.Date(day.Year(), day.Month(), day.Day(), 9, 0, 0, 0, cst)
	return map[string]string{"start": start.Format(time.RFC3339), "end": start.Add(2 * time.Hour).Format(time.RFC3339)}
}
