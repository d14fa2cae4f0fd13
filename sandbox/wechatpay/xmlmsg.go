package wechatpay

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Message is a WeChat Pay v2 message: the child elements of <xml>, in the
// order they were written. WeChat Pay's v2 messages are flat (no nesting),
// so a message is a list of name/value pairs.
type Message []Field

// Field is one element of a Message.
type Field struct {
	Name, Value string
}

// Get returns the value of name ("" when absent).
func (m Message) Get(name string) string {
	for _, f := range m {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Set replaces name's value or appends it.
func (m *Message) Set(name, value string) {
	for i, f := range *m {
		if f.Name == name {
			(*m)[i].Value = value
			return
		}
	}
	*m = append(*m, Field{name, value})
}

// Map returns the message as a map (what the signature is computed over).
func (m Message) Map() map[string]string {
	out := make(map[string]string, len(m))
	for _, f := range m {
		out[f.Name] = f.Value
	}
	return out
}

// ErrMalformed is returned by ParseMessage for bodies that are not a flat
// <xml> message.
var ErrMalformed = errors.New("wechatpay: malformed XML message")

// ParseMessage reads a flat <xml><name>value</name>...</xml> message.
// The root's name is not checked: the SDK marshals some requests under
// their Go struct's name (<queryRequest>, <closeRequest>, <request>) and
// WeChat Pay accepts them. Repeated element names are refused: a signature check over one reading of
// the message and business logic over another must never disagree. Returns
// ErrMalformed (wrapped) on anything else.
func ParseMessage(body []byte) (Message, error) {
	d := xml.NewDecoder(strings.NewReader(string(body)))
	var msg Message
	seen := map[string]bool{}
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch depth {
			case 0:
				depth = 1
				continue
			case 2:
				return nil, fmt.Errorf("%w: content after the root element", ErrMalformed)
			}
			var v struct {
				Text string `xml:",chardata"`
			}
			if err := d.DecodeElement(&v, &t); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			if seen[t.Name.Local] {
				return nil, fmt.Errorf("%w: repeated <%s>", ErrMalformed, t.Name.Local)
			}
			seen[t.Name.Local] = true
			msg = append(msg, Field{t.Name.Local, v.Text})
		case xml.EndElement:
			depth = 2 // closed the root: nothing may follow but whitespace
		case xml.CharData:
			if strings.TrimSpace(string(t)) != "" {
				return nil, fmt.Errorf("%w: text outside elements", ErrMalformed)
			}
		}
	}
	if depth != 2 {
		return nil, fmt.Errorf("%w: no <xml> root", ErrMalformed)
	}
	return msg, nil
}

// Encode writes the message as WeChat Pay does: every value in CDATA.
func (m Message) Encode() []byte {
	var b strings.Builder
	b.WriteString("<xml>")
	for _, f := range m {
		b.WriteString("<" + f.Name + "><![CDATA[")
		// "]]>" cannot appear inside CDATA: close and reopen around it.
		b.WriteString(strings.ReplaceAll(f.Value, "]]>", "]]]]><![CDATA[>"))
		b.WriteString("]]></" + f.Name + ">")
	}
	b.WriteString("</xml>")
	return []byte(b.String())
}
