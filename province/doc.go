// Package province is zwfw's client of the provincial integrated
// government-service platform (省一体化政务服务平台): the service catalog
// (事项目录), unified identity (统一身份认证), e-licences (电子证照) and
// cases (办件).
//
// The wire contract is docs/province-gateway.md. On top of it the client adds
// what an outside system needs in production:
//
//   - every request signed (HMAC-SM3 by default, HMAC-SHA256 optionally) and
//     every response's signature verified, so a spoofing proxy is refused;
//   - per endpoint group (catalog, identity, licenses, cases) its own timeout
//     and circuit breaker, so a slow licence service does not take the
//     catalog down with it;
//   - retries with exponential backoff and jitter for idempotent reads (GET)
//     only, and singleflight coalescing of identical concurrent GETs; writes
//     are never retried here: they run in the durable job queue with an
//     Idempotency-Key the caller passes;
//   - a stale-while-revalidate catalog cache in Redis (disposable: when Redis
//     is down calls go straight to the province); personal-data calls are
//     never cached;
//   - an exchange log in MongoDB (province_exchanges) of every call, written
//     asynchronously, with route templates instead of paths and no personal
//     data;
//   - verification of signed callbacks the province POSTs to zwfw.
//
// Errors are *apperr.Error values declared in errors.go.
package province
