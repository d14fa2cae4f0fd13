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
			mongoClient, mongoErr = mongox.Connect(context.Background(), uri)
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
		mongoClient, mongoErr = mongox.Connect(context.Background(), embedded.URI)
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
// ("real" or "embedded"). ZWFW_TEST_REDIS=embedded forces miniredis.
func RedisURL(t testing.TB) (string, string) {
	t.Helper()
	redisOnce.Do(func() {
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
		ctx := context.Background()
		iter := c.Scan(ctx, 0, string(prefix)+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			_ = c.Del(ctx, keys...).Err()
		}
		_ = c.Close()
	})
	return c, prefix
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
