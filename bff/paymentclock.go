package bff

import "time"

// paymentClock is the clock zwfw's payment clients read to tell whether a
// day's bill should exist (and the non-tax client signs its requests
// with): the embedded sandbox's payment clock, which its clock control
// moves forward (POST /sandbox/clock), else the configured SandboxClock
// (nil: the wall clock).
func (a *App) paymentClock() func() time.Time {
	if a.sandbox != nil {
		return a.sandbox.PaymentClock().Now
	}
	return a.cfg.SandboxClock
}
