package nontax

import (
	"testing"
)

// BenchmarkNoticeLookup measures a Notice look-up round trip against the
// sandbox over real HTTP (loopback): signing, the platform's signature
// check, the signed answer, its verification and decoding.
func BenchmarkNoticeLookup(b *testing.B) {
	e := newEnv(b, nil)
	code := e.fake.Notices(zhangSan.IDNumber, "")[0].PaymentCode
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.c.Notice(ctx, code); err != nil {
			b.Fatal(err)
		}
	}
}
