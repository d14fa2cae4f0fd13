// Package testenv gives tests real stores over real connections: one
// embedded FerretDB per test binary (a fresh database per test) and a real
// Redis when one answers (REDIS_URL or 127.0.0.1:6379), miniredis otherwise.
//
// Use it from TestMain so the embedded servers are stopped and their files removed:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"zwfw/platform/mongox"
	"zwfw/platform/redisx"
)

var (
	mongoOnce   sync.Once
	mongoErr    error
	embedded    *mongox.Embedded
	mongoClient *mongo.Client
	mongoDir    string

	redisOnce     sync.Once
	redisErr      error
	redisURL      string
	redisKind     string
	embeddedRedis *redisx.Embedded
)

// Main runs the tests and then stops whatever this package started. Each
// after function runs once the tests passed; a non-zero result fails the run.
func Main(m *testing.M, after ...func() int) {
	code := m.Run()
	for _, f := range after {
		if code == 0 {
			code = f()
		}
	}
	if mongoClient != nil {
		_ = mongoClient.Disconnect(context.Background())
	}
	embedded.Close()
	if mongoDir != "" {
		_ = os.RemoveAll(mongoDir)
	}
	if embeddedRedis != nil {
		embeddedRedis.Close()
	}
	os.Exit(code)
}

// MongoURI returns the URI of the test MongoDB: MONGODB_URI when set (to run the
// suite against real MongoDB), the shared embedded FerretDB otherwise.
func MongoURI(t testing.TB) string {
	t.Helper()
	mongoOnce.Do(func() {
		if uri := os.Getenv("ZWFW_TEST_MONGODB_URI"); uri != "" {
			mongoClient, mongoErr = connect(context.Background(), uri)
			if mongoErr == nil {
				embedded = nil
			}
			return
		}
		mongoDir, mongoErr = os.MkdirTemp("", "zwfw-ferretdb-")
		if mongoErr != nil {
			return
		}
		embedded, mongoErr = mongox.StartEmbedded(mongoDir, "127.0.0.1:0", nil)
		if mongoErr != nil {
			return
		}
		mongoClient, mongoErr = connect(context.Background(), embedded.URI)
	})
	if mongoErr != nil {
		t.Fatalf("test mongodb: %v", mongoErr)
	}
	if embedded != nil {
		return embedded.URI
	}
	return os.Getenv("ZWFW_TEST_MONGODB_URI")
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9_]+`)

// DB returns a fresh, empty database for this test, dropped when it ends.
func DB(t testing.TB) *mongo.Database {
	t.Helper()
	MongoURI(t)
	name := unsafeName.ReplaceAllString(t.Name(), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	name = "t_" + strings.ToLower(name) + "_" + randHex(4)
	db := mongoClient.Database(name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
	})
	return db
}

// Client returns the shared test MongoDB client.
func Client(t testing.TB) *mongo.Client {
	t.Helper()
	MongoURI(t)
	return mongoClient
}

// RedisURL returns the URL of the Redis the tests use and what it is
// ("real", "cluster" or "embedded"). ZWFW_TEST_REDIS=embedded forces
// miniredis; ZWFW_TEST_REDIS=cluster requires REDIS_URL to reach a healthy
// Redis Cluster (make test-redis-cluster) and fails instead of falling back.
func RedisURL(t testing.TB) (string, string) {
	t.Helper()
	redisOnce.Do(func() {
		if os.Getenv("ZWFW_TEST_REDIS") == "cluster" {
			redisURL, redisKind = os.Getenv("REDIS_URL"), "cluster"
			redisErr = checkCluster(redisURL)
			return
		}
		if os.Getenv("ZWFW_TEST_REDIS") != "embedded" {
			candidates := []string{os.Getenv("REDIS_URL"), "redis://127.0.0.1:6379/0"}
			for _, u := range candidates {
				if u == "" {
					continue
				}
				c, err := redisx.Open(u)
				if err != nil {
					continue
				}
				err = redisx.Ping(context.Background(), c)
				_ = c.Close()
				if err == nil {
					redisURL, redisKind = u, "real"
					return
				}
			}
		}
		embeddedRedis, redisErr = redisx.StartEmbedded()
		if redisErr == nil {
			redisURL, redisKind = embeddedRedis.URL, "embedded"
		}
	})
	if redisErr != nil {
		t.Fatalf("test redis: %v", redisErr)
	}
	return redisURL, redisKind
}

// Redis returns a client and a key prefix unique to this test. Keys under the
// prefix are deleted when the test ends; nothing else is touched, so tests may
// share a real Redis with each other and with a running zwfw.
func Redis(t testing.TB) (redis.UniversalClient, redisx.Keys) {
	t.Helper()
	url, _ := RedisURL(t)
	c, err := redisx.Open(url)
	if err != nil {
		t.Fatalf("test redis: %v", err)
	}
	prefix := redisx.Keys(fmt.Sprintf("zwfwtest:%s:", randHex(6)))
	t.Cleanup(func() {
		_, _ = DeleteKeys(context.Background(), c, string(prefix)+"*")
		_ = c.Close()
	})
	return c, prefix
}

// DeleteKeys deletes every key matching pattern and says how many it
// deleted: on each master of a cluster (each holds its own slots' keys),
// one DEL per key (keys in different slots cannot share a command).
func DeleteKeys(ctx context.Context, c redis.UniversalClient, pattern string) (int, error) {
	if cc, ok := c.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		total := 0
		err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			k, err := deleteKeysOnNode(ctx, n, pattern)
			mu.Lock()
			total += k
			mu.Unlock()
			return err
		})
		return total, err
	}
	return deleteKeysOnNode(ctx, c, pattern)
}

func deleteKeysOnNode(ctx context.Context, c redis.UniversalClient, pattern string) (int, error) {
	iter := c.Scan(ctx, 0, pattern, 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil || len(keys) == 0 {
		return 0, err
	}
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, k)
		}
		return nil
	})
	return len(keys), err
}

// checkCluster makes sure url reaches a Redis Cluster in good health.
func checkCluster(url string) error {
	if url == "" {
		return fmt.Errorf("ZWFW_TEST_REDIS=cluster needs REDIS_URL (run make test-redis-cluster)")
	}
	c, err := redisx.Open(url)
	if err != nil {
		return err
	}
	defer c.Close()
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		return fmt.Errorf("REDIS_URL %s is not a cluster URL (several hosts)", url)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info, err := cc.ClusterInfo(ctx).Result()
	if err != nil {
		return fmt.Errorf("redis cluster at %s: %w", url, err)
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return fmt.Errorf("redis cluster at %s is not healthy:\n%s", url, info)
	}
	return nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
