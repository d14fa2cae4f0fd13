// Package links makes the deep links zwfw hands to its front ends. A link
// names a target (a case, a booking, a payment notice ...) and comes in the
// form of the client that follows it: a mini-program page path, an app
// scheme URL, or an H5 URL. One table (table.go) holds the three forms of
// every target, so a new page is added in one place for every client, and
// the home screen, the detail views and the reminders agree.
package links

import (
	"fmt"
	"net/url"
	"strings"
)

// Client is the kind of front end a link is made for.
type Client string

// The clients of zwfw.
const (
	MiniProgram Client = "miniprogram" // the WeChat mini-program: a page path (wx.navigateTo, subscribe messages)
	App         Client = "app"         // the iOS/Android app: an app scheme URL (push notifications open it)
	H5          Client = "h5"          // a mobile browser: an https URL (SMS carries it)
)

// Clients lists every client, in the order documentation shows them.
var Clients = []Client{MiniProgram, App, H5}

// Valid reports whether c is a known client.
func (c Client) Valid() bool { return c == MiniProgram || c == App || c == H5 }

// ParseClient reads a client name as a front end sends it (X-Client);
// ok is false for anything else, including "".
func ParseClient(s string) (Client, bool) {
	c := Client(strings.ToLower(strings.TrimSpace(s)))
	return c, c.Valid()
}

// Ref names what a link opens: a target and, for a single record, its id.
// It is what domain code deals in; the client form is chosen at the edge.
type Ref struct {
	Target Target `bson:"target" json:"target"`
	ID     string `bson:"id,omitempty" json:"id,omitempty"`
}

// To is a Ref to one record of target.
func To(target Target, id string) Ref { return Ref{Target: target, ID: id} }

// Link is a Ref made for one client.
type Link struct {
	Target Target `json:"target"`
	ID     string `json:"id,omitempty"`
	Client Client `json:"client"`
	URL    string `json:"url"`
}

// DefaultAppScheme is the app's URL scheme (registered by the iOS and Android apps).
const DefaultAppScheme = "zwfw"

// Maker makes links for a deployment: the H5 pages' base URL and the app's
// scheme are configuration; the paths are the table's.
type Maker struct {
	h5Base    string // no trailing slash
	appScheme string
}

// New returns a Maker for H5 pages under h5Base (an absolute http(s) URL,
// e.g. https://zwfw.example.gov.cn/h5) and the app scheme (DefaultAppScheme
// when empty).
func New(h5Base, appScheme string) (*Maker, error) {
	u, err := url.Parse(h5Base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("links: H5 base URL %q must be an absolute http(s) URL without a query", h5Base)
	}
	if appScheme == "" {
		appScheme = DefaultAppScheme
	}
	if !validScheme(appScheme) {
		return nil, fmt.Errorf("links: app scheme %q is not a URL scheme", appScheme)
	}
	return &Maker{h5Base: strings.TrimRight(h5Base, "/"), appScheme: appScheme}, nil
}

// validScheme follows RFC 3986: a letter, then letters, digits, "+", "-", ".".
func validScheme(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// Link makes ref's link for client c (H5 for an unknown client).
func (m *Maker) Link(ref Ref, c Client) Link {
	if !c.Valid() {
		c = H5
	}
	return Link{Target: ref.Target, ID: ref.ID, Client: c, URL: m.URL(ref, c)}
}

// URL is ref's link for client c: a page path for the mini-program, a
// scheme URL for the app, an absolute URL for H5. An unknown target opens
// the home page.
func (m *Maker) URL(ref Ref, c Client) string {
	switch c {
	case MiniProgram:
		return fill(formsOf(ref.Target).miniProgram, ref.ID, url.QueryEscape)
	case App:
		return m.appScheme + "://" + fill(formsOf(ref.Target).app, ref.ID, url.PathEscape)
	default:
		return m.h5Base + "/" + m.H5Path(ref)
	}
}

// H5Path is ref's H5 URL relative to the H5 base (no leading slash): what an
// SMS template whose text holds the base carries in a variable.
func (m *Maker) H5Path(ref Ref) string {
	return fill(formsOf(ref.Target).h5, ref.ID, url.PathEscape)
}

// H5Base is the base URL of the H5 pages (no trailing slash).
func (m *Maker) H5Base() string { return m.h5Base }

func fill(form, id string, escape func(string) string) string {
	return strings.ReplaceAll(form, "{id}", escape(id))
}
