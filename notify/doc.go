// Package notify sends reminders to citizens and businesses through their
// channels (WeChat subscribe messages, SMS, app push).
//
// Today it holds the SMS channel: AliyunSMS, a client of Aliyun's Dysmsapi
// SendSms RPC API (also spoken by the sandbox's SMS gateway), which zwfw uses
// for login codes. It is meant to grow into the reminder engine: what is due
// when, user consent, and dispatch over each channel, driven by domain events.
package notify
