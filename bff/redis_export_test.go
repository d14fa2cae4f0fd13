package bff

import "github.com/redis/go-redis/v9"

// RedisClient is the app's Redis client, for tests that watch its traffic.
func (a *App) RedisClient() redis.UniversalClient { return a.rdb }
