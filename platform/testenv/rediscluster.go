package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisCluster is a Redis Cluster of redis-server processes on loopback
// ports, each master owning an even share of the 16384 slots, no replicas.
type RedisCluster struct {
	Ports []int
	dir   string
	procs []*exec.Cmd
}

// StartRedisCluster starts masters redis-server processes in cluster mode
// under dir (one sub-directory each), assigns the slots, joins them and
// waits until every node reports cluster_state:ok.
func StartRedisCluster(dir string, masters int) (*RedisCluster, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found: %w", err)
	}
	c := &RedisCluster{dir: dir}
	for i := 0; i < masters; i++ {
		port, err := pickPort()
		if err != nil {
			c.Stop()
			return nil, err
		}
		nodeDir := filepath.Join(dir, strconv.Itoa(port))
		if err := os.MkdirAll(nodeDir, 0o700); err != nil {
			c.Stop()
			return nil, err
		}
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
			"--save", "", "--appendonly", "no", "--dir", nodeDir, "--logfile", "redis.log", "--daemonize", "no")
		if err := cmd.Start(); err != nil {
			c.Stop()
			return nil, err
		}
		c.Ports = append(c.Ports, port)
		c.procs = append(c.procs, cmd)
	}
	if err := c.form(masters); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// form assigns slot ranges, introduces the nodes to each other and waits for a healthy cluster.
func (c *RedisCluster) form(masters int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	clients := make([]*redis.Client, len(c.Ports))
	for i, p := range c.Ports {
		clients[i] = redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(p))})
		defer clients[i].Close()
		if err := waitPing(ctx, clients[i]); err != nil {
			return fmt.Errorf("redis node %d: %w", p, err)
		}
	}
	const slots = 16384
	for i, cl := range clients {
		from, to := i*slots/masters, (i+1)*slots/masters-1
		if err := cl.ClusterAddSlotsRange(ctx, from, to).Err(); err != nil {
			return fmt.Errorf("assign slots %d-%d: %w", from, to, err)
		}
		if i > 0 {
			if err := cl.ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(c.Ports[0])).Err(); err != nil {
				return fmt.Errorf("cluster meet: %w", err)
			}
		}
	}
	for _, cl := range clients {
		for {
			info, err := cl.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(masters)) {
				break
			}
			if ctx.Err() != nil {
				return fmt.Errorf("cluster did not form: %v %s", err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// URL is the REDIS_URL that reaches the cluster (several hosts = cluster).
func (c *RedisCluster) URL() string {
	hosts := make([]string, len(c.Ports))
	for i, p := range c.Ports {
		hosts[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	return "redis://" + strings.Join(hosts, ",")
}

// Stop kills the nodes.
func (c *RedisCluster) Stop() {
	for _, p := range c.procs {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	c.procs = nil
}

func waitPing(ctx context.Context, c *redis.Client) error {
	for {
		err := c.Ping(ctx).Err()
		if err == nil || ctx.Err() != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pickPort asks the kernel for a free loopback port whose cluster bus port
// (port+10000) is free too.
func pickPort() (int, error) {
	for attempt := 0; attempt < 50; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if port+10000 > 65535 {
			continue
		}
		bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
		if err != nil {
			continue
		}
		bus.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port pair for a cluster node")
}
