package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"zwfw/platform/childproc"
)

// Staff account created with zwfw -create-staff before the first start.
const (
	adminUser     = "chaos01"
	adminPassword = "Chaos-pass-2026"
	database      = "zwfw"
)

// deployment is one zwfw as a city runs it, on loopback: the real binary
// with ZWFW_SANDBOX=off on its default embedded store (a data directory),
// a real redis-server, and every outside system at the standalone sandbox
// in its own process. Each scenario gets a fresh one.
type deployment struct {
	name     string // the scenario's, for progress lines
	dir, bin string
	sandbox  *childproc.Proc
	sbURL    string
	redis    *redisServer
	env      []string
	addr     string
	base     string // http://addr
	zwfw     *childproc.Proc
	starts   int
	storeURI string          // the embedded FerretDB of the running zwfw (from its banner)
	store    *mongo.Database // read-only use: the suite counts, never writes
	client   *mongo.Client
	http     *http.Client
}

// settings zwfw runs with, besides the sandbox's zwfw.env. Limits are
// raised so the suite's own volleys are not refused by the per-user and
// per-IP budgets (each simulated person has its own address behind the
// trusted proxy); the login budget stays small so the Redis scenario can
// show it holding. The safety-net polls and the cache freshness are short
// so recovery is seen within a scenario.
func zwfwSettings(addr, dataDir, redisURL, envFile string) []string {
	return []string{
		"ZWFW_CONFIG_FILE=" + envFile,
		"ZWFW_ADDR=" + addr,
		"ZWFW_PUBLIC_BASE_URL=http://" + addr,
		"ZWFW_DATA_DIR=" + dataDir,
		"REDIS_URL=" + redisURL,
		"ZWFW_HALL_MAIL_PHONE=13959100000",
		"ZWFW_LOG_LEVEL=warn",
		"ZWFW_TRUSTED_PROXIES=127.0.0.1",
		"ZWFW_RATE_PER_IP=100000",
		"ZWFW_RATE_PER_USER=100000",
		fmt.Sprintf("ZWFW_RATE_LOGIN_PER_IP=%d", loginLimit),
		"ZWFW_JOB_LEASE=3s",
		"ZWFW_CASE_POLL_EVERY=3s",
		"ZWFW_CASE_POLL_STALE_AFTER=5s",
		"ZWFW_SHIPMENT_POLL_EVERY=5s",
		"ZWFW_SHIPMENT_POLL_STALE_AFTER=10s",
		"ZWFW_PAY_QUERY_AFTER=3s",
		"ZWFW_PAY_QUERY_EVERY=3s",
		"PROVINCE_CACHE_FRESH=2s",
		"PROVINCE_BREAKER_OPEN_TIMEOUT=2s",
		"ZWFW_SHUTDOWN_TIMEOUT=10s",
	}
}

// loginLimit is ZWFW_RATE_LOGIN_PER_IP: logins a minute from one address.
const loginLimit = 8

func newDeployment(ctx context.Context, name, bin, dir string) (*deployment, error) {
	d := &deployment{name: name, dir: dir, bin: bin, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 128}}}
	ok := false
	defer func() {
		if !ok {
			d.close()
		}
	}()
	var err error
	sbDir := filepath.Join(dir, "sandbox")
	d.sandbox, err = childproc.Start("sandbox", filepath.Join(dir, "sandbox.log"), filepath.Join(bin, "sandbox"), childproc.BaseEnv(),
		"-addr", "127.0.0.1:0", "-out", sbDir, "-sms-flow-control=false")
	if err != nil {
		return nil, err
	}
	if d.sbURL, err = d.sandbox.WaitLine(ctx, "  URL     ", 30*time.Second); err != nil {
		return nil, err
	}
	d.sbURL = strings.Fields(d.sbURL)[0]
	envFile := filepath.Join(sbDir, "zwfw.env")
	if _, err := os.Stat(envFile); err != nil {
		return nil, fmt.Errorf("the sandbox wrote no zwfw.env: %w", err)
	}
	if d.redis, err = startRedis(dir); err != nil {
		return nil, err
	}
	port, err := childproc.FreePort()
	if err != nil {
		return nil, err
	}
	d.addr = fmt.Sprintf("127.0.0.1:%d", port)
	d.base = "http://" + d.addr
	d.env = append(childproc.BaseEnv(), zwfwSettings(d.addr, filepath.Join(dir, "data"), d.redis.url(), envFile)...)

	// The first admin of a production database, as an operator makes it.
	staff := exec.CommandContext(ctx, filepath.Join(bin, "zwfw"), "-create-staff", adminUser, "-staff-roles", "admin,staff")
	staff.Env = append(append([]string(nil), d.env...), "ZWFW_STAFF_PASSWORD="+adminPassword)
	if out, err := staff.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("zwfw -create-staff: %v\n%s", err, out)
	}
	if err := d.start(ctx); err != nil {
		return nil, err
	}
	// Where the province calls zwfw back, as a deployment registers it.
	if err := d.sb(ctx, "POST", "/sandbox/province/callback", map[string]string{"url": d.base + "/api/v1/callbacks/province"}, nil); err != nil {
		return nil, err
	}
	ok = true
	return d, nil
}

// start runs zwfw and waits until /readyz answers 200, then connects to its
// embedded store for counting.
func (d *deployment) start(ctx context.Context) error {
	d.starts++
	p, err := childproc.Start("zwfw", filepath.Join(d.dir, fmt.Sprintf("zwfw-%d.log", d.starts)), filepath.Join(d.bin, "zwfw"), d.env)
	if err != nil {
		return err
	}
	d.zwfw = p
	if err := d.waitReady(ctx, 90*time.Second); err != nil {
		return err
	}
	line, err := p.WaitLine(ctx, "  MongoDB      embedded FerretDB (SQLite) at ", 5*time.Second)
	if err != nil {
		return err
	}
	if !strings.Contains(p.Output(), "Mode         production") {
		return fmt.Errorf("zwfw is not in production mode:\n%s", p.Tail(3000))
	}
	d.storeURI = strings.Fields(line)[0]
	return d.connectStore(ctx)
}

func (d *deployment) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", d.base+"/readyz", nil)
		res, err := d.http.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		if d.zwfw.Exited() || time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("zwfw did not become ready (%v):\n%s", err, d.zwfw.Tail(4000))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (d *deployment) connectStore(ctx context.Context) error {
	d.disconnectStore()
	c, err := mongo.Connect(options.Client().ApplyURI(d.storeURI).SetTimeout(30 * time.Second))
	if err != nil {
		return fmt.Errorf("connect to zwfw's store: %w", err)
	}
	d.client, d.store = c, c.Database(database)
	return nil
}

func (d *deployment) disconnectStore() {
	if d.client != nil {
		_ = d.client.Disconnect(context.Background())
		d.client, d.store = nil, nil
	}
}

// crash kills zwfw with SIGKILL: no request finishes, no lease is given
// back, nothing buffered is written.
func (d *deployment) crash() {
	d.disconnectStore()
	d.zwfw.Kill9()
}

// stop shuts zwfw down in order (SIGTERM).
func (d *deployment) stop() {
	d.disconnectStore()
	d.zwfw.Stop(30 * time.Second)
}

func (d *deployment) close() {
	d.disconnectStore()
	if d.zwfw != nil {
		d.zwfw.Stop(30 * time.Second)
	}
	if d.sandbox != nil {
		d.sandbox.Stop(10 * time.Second)
	}
	if d.redis != nil && d.redis.p != nil {
		d.redis.kill()
	}
}

// logs are the tails of the processes' logs, for a failed scenario.
func (d *deployment) logs() string {
	var b strings.Builder
	for _, p := range []*childproc.Proc{d.zwfw, d.sandbox} {
		if p != nil {
			fmt.Fprintf(&b, "--- %s (%s), tail:\n%s\n", p.Name, p.Log, p.Tail(3000))
		}
	}
	return b.String()
}
