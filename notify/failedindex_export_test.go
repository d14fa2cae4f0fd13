package notify

import "testing"

// SetFailedBucketSize makes the failed index's buckets roll after n
// entries for one test, so a few messages span many buckets.
func SetFailedBucketSize(t testing.TB, n int) {
	old := failedBucketSize
	failedBucketSize = n
	t.Cleanup(func() { failedBucketSize = old })
}
