package jobs

import (
	"math/rand/v2"
	"time"
)

// ExponentialBackoff returns a backoff with full jitter: the delay before
// attempt n+1 is uniform in [0, min(max, base*2^(n-1))]. Full jitter spreads
// retries of jobs that failed together (an outside system came back) so they
// do not hit it in a wave.
func ExponentialBackoff(base, max time.Duration) func(attempts int) time.Duration {
	if base <= 0 {
		base = time.Second
	}
	if max < base {
		max = base
	}
	return func(attempts int) time.Duration {
		if attempts < 1 {
			attempts = 1
		}
		ceiling := base
		for i := 1; i < attempts && ceiling < max; i++ {
			ceiling *= 2
		}
		if ceiling > max {
			ceiling = max
		}
		return time.Duration(rand.Int64N(int64(ceiling) + 1))
	}
}
