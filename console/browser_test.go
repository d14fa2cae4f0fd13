package console_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's Chromium. The console's journeys need a real
// browser: without one the test fails (it never skips), saying how to get it.
func chromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("ZWFW_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Fatal("headless Chromium is required by the staff console's browser tests and was not found at /usr/bin/chromium. " +
		"Install Debian's package (`make chromium`, which `make test` and .ci/run do first, runs " +
		"DEBIAN_FRONTEND=noninteractive apt-get install -y chromium), or set ZWFW_CHROMIUM to a Chromium binary.")
	return ""
}

// needChineseFont fails the test when no font has Chinese glyphs: every
// screenshot would show boxes instead of the console's text.
func needChineseFont(t testing.TB) {
	t.Helper()
	out, err := exec.Command("fc-list", ":lang=zh", "family").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("no font with Chinese glyphs (fc-list :lang=zh: %v): the screenshots would show boxes. "+
			"Install one: `make chromium` runs DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-microhei", err)
	}
}

// browser is one headless Chromium for a test, with a fresh profile; each
// user signs in in their own browser context (their own cookies).
type browser struct {
	t     *testing.T
	root  context.Context
	shots []string // directories screenshots are written to
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	needChineseFont(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 768), // a hall's screen
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelRoot(); cancelAlloc() })
	// The first run on a context starts what it names (here the browser):
	// it must be the context itself, not a child with a deadline, or the
	// browser ends with the child.
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	b := &browser{t: t, root: root, shots: []string{filepath.Join(t.TempDir(), "screenshots")}}
	// ZWFW_SCREENSHOTS=1 keeps them in console/testdata/screenshots (git-ignored); a path puts them there.
	switch dir := os.Getenv("ZWFW_SCREENSHOTS"); dir {
	case "":
	case "1", "on", "true":
		b.shots = append(b.shots, filepath.Join("testdata", "screenshots"))
	default:
		b.shots = append(b.shots, dir)
	}
	for _, d := range b.shots {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// tab is one user's browser context.
type tab struct {
	b   *browser
	ctx context.Context
}

func (b *browser) user() *tab {
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab in its own browser context
		b.t.Fatalf("open a browser context: %v", err)
	}
	return &tab{b: b, ctx: ctx}
}

// bounded gives one browser step a deadline, so a stuck page fails the test.
func (tb *tab) bounded() (context.Context, context.CancelFunc) {
	return context.WithTimeout(tb.ctx, 30*time.Second)
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.b.t.Helper()
	ctx, cancel := tb.bounded()
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.b.t.Fatalf("browser: %v", err)
	}
}

// navigate opens url and returns the document's HTTP status (after redirects).
func (tb *tab) navigate(url string) int64 {
	tb.b.t.Helper()
	ctx, cancel := tb.bounded()
	defer cancel()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		tb.b.t.Fatalf("open %s: %v", url, err)
	}
	return resp.Status
}

// submit runs steps that post a form (a click, an Enter) and returns the
// status of the page it leads to.
func (tb *tab) submit(steps ...chromedp.Action[chromedp.Void]) *network.Response {
	tb.b.t.Helper()
	ctx, cancel := tb.bounded()
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		tb.b.t.Fatalf("submit: %v", err)
	}
	return resp
}

func (tb *tab) text(css string) string {
	tb.b.t.Helper()
	ctx, cancel := tb.bounded()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		tb.b.t.Fatalf("read %s: %v", css, err)
	}
	return s
}

func (tb *tab) html() string {
	tb.b.t.Helper()
	ctx, cancel := tb.bounded()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		tb.b.t.Fatalf("read the page: %v", err)
	}
	return s
}

func (tb *tab) location() string {
	tb.b.t.Helper()
	ctx, cancel := tb.bounded()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		tb.b.t.Fatal(err)
	}
	return s
}

// shot saves a full-page PNG screenshot as <name>.png in every screenshot
// directory; it must be a real 1366-pixel-wide image.
func (tb *tab) shot(name string) {
	tb.b.t.Helper()
	ctx, cancel := tb.bounded()
	defer cancel()
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.b.t.Fatalf("screenshot %s: %v", name, err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width != 1366 || cfg.Height < 400 {
		tb.b.t.Fatalf("screenshot %s is not a full 1366-wide page: %+v %v", name, cfg, err)
	}
	for _, d := range tb.b.shots {
		if err := os.WriteFile(filepath.Join(d, name+".png"), img, 0o644); err != nil {
			tb.b.t.Fatal(err)
		}
	}
	tb.b.t.Logf("screenshot %s.png in %s", name, strings.Join(tb.b.shots, " and "))
}

// login signs in through the console's login page (where the browser was
// sent) and returns the status of the page it lands on.
func (tb *tab) login(username, password string) int64 {
	tb.b.t.Helper()
	resp := tb.submit(
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.ID("login")),
	)
	return resp.Status
}
