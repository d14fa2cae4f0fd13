package province

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"zwfw/apperr"
)

// Audiences of a service item.
const (
	AudienceCitizen  = "citizen"  // 自然人
	AudienceBusiness = "business" // 法人
)

// Catalog routes.
var (
	epSearchItems = endpoint{groupCatalog, http.MethodGet, "/api/catalog/items"}
	epGetItem     = endpoint{groupCatalog, http.MethodGet, "/api/catalog/items/{code}"}
	epListHalls   = endpoint{groupCatalog, http.MethodGet, "/api/catalog/halls"}
	epListDepts   = endpoint{groupCatalog, http.MethodGet, "/api/catalog/departments"}
)

// Limits of a catalog search.
const (
	MaxPageSize   = 50 // the largest page the catalog serves
	MaxQueryRunes = 50 // the longest search text, in characters
)

// ItemQuery searches the service catalog. All fields are optional.
type ItemQuery struct {
	// Q matches the item name, its keywords and the department (Chinese
	// substring match: 营业执照 finds the business-licence items).
	Q string
	// Audience is AudienceCitizen, AudienceBusiness or "" for both.
	Audience string
	// Dept is a department code (e.g. scjg).
	Dept string
	// PageToken is the NextPageToken of the previous page.
	PageToken string
	// PageSize is 1..MaxPageSize; 0 takes the province's default (20).
	PageSize int
}

// ItemSummary is one search hit.
type ItemSummary struct {
	Code        string   `json:"code"`
	Name        string   `json:"name"`
	Dept        string   `json:"dept"`
	Audience    []string `json:"audience"`
	Keywords    []string `json:"keywords"`
	OnlineApply bool     `json:"online_apply"`
	Bookable    bool     `json:"bookable"`
	MaxTrips    int      `json:"max_trips"` // 最多跑一次 = 1, 零跑动 = 0
}

// ItemPage is one page of search results.
type ItemPage struct {
	Items         []ItemSummary `json:"items"`
	NextPageToken string        `json:"next_page_token"` // "" on the last page
	Freshness
}

// Material is one material an applicant hands in.
type Material struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Form         string `json:"form"` // original, copy, original_and_copy
	Copies       int    `json:"copies"`
	Required     bool   `json:"required"`
	ELicenseType string `json:"elicense_type"` // the e-licence that can replace it, "" if none
	BlankFormURL string `json:"blank_form_url"`
	SampleURL    string `json:"sample_url"`
	Note         string `json:"note"`
}

// FormField is one field of the item's application form.
type FormField struct {
	Name      string   `json:"name"`
	Label     string   `json:"label"`
	Type      string   `json:"type"` // string, number, date, enum, phone, id_number, uscc, address
	Required  bool     `json:"required"`
	MaxLength int      `json:"max_length"`
	Options   []string `json:"options"`
}

// Fee is one fee of an item, in fen; an item without fees is free.
type Fee struct {
	Name           string `json:"name"`
	AmountFen      int64  `json:"amount_fen"`
	NontaxItemCode string `json:"nontax_item_code"`
}

// Hall is a service hall (政务服务大厅) where an item can be handled.
type Hall struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Address string  `json:"address"`
	Lat     float64 `json:"lat"`
	Lng     float64 `json:"lng"`
	Phone   string  `json:"phone"`
	Hours   string  `json:"hours"`
}

// Guide is the full guide (办事指南) of a service item.
type Guide struct {
	Code          string      `json:"code"` // 统一社会信用代码 of the department + sequence
	Name          string      `json:"name"`
	Dept          string      `json:"dept"`
	DeptCode      string      `json:"dept_code"`
	Category      string      `json:"category"`
	Audience      []string    `json:"audience"`
	Keywords      []string    `json:"keywords"`
	LegalBasis    []string    `json:"legal_basis"`
	Conditions    []string    `json:"conditions"`
	Materials     []Material  `json:"materials"`
	FormFields    []FormField `json:"form_fields"`
	StatutoryDays int         `json:"statutory_days"` // 法定办结时限, working days
	PromisedDays  int         `json:"promised_days"`  // 承诺办结时限, working days
	// SupplementDays is the applicant's time to answer a supplement request
	// (补正期限), in working days from the request; 0 when the guide states none.
	SupplementDays int       `json:"supplement_days"`
	Fees           []Fee     `json:"fees"`
	Steps          []string  `json:"steps"`
	Halls          []Hall    `json:"halls"`
	OnlineApply    bool      `json:"online_apply"`
	Bookable       bool      `json:"bookable"`
	MailMaterials  bool      `json:"mail_materials"`
	MailResult     bool      `json:"mail_result"`
	MaxTrips       int       `json:"max_trips"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// GuideResult is a guide with where it came from.
type GuideResult struct {
	Guide Guide
	Freshness
}

// HallList is the halls of an item (or all halls).
type HallList struct {
	Halls []Hall `json:"halls"`
	Freshness
}

// SearchItems searches the service catalog; handlers call it for the item
// search page. Answers are cached (see Freshness): while the province is down
// a cached page is returned with Stale set.
//
// Returns REQUEST_INVALID for an unknown audience, a page size out of
// range or an over-long query; on a cache
// miss PROVINCE_UNAVAILABLE, PROVINCE_TIMEOUT or PROVINCE_BAD_RESPONSE.
func (c *Client) SearchItems(ctx context.Context, q ItemQuery) (ItemPage, error) {
	q.Q, q.Dept = strings.TrimSpace(q.Q), strings.TrimSpace(q.Dept)
	if utf8.RuneCountInString(q.Q) > MaxQueryRunes {
		return ItemPage{}, apperr.InvalidInput.WithFields(apperr.Field("q", "TOO_LONG", "搜索词不能超过50个字"))
	}
	if len(q.Dept) > 64 {
		return ItemPage{}, apperr.InvalidInput.WithFields(apperr.Field("dept", "TOO_LONG", "部门代码过长"))
	}
	if len(q.PageToken) > 512 {
		return ItemPage{}, apperr.InvalidInput.WithFields(apperr.Field("page_token", "TOO_LONG", "分页参数无效"))
	}
	v := url.Values{}
	if q.Q != "" {
		v.Set("q", q.Q)
	}
	switch q.Audience {
	case "":
	case AudienceCitizen, AudienceBusiness:
		v.Set("audience", q.Audience)
	default:
		return ItemPage{}, apperr.InvalidInput.WithFields(apperr.Field("audience", "INVALID", "办事对象只能是 citizen 或 business"))
	}
	if q.Dept != "" {
		v.Set("dept", q.Dept)
	}
	if q.PageToken != "" {
		v.Set("page_token", q.PageToken)
	}
	switch {
	case q.PageSize < 0 || q.PageSize > MaxPageSize:
		return ItemPage{}, apperr.InvalidInput.WithFields(apperr.Field("page_size", "OUT_OF_RANGE", "每页条数应在1到50之间"))
	case q.PageSize > 0:
		v.Set("page_size", strconv.Itoa(q.PageSize))
	}
	var page ItemPage
	f, err := c.cachedJSON(ctx, request{ep: epSearchItems, path: epSearchItems.route, query: v}, &page)
	if err != nil {
		return ItemPage{}, err
	}
	if page.Items == nil {
		page.Items = []ItemSummary{}
	}
	page.Freshness = f
	return page, nil
}

// GetItem returns the guide of the item with code; handlers call it for the
// item page and domains (booking, cases) to check an item. Cached like
// SearchItems.
//
// Returns ITEM_NOT_FOUND when there is no such item; on a cache miss
// PROVINCE_UNAVAILABLE, PROVINCE_TIMEOUT or PROVINCE_BAD_RESPONSE.
func (c *Client) GetItem(ctx context.Context, code string) (GuideResult, error) {
	code = strings.TrimSpace(code)
	if !validRef(code) {
		return GuideResult{}, ErrItemNotFound
	}
	var g Guide
	f, err := c.cachedJSON(ctx, request{ep: epGetItem, path: "/api/catalog/items/" + url.PathEscape(code)}, &g)
	if err != nil {
		return GuideResult{}, err
	}
	return GuideResult{Guide: g, Freshness: f}, nil
}

// ListHalls returns the halls where the item with itemCode is handled, or
// all halls when itemCode is ""; booking calls it. Cached like SearchItems.
//
// Returns PROVINCE_UNAVAILABLE, PROVINCE_TIMEOUT or PROVINCE_BAD_RESPONSE on
// a cache miss; an unknown item may give ITEM_NOT_FOUND or no halls.
func (c *Client) ListHalls(ctx context.Context, itemCode string) (HallList, error) {
	v := url.Values{}
	if s := strings.TrimSpace(itemCode); s != "" {
		v.Set("item_code", s)
	}
	var l HallList
	f, err := c.cachedJSON(ctx, request{ep: epListHalls, path: epListHalls.route, query: v}, &l)
	if err != nil {
		return HallList{}, err
	}
	if l.Halls == nil {
		l.Halls = []Hall{}
	}
	l.Freshness = f
	return l, nil
}

// Department is a department that implements items; its Code is what the
// catalog search's Dept filter takes.
type Department struct {
	Code string `json:"code"`
	Name string `json:"name"`
	USCC string `json:"uscc"`
}

// DepartmentList is the departments of the catalog.
type DepartmentList struct {
	Departments []Department `json:"departments"`
	Freshness
}

// ListDepartments returns the departments that implement items; the
// catalog calls it for the department list and to check a search's
// department. Cached like SearchItems.
//
// Returns PROVINCE_UNAVAILABLE, PROVINCE_TIMEOUT or PROVINCE_BAD_RESPONSE on a cache miss.
func (c *Client) ListDepartments(ctx context.Context) (DepartmentList, error) {
	var l DepartmentList
	f, err := c.cachedJSON(ctx, request{ep: epListDepts, path: epListDepts.route}, &l)
	if err != nil {
		return DepartmentList{}, err
	}
	if l.Departments == nil {
		l.Departments = []Department{}
	}
	l.Freshness = f
	return l, nil
}

// cachedJSON runs a cached GET and decodes its data into out.
func (c *Client) cachedJSON(ctx context.Context, r request, out any) (Freshness, error) {
	data, f, err := c.cachedGet(ctx, r)
	if err != nil {
		return Freshness{}, err
	}
	if err := decodeData(data, out); err != nil {
		return Freshness{}, err
	}
	return f, nil
}

// decodeData decodes an envelope's data; a shape that does not fit is a bad response.
func decodeData(data json.RawMessage, out any) error {
	if len(data) == 0 || string(data) == "null" {
		return ErrBadResponse.WithCause(errors.New("response without data"))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return ErrBadResponse.WithCause(err)
	}
	return nil
}

// validRef reports whether s can be an identifier in a path: item codes,
// case numbers and licence ids are short printable ASCII.
func validRef(s string) bool {
	return s != "" && len(s) <= 128 && printableASCII(s)
}
