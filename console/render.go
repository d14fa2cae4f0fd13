package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/apperr"
	"zwfw/platform/workdays"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// views are the parsed templates (one set per page: the layout and the
// page's "content") and the static files with their content version.
type views struct {
	pages   map[string]*template.Template
	static  map[string][]byte
	version string
}

// pageData is what every page template receives.
type pageData struct {
	Title   string
	Nav     []navLink
	Account *accountView // nil before login
	CSRF    string
	// Notice is a success line, Problem a failure line, shown above the page.
	Notice, Problem string
	Body            any
}

// accountView is the signed-in staff member in the page header.
type accountView struct {
	Name, Username, Roles string
	IdleMinutes           int
}

func loadViews() (*views, error) {
	v := &views{pages: map[string]*template.Template{}, static: map[string][]byte{}}
	sum := sha256.New()
	err := fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		v.static[path.Base(p)] = b
		sum.Write(b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.version = hex.EncodeToString(sum.Sum(nil))[:12]
	base, err := template.New("layout.html").Funcs(template.FuncMap{
		"static":   func(name string) string { return "/console/static/" + name + "?v=" + v.version },
		"clock":    func(t time.Time) string { return t.In(workdays.Location).Format("15:04") },
		"datetime": formatDateTime,
		"date":     func(t time.Time) string { return t.In(workdays.Location).Format("2006-01-02") },
		"yuan":     func(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) },
	}).ParseFS(templateFiles, "templates/layout.html", "templates/_*.html") // layout and shared parts
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		name := path.Base(n)
		if name == "layout.html" || strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFiles, n)
		if err != nil {
			return nil, err
		}
		v.pages[name] = t
	}
	return v, nil
}

func formatDateTime(t any) string {
	switch v := t.(type) {
	case time.Time:
		if v.IsZero() {
			return ""
		}
		return v.In(workdays.Location).Format("2006-01-02 15:04")
	case *time.Time:
		if v == nil {
			return ""
		}
		return v.In(workdays.Location).Format("2006-01-02 15:04")
	}
	return ""
}

// render writes a page with status. The page is executed into a buffer
// first, so a template failure becomes the error page, never half a page.
func (c *Console) render(ctx *fiber.Ctx, status int, name string, d *pageData) error {
	t := c.views.pages[name]
	if t == nil {
		return fmt.Errorf("console: no template %s", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", d); err != nil {
		return fmt.Errorf("console: render %s: %w", name, err)
	}
	ctx.Status(status)
	ctx.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return ctx.Send(buf.Bytes())
}

// serveStatic serves the embedded CSS and JavaScript; their URLs carry
// the content version, so browsers may keep them.
func (c *Console) serveStatic(ctx *fiber.Ctx) error {
	name := ctx.Params("name")
	b, ok := c.views.static[name]
	if !ok {
		return ErrPageNotFound
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if strings.HasPrefix(ctype, "text/") && !strings.Contains(ctype, "charset") {
		ctype += "; charset=utf-8"
	}
	ctx.Set(fiber.HeaderContentType, ctype)
	ctx.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	return ctx.Send(b)
}

// catch turns every error of a console route into a Chinese page with the
// status the error's kind maps to (the API's JSON envelope is no use to a
// browser); internal causes are logged with the request id, never shown.
func (c *Console) catch(ctx *fiber.Ctx) error { return c.showError(ctx, ctx.Next()) }

// showError renders err (nil: nothing to do) as the error page.
func (c *Console) showError(ctx *fiber.Ctx, err error) error {
	if err == nil {
		return nil
	}
	var fe *fiber.Error
	var e *apperr.Error
	switch {
	case errors.As(err, &e):
	case errors.As(err, &fe) && fe.Code == fiber.StatusNotFound:
		e = ErrPageNotFound
	case errors.As(err, &fe) && fe.Code == fiber.StatusMethodNotAllowed:
		e = apperr.MethodNotAllowed.WithMessage("该页面不支持此操作")
	case errors.As(err, &fe) && fe.Code < 500:
		e = apperr.InvalidInput.WithMessage("请求有误，请返回重试")
	default:
		e = apperr.Internal.WithCause(err)
	}
	status := e.Kind.HTTPStatus()
	if fe != nil && fe.Code == fiber.StatusMethodNotAllowed {
		status = fiber.StatusMethodNotAllowed
	}
	rid, _ := ctx.Locals("request_id").(string)
	if status >= 500 {
		c.opt.Logger.Error("console request failed", "request_id", rid, "code", e.Code, "path", ctx.Path(), "err", err)
	}
	d := &pageData{Title: errorTitle(status), Body: errorBody{Status: status, Code: e.Code, Message: e.Message, RequestID: rid}}
	if st := stateOf(ctx); st != nil {
		c.decorate(st, d)
	}
	if rerr := c.render(ctx, status, "error.html", d); rerr != nil {
		c.opt.Logger.Error("console error page failed", "request_id", rid, "err", rerr)
		ctx.Status(status)
		ctx.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return ctx.SendString(e.Message)
	}
	return nil
}

type errorBody struct {
	Status        int
	Code, Message string
	RequestID     string
}

func errorTitle(status int) string {
	switch status {
	case fiber.StatusForbidden:
		return "无权访问"
	case fiber.StatusNotFound:
		return "页面不存在"
	case fiber.StatusTooManyRequests:
		return "操作过于频繁"
	}
	if status >= 500 {
		return "系统繁忙"
	}
	return "无法完成操作"
}
