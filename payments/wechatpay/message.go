package wechatpay

import (
	"bytes"
	"crypto/subtle"
	"encoding/xml"
	"errors"
	"io"
	"sort"
	"strings"

	"github.com/silenceper/wechat/v2/util"
)

// errMalformed: a body that is not a flat <xml> message.
var errMalformed = errors.New("wechatpay: malformed XML message")

// parseFields reads a flat <xml><name>value</name>...</xml> message into a
// map. A repeated element is refused: the signature is checked over this
// map and the business fields read by xml.Unmarshal, and the two readings
// must not disagree.
func parseFields(body []byte) (map[string]string, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	out := map[string]string{}
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errMalformed
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case depth == 0 && t.Name.Local == "xml":
				depth = 1
				continue
			case depth != 1:
				return nil, errMalformed
			}
			var v struct {
				Text string `xml:",chardata"`
			}
			if err := d.DecodeElement(&v, &t); err != nil {
				return nil, errMalformed
			}
			if _, dup := out[t.Name.Local]; dup {
				return nil, errMalformed
			}
			out[t.Name.Local] = v.Text
		case xml.EndElement:
			depth = 2
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return nil, errMalformed
			}
		}
	}
	if depth != 2 {
		return nil, errMalformed
	}
	return out, nil
}

// verifySign checks fields["sign"] with the SDK's own signing helpers
// (util.OrderParam sorts the non-empty fields but sign and appends the
// key; util.CalculateSign hashes) under each of signTypes in turn.
// Unlike notify.PaidVerifySign it covers every field the message carries.
func verifySign(fields map[string]string, key string, signTypes ...string) bool {
	got := fields["sign"]
	if got == "" {
		return false
	}
	content := util.OrderParam(fields, "&key="+key)
	for _, t := range signTypes {
		want, err := util.CalculateSign(content, t, key)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1 {
			return true
		}
	}
	return false
}

// notifySignTypes says which sign types a message may be signed with: the
// one it names, else MD5 — or, for a merchant on HMAC-SHA256, that first
// (WeChat signs notifies the way the order was placed, and names the type
// in sign_type only optionally). Both need the key. nil for an unknown
// sign_type.
func (c *Client) notifySignTypes(fields map[string]string) []string {
	switch st := fields["sign_type"]; st {
	case util.SignTypeMD5, util.SignTypeHMACSHA256:
		return []string{st}
	case "":
		if c.cfg.SignType == util.SignTypeHMACSHA256 {
			return []string{util.SignTypeHMACSHA256, util.SignTypeMD5}
		}
		return []string{util.SignTypeMD5}
	}
	return nil
}

// encodeRequest writes a signed request as the SDK does (<xml>, one
// element per non-empty parameter, sorted for stable bodies).
func encodeRequest(params map[string]string, sign string) []byte {
	names := make([]string, 0, len(params))
	for k, v := range params {
		if v != "" && k != "sign" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("<xml>")
	for _, k := range names {
		b.WriteString("<" + k + ">")
		_ = xml.EscapeText(&b, []byte(params[k]))
		b.WriteString("</" + k + ">")
	}
	b.WriteString("<sign>" + sign + "</sign></xml>")
	return []byte(b.String())
}
