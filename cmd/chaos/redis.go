package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"zwfw/platform/childproc"
)

// redisServer is a real redis-server process on a loopback port that a
// scenario can kill (SIGKILL) and start again on the same port, empty.
type redisServer struct {
	bin, dir string
	port     int
	p        *childproc.Proc
}

// quietRedis drops go-redis's own log lines: the suite dials servers it
// has just killed on purpose, and reports what matters itself.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quietRedis{}) }

// lookRedis finds the machine's redis-server.
func lookRedis() (string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server not found on PATH (make chaos installs it with apt-get): %w", err)
	}
	return bin, nil
}

func startRedis(dir string) (*redisServer, error) {
	bin, err := lookRedis()
	if err != nil {
		return nil, err
	}
	r := &redisServer{bin: bin, dir: dir}
	for attempt := 0; ; attempt++ {
		if r.port, err = childproc.FreePort(); err != nil {
			return nil, err
		}
		if err = r.start(); err == nil {
			return r, nil
		}
		if attempt == 4 {
			return nil, err
		}
	}
}

func (r *redisServer) url() string  { return "redis://" + r.addr() + "/0" }
func (r *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// kill is a crash: SIGKILL; nothing is persisted, so it comes back empty.
func (r *redisServer) kill() { r.p.Kill9() }

// restart starts it again on the same port.
func (r *redisServer) restart() error { return r.start() }

func (r *redisServer) start() error {
	p, err := childproc.Start("redis-server", filepath.Join(r.dir, "redis.log"), r.bin, nil,
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.dir, "--daemonize", "no")
	if err != nil {
		return err
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			r.p = p
			return nil
		}
		if time.Now().After(deadline) || p.Exited() {
			p.Kill9()
			return fmt.Errorf("redis-server on port %d did not answer: %v\n%s", r.port, err, p.Tail(2000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
