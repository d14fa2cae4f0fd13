package province

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Catalog page sizes.
const (
	DefaultPageSize = 20
	MaxPageSize     = 50
)

// SearchQuery is a catalog search.
type SearchQuery struct {
	Q        string // substring of the name, a keyword or the department; space-separated terms must all match
	Audience string // citizen, business or ""
	Dept     string // department code (or full name), "" = all
}

// Search returns the items matching q in the catalog's stable order: items
// whose name matches every term first, then the others, each by code.
func (s *Server) Search(q SearchQuery) []Guide {
	terms := strings.Fields(strings.ToLower(q.Q))
	var byName, byOther []Guide
	for _, g := range s.cat.items {
		if q.Audience != "" && !slices.Contains(g.Audience, q.Audience) {
			continue
		}
		if q.Dept != "" && q.Dept != g.DeptCode && q.Dept != g.Dept {
			continue
		}
		nameHit, allHit := true, true
		for _, t := range terms {
			inName := strings.Contains(strings.ToLower(g.Name), t)
			nameHit = nameHit && inName
			if !inName && !strings.Contains(strings.ToLower(g.Dept), t) && !slices.ContainsFunc(g.Keywords, func(k string) bool {
				return strings.Contains(strings.ToLower(k), t)
			}) {
				allHit = false
				break
			}
		}
		switch {
		case !allHit:
		case nameHit:
			byName = append(byName, g)
		default:
			byOther = append(byOther, g)
		}
	}
	return append(byName, byOther...)
}

// searchItems: GET /api/catalog/items?q=&audience=&dept=&page_token=&page_size=
func (s *Server) searchItems(c *call) (any, *apiError) {
	v := c.r.URL.Query()
	q := SearchQuery{Q: strings.TrimSpace(v.Get("q")), Audience: v.Get("audience"), Dept: strings.TrimSpace(v.Get("dept"))}
	if q.Audience != "" && q.Audience != AudienceCitizen && q.Audience != AudienceBusiness {
		return nil, errorf(http.StatusBadRequest, CodeParamInvalid, "audience 应为 citizen 或 business")
	}
	size := DefaultPageSize
	if p := v.Get("page_size"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return nil, errorf(http.StatusBadRequest, CodeParamInvalid, "page_size 应为1到%d的整数", MaxPageSize)
		}
		size = min(n, MaxPageSize)
	}
	fp := BodyHash(MethodSM3, []byte(q.Q+"\x00"+q.Audience+"\x00"+q.Dept))[:12]
	offset := 0
	if t := v.Get("page_token"); t != "" {
		var ok bool
		if offset, ok = parsePageToken(t, fp); !ok {
			return nil, errorf(http.StatusBadRequest, CodePageTokenInvalid, "page_token 无效或与查询条件不符")
		}
	}
	all := s.Search(q)
	items := []ItemSummary{}
	for i := offset; i < len(all) && i < offset+size; i++ {
		items = append(items, all[i].Summary())
	}
	next := ""
	if offset+size < len(all) {
		next = pageToken(offset+size, fp)
	}
	return map[string]any{"items": items, "next_page_token": next}, nil
}

// pageToken is opaque to clients: the offset bound to the query's fingerprint.
func pageToken(offset int, fp string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("v1.%d.%s", offset, fp)))
}

func parsePageToken(t, fp string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil {
		return 0, false
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[0] != "v1" || parts[2] != fp {
		return 0, false
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// getGuide: GET /api/catalog/items/{code}
func (s *Server) getGuide(c *call) (any, *apiError) {
	g, ok := s.Item(c.r.PathValue("code"))
	if !ok {
		return nil, errorf(http.StatusNotFound, CodeItemNotFound, "事项不存在或已停用")
	}
	return g, nil
}

// getDepartments: GET /api/catalog/departments
func (s *Server) getDepartments(_ *call) (any, *apiError) {
	return map[string]any{"departments": s.Departments()}, nil
}

// getHalls: GET /api/catalog/halls?item_code=
func (s *Server) getHalls(c *call) (any, *apiError) {
	code := c.r.URL.Query().Get("item_code")
	if code == "" {
		return map[string]any{"halls": s.Halls()}, nil
	}
	g, ok := s.Item(code)
	if !ok {
		return nil, errorf(http.StatusNotFound, CodeItemNotFound, "事项不存在或已停用")
	}
	return map[string]any{"halls": g.Halls}, nil
}
