package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"zwfw/platform/childproc"
)

// The baseline of every read is a bare Fiber v2 JSON handler: the same
// framework and server zwfw uses, with nothing behind it. It runs as its
// own process (this binary with -serve-bare), as zwfw does, so both share
// the machine with the load generator on equal terms.

// serveBare serves GET and POST /hello on addr until killed, after printing
// "bare listening on ADDR".
func serveBare(addr string) error {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/hello", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"ok": true}) })
	app.Post("/hello", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"ok": len(c.Body()) > 0}) })
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("bare listening on %s\n", ln.Addr())
	return app.Listener(ln)
}

// bareServer is the running baseline.
type bareServer struct {
	p   *childproc.Proc
	url string // http://addr/hello
}

func startBare(ctx context.Context, dir string) (*bareServer, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	p, err := startProc("bare", filepath.Join(dir, "bare.log"), self, childproc.BaseEnv(), "-serve-bare", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	line, err := p.WaitLine(ctx, "bare listening on ", 20*time.Second)
	if err != nil {
		p.Stop(time.Second)
		return nil, err
	}
	return &bareServer{p: p, url: "http://" + strings.TrimSpace(line) + "/hello"}, nil
}
