package apispec

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// parse reads the spec as a YAML node tree; the nodes keep their line and
// column, which is how the text is edited in place.
func parse(spec []byte) (*yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(spec, &root); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("openapi.yaml: not a YAML mapping")
	}
	return root.Content[0], nil
}

// child returns the key and value nodes of key in mapping m (nil, nil when absent).
func child(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// at follows a path of keys from m.
func at(m *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		_, m = child(m, k)
	}
	return m
}

// resolve follows a local $ref (#/components/...) to the node it names.
func resolve(doc, n *yaml.Node) *yaml.Node {
	for n != nil {
		_, ref := child(n, "$ref")
		if ref == nil {
			return n
		}
		if !strings.HasPrefix(ref.Value, "#/") {
			return nil
		}
		n = at(doc, strings.Split(strings.TrimPrefix(ref.Value, "#/"), "/")...)
	}
	return nil
}

// lines is the spec's text as lines, edited block by block.
type lines []string

func splitLines(spec []byte) lines { return strings.Split(string(spec), "\n") }

func (l lines) bytes() []byte { return []byte(strings.Join(l, "\n")) }

func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

// blockEnd is the index after the last line of the block that starts with
// the key on line index start (0-based): the lines indented deeper than the
// key, trailing blank lines left out.
func (l lines) blockEnd(start int) int {
	ind := indentOf(l[start])
	end := start + 1
	for i := start + 1; i < len(l); i++ {
		if strings.TrimSpace(l[i]) == "" {
			continue
		}
		if indentOf(l[i]) <= ind {
			break
		}
		end = i + 1
	}
	return end
}

// replace returns l with the lines [from, to) replaced by with.
func (l lines) replace(from, to int, with []string) lines {
	out := make(lines, 0, len(l)-(to-from)+len(with))
	out = append(out, l[:from]...)
	out = append(out, with...)
	return append(out, l[to:]...)
}

// render encodes n as block YAML, each line indented by indent spaces.
func render(n *yaml.Node, indent int) ([]string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	pad := strings.Repeat(" ", indent)
	var out []string
	for _, s := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		if s == "" {
			out = append(out, s)
			continue
		}
		out = append(out, pad+s)
	}
	return out, nil
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

func mapping(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: kv}
}

func sequence(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: items}
}
