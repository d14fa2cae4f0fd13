package wxapi_test

import (
	"testing"
	"time"

	"zwfw/platform/testenv"
	"zwfw/wxapi"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The SDK's access token lives in Redis, shared by every replica.
func TestRedisCache(t *testing.T) {
	rdb, keys := testenv.Redis(t)
	c := wxapi.NewRedisCache(rdb, keys)
	if c.Get("token") != nil || c.IsExist("token") {
		t.Fatal("empty cache has a token")
	}
	if err := c.Set("token", "abc", time.Minute); err != nil {
		t.Fatal(err)
	}
	// Another replica (another cache on the same Redis) sees it.
	if got := wxapi.NewRedisCache(rdb, keys).Get("token"); got != "abc" {
		t.Fatalf("Get = %v", got)
	}
	if err := c.Set("ticket", map[string]int{"n": 1}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got := c.Get("ticket"); got != `{"n":1}` {
		t.Fatalf("non-string value = %v", got)
	}
	if err := c.Delete("token"); err != nil || c.IsExist("token") {
		t.Fatalf("Delete: %v", err)
	}
}
