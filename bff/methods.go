package bff

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// allowIndex knows which methods each route path is served with, for the
// Allow header of a 405. It is built once from the route table and read
// only on the error path.
type allowIndex struct {
	routes []allowRoute
}

type allowRoute struct {
	segments []string // ":id" matches one segment
	methods  []string
}

func newAllowIndex(routes []fiber.Route) *allowIndex {
	byPath := map[string][]string{}
	var order []string
	for _, r := range routes {
		if r.Method == "USE" || strings.HasSuffix(r.Path, "*") {
			continue
		}
		if _, ok := byPath[r.Path]; !ok {
			order = append(order, r.Path)
		}
		if !slices.Contains(byPath[r.Path], r.Method) {
			byPath[r.Path] = append(byPath[r.Path], r.Method)
		}
	}
	x := &allowIndex{}
	for _, p := range order {
		ms := byPath[p]
		slices.Sort(ms)
		x.routes = append(x.routes, allowRoute{segments: strings.Split(strings.Trim(p, "/"), "/"), methods: ms})
	}
	return x
}

// allow lists the methods path is served with ("GET, HEAD"), or "".
func (x *allowIndex) allow(path string) string {
	if x == nil {
		return ""
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var out []string
	for _, r := range x.routes {
		if matchSegments(r.segments, segs) {
			for _, m := range r.methods {
				if !slices.Contains(out, m) {
					out = append(out, m)
				}
			}
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

func matchSegments(pattern, path []string) bool {
	if len(pattern) != len(path) {
		return false
	}
	for i, p := range pattern {
		if strings.HasPrefix(p, ":") {
			if path[i] == "" {
				return false
			}
			continue
		}
		if p != path[i] {
			return false
		}
	}
	return true
}
