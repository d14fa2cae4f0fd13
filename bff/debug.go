package bff

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"
)

// The debug listener serves Go's runtime profiles (net/http/pprof) on its
// own address, never on the API's: profiles show code paths and heap
// contents, so only operators reach it (loopback, or an admin network).
// Off unless ZWFW_DEBUG_ADDR is set.

// debugAddr is the ZWFW_DEBUG_ADDR setting: a bare port ("6060" or
// ":6060") listens on loopback; a host given in full is taken as it is.
func debugAddr(name, meaning string, field func(*Config) *string) setting {
	return setting{name: name, meaning: meaning,
		read: func(c *Config, v string) error {
			addr, err := normalizeDebugAddr(v)
			*field(c) = addr
			return err
		},
		value: func(c Config) string { return *field(&c) }}
}

func normalizeDebugAddr(v string) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", nil
	}
	if _, err := strconv.ParseUint(v, 10, 16); err == nil {
		v = ":" + v
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", fmt.Errorf("want host:port or a port, like 127.0.0.1:6060")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return "", fmt.Errorf("want a port number, got %q", port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// debugServer is the running pprof listener.
type debugServer struct {
	srv *http.Server
	ln  net.Listener
}

// startDebug starts the pprof listener when cfg.DebugAddr is set.
func startDebug(addr string) (*debugServer, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ZWFW_DEBUG_ADDR: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	// No write timeout: a CPU profile or trace streams for as long as asked.
	d := &debugServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = d.srv.Serve(ln) }() // returns ErrServerClosed at shutdown
	return d, nil
}

func (d *debugServer) addr() string { return d.ln.Addr().String() }

// close stops it at once: a profile in flight is cut short (profiles are
// for people, not state, and must not hold up a shutdown).
func (d *debugServer) close(context.Context) error { return d.srv.Close() }

// DebugAddr is where the pprof listener listens, or "" when it is off.
func (a *App) DebugAddr() string {
	if a.debug == nil {
		return ""
	}
	return a.debug.addr()
}
