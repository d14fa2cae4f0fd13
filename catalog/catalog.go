// Package catalog serves the service catalog (事项目录) and guides (办事指南)
// to phones. The provincial platform owns the catalog; this package checks
// what a phone asks for and reads it through the province client, whose
// cache keeps the catalog available (marked stale) while the province is down.
package catalog

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"zwfw/apperr"
	"zwfw/province"
)

// Source is where the catalog comes from (implemented by *province.Client).
type Source interface {
	SearchItems(ctx context.Context, q province.ItemQuery) (province.ItemPage, error)
	GetItem(ctx context.Context, code string) (province.GuideResult, error)
	ListHalls(ctx context.Context, itemCode string) (province.HallList, error)
	ListDepartments(ctx context.Context) (province.DepartmentList, error)
}

// Service is the catalog business API, called by the HTTP handlers.
type Service struct{ src Source }

// NewService reads the catalog from src.
func NewService(src Source) *Service { return &Service{src: src} }

// Query is a catalog search as a phone sends it.
type Query struct {
	Q        string
	Audience string // citizen | business | ""
	Dept     string
	Cursor   string
	Limit    int
}

var (
	deptPattern     = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
	itemCodePattern = regexp.MustCompile(`^[0-9A-Z]{10,40}$`)
	cursorPattern   = regexp.MustCompile(`^[A-Za-z0-9_=-]{1,256}$`)
)

// ErrItemNotFound is returned for an unknown or malformed item code.
var ErrItemNotFound = province.ErrItemNotFound

// Search finds items by Chinese text on name, keywords and department, with
// optional audience and department filters; pages are cursor-paginated.
// Returns REQUEST_INVALID naming every bad parameter, or the province's
// PROVINCE_UNAVAILABLE (with retry_after) when it is down and nothing is cached.
func (s *Service) Search(ctx context.Context, q Query) (province.ItemPage, error) {
	q.Q = strings.TrimSpace(q.Q)
	var fields []apperr.FieldError
	if utf8.RuneCountInString(q.Q) > province.MaxQueryRunes || strings.ContainsAny(q.Q, "\x00\r\n") {
		fields = append(fields, apperr.Field("q", "QUERY_INVALID", "搜索内容过长或包含不支持的字符"))
	}
	switch q.Audience {
	case "", province.AudienceCitizen, province.AudienceBusiness:
	default:
		fields = append(fields, apperr.Field("audience", "AUDIENCE_INVALID", "audience 只能是 citizen 或 business"))
	}
	if q.Dept != "" && !deptPattern.MatchString(q.Dept) {
		fields = append(fields, apperr.Field("dept", "DEPT_INVALID", "部门代码格式不正确"))
	}
	if q.Cursor != "" && !cursorPattern.MatchString(q.Cursor) {
		fields = append(fields, apperr.Field("cursor", "CURSOR_INVALID", "分页游标无效"))
	}
	if q.Limit < 0 || q.Limit > province.MaxPageSize {
		fields = append(fields, apperr.Field("limit", "LIMIT_INVALID", "每页条数应为 1-50"))
	}
	if len(fields) > 0 {
		return province.ItemPage{}, apperr.InvalidInput.WithFields(fields...)
	}
	if err := s.checkDept(ctx, q.Dept); err != nil {
		return province.ItemPage{}, err
	}
	return s.src.SearchItems(ctx, province.ItemQuery{Q: q.Q, Audience: q.Audience, Dept: q.Dept, PageToken: q.Cursor, PageSize: q.Limit})
}

// Departments lists the departments that implement items; their codes are
// what Search's Dept takes. Read through the province's cache like the
// catalog (Stale while served from it during an outage).
// Returns PROVINCE_UNAVAILABLE when the province is down and nothing is cached.
func (s *Service) Departments(ctx context.Context) (province.DepartmentList, error) {
	return s.src.ListDepartments(ctx)
}

// checkDept refuses a department code that is not in the department list,
// naming the codes there are. When the list cannot be read (the province
// down, nothing cached) the code goes to the search as it is.
func (s *Service) checkDept(ctx context.Context, dept string) error {
	if dept == "" {
		return nil
	}
	list, err := s.src.ListDepartments(ctx)
	if err != nil || len(list.Departments) == 0 {
		return nil
	}
	var known []string
	for _, d := range list.Departments {
		if d.Code == dept {
			return nil
		}
		known = append(known, fmt.Sprintf("%s（%s）", d.Code, d.Name))
	}
	return apperr.InvalidInput.WithFields(apperr.Field("dept", "DEPT_UNKNOWN",
		"没有这个部门代码，可选："+strings.Join(known, "、")+"（见 GET /api/v1/departments）"))
}

// Guide returns an item's guide. Returns ITEM_NOT_FOUND or the province's errors.
func (s *Service) Guide(ctx context.Context, code string) (province.GuideResult, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if !itemCodePattern.MatchString(code) {
		return province.GuideResult{}, ErrItemNotFound
	}
	return s.src.GetItem(ctx, code)
}

// Halls lists the halls that handle an item (all halls without one),
// nearest first when the caller says where it is (near = "lat,lng").
// Returns REQUEST_INVALID for a malformed position, ITEM_NOT_FOUND, or the province's errors.
func (s *Service) Halls(ctx context.Context, itemCode, near string) ([]province.Hall, error) {
	var lat, lng float64
	hasNear := near != ""
	if hasNear {
		if _, err := fmt.Sscanf(near, "%f,%f", &lat, &lng); err != nil || lat < -90 || lat > 90 || lng < -180 || lng > 180 {
			return nil, apperr.InvalidInput.WithFields(apperr.Field("near", "POSITION_INVALID", "位置格式应为 纬度,经度，如 26.08,119.30"))
		}
	}
	if itemCode != "" {
		itemCode = strings.ToUpper(strings.TrimSpace(itemCode))
		if !itemCodePattern.MatchString(itemCode) {
			return nil, ErrItemNotFound
		}
	}
	list, err := s.src.ListHalls(ctx, itemCode)
	if err != nil {
		return nil, err
	}
	halls := append([]province.Hall(nil), list.Halls...)
	if hasNear {
		sort.SliceStable(halls, func(i, j int) bool {
			return distanceKM(lat, lng, halls[i].Lat, halls[i].Lng) < distanceKM(lat, lng, halls[j].Lat, halls[j].Lng)
		})
	}
	return halls, nil
}

// distanceKM is the great-circle distance (haversine), plenty for "nearest hall".
func distanceKM(lat1, lng1, lat2, lng2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dlat, dlng := (lat2-lat1)*rad, (lng2-lng1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlng/2)*math.Sin(dlng/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}
