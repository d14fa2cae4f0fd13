package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/childproc"
)

// zwfwProc is the real zwfw binary on its embedded default (FerretDB, the
// sandbox in-process, demo data), with REDIS_URL set when the mode asks
// for a real Redis. The data directory outlives a restart, so the second
// mode runs on the data the first one seeded.
type zwfwProc struct {
	mode     string // "embedded" or "redis"
	bin, dir string // binary; results directory (logs)
	dataDir  string
	addr     string
	base     string // http://addr
	debug    string // the pprof listener
	sandbox  string // the in-process sandbox's URL
	storeURI string // the embedded FerretDB
	p        *childproc.Proc
	client   *mongo.Client
	db       *mongo.Database
	accounts map[string]string // demo staff: username -> password
}

// settings zwfw runs with besides its defaults. The per-IP, per-user and
// login budgets are raised so the harness's own traffic from one address
// is never refused: the limiter's cost is measured, not its refusals. The
// access log stays at its default (every request), as a deployment runs it
// unless told otherwise; extra adds or overrides settings (-env).
func (z *zwfwProc) env(redisURL string, extra []string) []string {
	env := append(childproc.BaseEnv(),
		"ZWFW_ADDR="+z.addr,
		"ZWFW_SANDBOX_ADDR="+mustFreeAddr(),
		"ZWFW_DATA_DIR="+z.dataDir,
		"ZWFW_DEBUG_ADDR="+z.debug,
		"ZWFW_RATE_PER_IP=100000000",
		"ZWFW_RATE_PER_USER=100000000",
		"ZWFW_RATE_LOGIN_PER_IP=100000000",
		"ZWFW_SANDBOX_COURIER_STEP=0",
	)
	if redisURL != "" {
		env = append(env, "REDIS_URL="+redisURL)
	}
	return append(env, extra...)
}

func mustFreeAddr() string {
	a, err := freeAddr()
	if err != nil {
		panic(err)
	}
	return a
}

// startZwfw starts zwfw in mode and waits until it is ready.
func startZwfw(ctx context.Context, mode, bin, dir, dataDir, redisURL string, extra []string) (*zwfwProc, error) {
	z := &zwfwProc{mode: mode, bin: bin, dir: dir, dataDir: dataDir}
	var err error
	if z.addr, err = freeAddr(); err != nil {
		return nil, err
	}
	if z.debug, err = freeAddr(); err != nil {
		return nil, err
	}
	z.base = "http://" + z.addr
	z.p, err = startProc("zwfw", filepath.Join(dir, "zwfw-"+mode+".log"), bin, z.env(redisURL, extra))
	if err != nil {
		return nil, err
	}
	if err := z.waitReady(ctx, 3*time.Minute); err != nil {
		z.stop()
		return nil, err
	}
	line, err := z.p.WaitLine(ctx, "  MongoDB      embedded FerretDB (SQLite) at ", 10*time.Second)
	if err != nil {
		z.stop()
		return nil, err
	}
	z.storeURI = strings.TrimSuffix(strings.Fields(line)[0], ",")
	if line, err = z.p.WaitLine(ctx, "  Sandbox      ", 5*time.Second); err != nil {
		z.stop()
		return nil, err
	}
	z.sandbox = strings.Fields(line)[0]
	if z.client, err = mongo.Connect(options.Client().ApplyURI(z.storeURI).SetTimeout(5 * time.Minute)); err != nil {
		z.stop()
		return nil, fmt.Errorf("connect to zwfw's store: %w", err)
	}
	z.db = z.client.Database("zwfw")
	if z.accounts, err = readDemoAccounts(filepath.Join(dataDir, "demo-accounts.txt")); err != nil {
		z.stop()
		return nil, err
	}
	return z, nil
}

func (z *zwfwProc) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	c := &http.Client{Timeout: 5 * time.Second}
	for {
		res, err := c.Get(z.base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		if z.p.Exited() || time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("zwfw (%s) did not become ready (%v):\n%s", z.mode, err, z.p.Tail(4000))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (z *zwfwProc) stop() {
	if z.client != nil {
		_ = z.client.Disconnect(context.Background())
		z.client = nil
	}
	z.p.Stop(60 * time.Second)
}

// readDemoAccounts reads the demo staff passwords zwfw wrote at its first start.
func readDemoAccounts(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("demo staff accounts: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") {
			continue
		}
		if f := strings.Fields(l); len(f) >= 2 {
			out[f[0]] = f[1]
		}
	}
	return out, sc.Err()
}

// redisServer is a real redis-server on a free loopback port, started for
// the run and killed after it.
type redisServer struct {
	port int
	p    *childproc.Proc
}

func startRedis(dir string) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not on PATH (apt-get install redis-server, or -modes embedded): %w", err)
	}
	for attempt := 0; ; attempt++ {
		port, err := childproc.FreePort()
		if err != nil {
			return nil, err
		}
		p, err := startProc("redis-server", filepath.Join(dir, "redis.log"), bin, nil,
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no")
		if err != nil {
			return nil, err
		}
		r := &redisServer{port: port, p: p}
		if err = r.ping(); err == nil {
			return r, nil
		}
		p.Stop(5 * time.Second)
		if attempt == 4 {
			return nil, err
		}
	}
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// pingRedis says whether a Redis answers at addr.
func pingRedis(addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

func (r *redisServer) ping() error {
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || r.p.Exited() {
			return fmt.Errorf("redis-server on port %d did not answer: %v\n%s", r.port, err, r.p.Tail(2000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
