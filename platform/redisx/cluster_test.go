package redisx_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"zwfw/platform/redisx"
	"zwfw/platform/testenv"
)

// A REDIS_URL with several hosts reaches a real Redis Cluster through a
// cluster client: keys land on every master, and the breaker guards it too.
func TestSeveralHostsReachARedisCluster(t *testing.T) {
	cluster, err := testenv.StartRedisCluster(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Stop()
	c, err := redisx.Open(cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("%s opened a %T, want a cluster client", cluster.URL(), c)
	}
	ctx := context.Background()
	for i := 0; i < 300; i++ {
		if err := c.Set(ctx, fmt.Sprintf("k%d", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	holding := 0
	err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		if n.DBSize(ctx).Val() > 0 {
			holding++
		}
		return nil
	})
	if err != nil || holding != 3 {
		t.Fatalf("keys on %d of 3 masters (%v)", holding, err)
	}
	if err := redisx.Ping(ctx, c); err != nil {
		t.Fatal(err)
	}
}
