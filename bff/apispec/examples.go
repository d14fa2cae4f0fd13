package apispec

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Trimming keeps examples short enough to read.
const (
	maxArrayItems = 2  // items kept of every array
	maxTextLines  = 10 // lines kept of a text body (metrics)
)

// secretKeys are members whose values are never written into an example
// (the tokens of a session); the value becomes a placeholder.
var secretKeys = map[string]string{
	"access_token":  "<access token (JWT)>",
	"refresh_token": "<refresh token>",
}

// mediaTarget is one media type object of the spec that receives examples.
type mediaTarget struct {
	key, value *yaml.Node
	examples   map[string]*yaml.Node // by operationId
}

// WriteExamples writes each recorded exchange into the spec as the examples
// of its operation: the response body under the response's media type and
// the request body under the request's, each keyed by the operationId (a
// response or request body shared through components/ gets one example per
// operation). The examples block of every media type written is replaced
// as a whole, so a second run with the same recordings changes nothing.
// Recordings of operations the spec no longer has are reported in skipped.
func WriteExamples(spec []byte, recs []Recorded) (out []byte, skipped []string, err error) {
	doc, err := parse(spec)
	if err != nil {
		return nil, nil, err
	}
	targets := map[*yaml.Node]*mediaTarget{}
	add := func(body *yaml.Node, mediaType, opID, summary string, value *yaml.Node) error {
		key, val := mediaOf(body, mediaType)
		if key == nil || value == nil {
			return nil
		}
		if val.Kind != yaml.MappingNode || val.Style&yaml.FlowStyle != 0 {
			return fmt.Errorf("line %d: write %s as a block mapping to give it examples", key.Line, key.Value)
		}
		t := targets[key]
		if t == nil {
			t = &mediaTarget{key: key, value: val, examples: map[string]*yaml.Node{}}
			targets[key] = t
		}
		t.examples[opID] = mapping(scalar("summary"), scalar(summary), scalar("value"), value)
		return nil
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Method+recs[i].Path < recs[j].Method+recs[j].Path })
	for _, r := range recs {
		op := at(doc, "paths", r.Path, strings.ToLower(r.Method))
		if op == nil {
			skipped = append(skipped, r.Method+" "+r.Path)
			continue
		}
		opID := at(op, "operationId")
		if opID == nil {
			return nil, nil, fmt.Errorf("%s %s has no operationId", r.Method, r.Path)
		}
		resp := resolve(doc, at(op, "responses", strconv.Itoa(r.Status)))
		summary := fmt.Sprintf("%s %s → %d", r.Method, r.URL, r.Status)
		if err := add(resp, r.ResponseType, opID.Value, summary, bodyValue(r.ResponseType, r.Response)); err != nil {
			return nil, nil, err
		}
		// The request of a refused call may be malformed on purpose: only a
		// success shows a request.
		if r.Request != "" && success(r.Status) {
			body := resolve(doc, at(op, "requestBody"))
			summary := fmt.Sprintf("%s %s", r.Method, r.URL)
			if err := add(body, r.RequestType, opID.Value, summary, bodyValue(r.RequestType, r.Request)); err != nil {
				return nil, nil, err
			}
		}
	}
	text := splitLines(spec)
	ordered := make([]*mediaTarget, 0, len(targets))
	for _, t := range targets {
		ordered = append(ordered, t)
	}
	// Bottom up, so the lines above each edit keep their numbers.
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].key.Line > ordered[j].key.Line })
	for _, t := range ordered {
		if text, err = t.write(text); err != nil {
			return nil, nil, err
		}
	}
	return text.bytes(), skipped, nil
}

// write replaces the media type's examples block (or adds one at its end).
func (t *mediaTarget) write(text lines) (lines, error) {
	start := t.key.Line - 1
	end := text.blockEnd(start)
	block := append([]string(nil), text[start+1:end]...)
	if ek, _ := child(t.value, "examples"); ek != nil {
		from := ek.Line - 1 - (start + 1)
		to := text.blockEnd(ek.Line-1) - (start + 1)
		block = append(block[:from:from], block[to:]...)
	}
	ids := make([]string, 0, len(t.examples))
	for id := range t.examples {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	ex := mapping()
	for _, id := range ids {
		ex.Content = append(ex.Content, scalar(id), t.examples[id])
	}
	rendered, err := render(mapping(scalar("examples"), ex), t.key.Column-1+2)
	if err != nil {
		return nil, err
	}
	return text.replace(start+1, end, append(block, rendered...)), nil
}

// mediaOf finds the media type object of a request or response body: the
// one named, else the only one there is.
func mediaOf(body *yaml.Node, mediaType string) (*yaml.Node, *yaml.Node) {
	content := at(body, "content")
	if content == nil || content.Kind != yaml.MappingNode {
		return nil, nil
	}
	if k, v := child(content, mediaType); k != nil {
		return k, v
	}
	if len(content.Content) == 2 {
		return content.Content[0], content.Content[1]
	}
	return nil, nil
}

// bodyValue turns a recorded body into the example's value: JSON as YAML
// (arrays cut to their first items, tokens replaced), a form as a mapping,
// text as its first lines.
func bodyValue(mediaType, body string) *yaml.Node {
	switch {
	case body == "":
		return nil
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json") || mediaType == "multipart/form-data":
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(body), &doc); err != nil || len(doc.Content) != 1 {
			return scalar(body)
		}
		v := doc.Content[0]
		if _, paths := child(v, "paths"); paths != nil { // the OpenAPI document itself
			v = keep(v, "openapi", "info")
		}
		tidy(v)
		return v
	case mediaType == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(body)
		if err != nil {
			return scalar(body)
		}
		names := make([]string, 0, len(form))
		for k := range form {
			names = append(names, k)
		}
		sort.Strings(names)
		m := mapping()
		for _, k := range names {
			m.Content = append(m.Content, scalar(k), scalar(form.Get(k)))
		}
		return m
	default:
		ls := strings.Split(strings.TrimRight(body, "\n"), "\n")
		if len(ls) > maxTextLines {
			ls = ls[:maxTextLines]
		}
		return scalar(strings.Join(ls, "\n") + "\n")
	}
}

// keep is mapping m with only the keys named.
func keep(m *yaml.Node, keys ...string) *yaml.Node {
	out := mapping()
	for _, k := range keys {
		if kn, vn := child(m, k); kn != nil {
			out.Content = append(out.Content, kn, vn)
		}
	}
	return out
}

// tidy makes a decoded JSON value read as block YAML: collections in block
// style, strings quoted only where YAML needs it, arrays cut, tokens replaced.
func tidy(n *yaml.Node) {
	n.Line, n.Column = 0, 0
	switch n.Kind {
	case yaml.MappingNode:
		n.Style = 0
		for i := 0; i+1 < len(n.Content); i += 2 {
			n.Content[i].Style = 0
			if placeholder, ok := secretKeys[n.Content[i].Value]; ok && n.Content[i+1].Kind == yaml.ScalarNode {
				n.Content[i+1] = scalar(placeholder)
			}
			tidy(n.Content[i])
			tidy(n.Content[i+1])
		}
	case yaml.SequenceNode:
		n.Style = 0
		if len(n.Content) > maxArrayItems {
			n.Content = n.Content[:maxArrayItems]
		}
		for _, c := range n.Content {
			tidy(c)
		}
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			n.Style = 0 // the encoder quotes a string that would read as another type
		}
	}
}
