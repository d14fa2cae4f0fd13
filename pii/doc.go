// Package pii protects personal data (个人信息): the resident ID numbers, mobile
// phone numbers, names, addresses and unified social credit codes that a
// government-services backend has to hold.
//
// It offers five tools, each usable on its own:
//
//   - Cipher encrypts a field at rest with SM4-GCM (GB/T 32907, GB/T 36624),
//     with a key id in every value so keys can be rotated.
//   - BlindIndex computes a keyed HMAC-SM3 digest of a value, so an encrypted
//     field can still be looked up by equality without storing it in clear.
//   - Mask* functions give the partially hidden forms shown in UIs and logs.
//   - Validate* functions check ID numbers (GB 11643-1999), unified social
//     credit codes (GB 32100-2015) and mainland mobile numbers, returning
//     sentinel errors whose messages are in Simplified Chinese.
//   - Phone, IDNumber and Name are string types that always print and log
//     masked, so a clear value cannot slip into a log line by accident.
//
// Keys come from the operator (hex in the configuration) or, for the embedded
// default, from LoadOrCreateKeyFile; no key ever lives in the repository.
package pii
