package gwserver

// Gateway error codes (HTTP 401, and 404 for an unknown API).
const (
	CodeAppKeyUnknown    = "GW_APP_KEY_UNKNOWN"
	CodeSignatureMissing = "GW_SIGNATURE_MISSING"
	CodeSignatureInvalid = "GW_SIGNATURE_INVALID"
	CodeTimestampSkew    = "GW_TIMESTAMP_SKEW"
	CodeNonceReplayed    = "GW_NONCE_REPLAYED"
	CodeAPINotFound      = "GW_API_NOT_FOUND"
)

// Envelope codes the shared mechanics answer with.
const (
	CodeOK                     = "0"
	CodeParamInvalid           = "PARAM_INVALID"            // 400
	CodeIdempotencyKeyRequired = "IDEMPOTENCY_KEY_REQUIRED" // 400
	CodeIdempotencyKeyConflict = "IDEMPOTENCY_KEY_CONFLICT" // 409
	CodeBodyTooLarge           = "BODY_TOO_LARGE"           // 413
	CodeRateLimited            = "RATE_LIMITED"             // 429 (injected)
	CodeInternalError          = "INTERNAL_ERROR"           // 500 (injected)
	CodeBadGateway             = "BAD_GATEWAY"              // 502 (injected)
	CodeServiceUnavailable     = "SERVICE_UNAVAILABLE"      // 503 (injected)
	CodeGatewayTimeout         = "GATEWAY_TIMEOUT"          // 504 (injected)
	CodeUpstreamError          = "UPSTREAM_ERROR"           // other injected 5xx
	CodeSandboxInjectedFailure = "SANDBOX_INJECTED_FAILURE" // other injected 4xx
)

// MessageOK is the message of code "0".
const MessageOK = "成功"
