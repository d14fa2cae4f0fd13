// Package courier is zwfw's client of a courier aggregator in Kuaidi100's
// style (快递100): one API books pickups (上门取件) and follows waybills of
// every carrier (EMS, 顺丰, 京东 ...). The logistics domain declares the
// small interface it needs over *Client; sandbox/courier is the fake it is
// tested against.
//
// # Wire format
//
// Every call is a form POST answered with JSON; failures are HTTP 200 with
// {"result":false,"returnCode":"...","message":"..."}. Signatures are MD5
// over plain concatenations, 32 upper-case hex characters:
//
//	pickup and cancel  POST /order/borderapi.do  method, key, t (ms), param,
//	                   sign = upper(md5(param + t + key + secret))
//	real-time query    POST /poll/query.do       customer, param {com, num, phone, resultv2, show, order},
//	                   sign = upper(md5(param + key + customer))
//	subscribe          POST /poll                schema=json, param {company, number, key,
//	                   parameters {callbackurl, salt, resultv2, phone}}
//	push (to zwfw)     form param {status, message, lastResult {...}},
//	                   sign = upper(md5(param + salt))
//
// A pickup is booked with op=1, so the aggregator subscribes its waybill's
// tracking to PickupRequest.CallbackURL at once; IdempotencyKey travels as
// thirdOrderId, which Kuaidi100 answers with the first order for 48 hours.
// The client asks for resultv2=4: every track entry then carries its
// status name and sub-state code, and gets its own normalized state.
//
// # States
//
// Kuaidi100 codes (state, data[].statusCode) and names (data[].status) map
// to State as follows; a sub-state code not listed falls back on its main
// state (three digits "XYY" → X, "10YY" → 0, "XXYY" → XX).
//
//	0 在途, 1001 到达派件城市, 1002 干线, 1003 转递       in_transit
//	7 转投, 8 清关, 10 待清关, 11 清关中, 12 已清关     in_transit
//	1 揽收, 103 已揽收                                 picked_up
//	101 已下单, 102 待揽收                             created
//	5 派件, 501 投柜或驿站                             out_for_delivery
//	3 签收, 301 本人签收, 302 派件异常后签收,          delivered
//	  303 代签, 304 投柜或站签收
//	2 疑难, 201-211 (超时未签收, 拒收, 无法联系, 滞留,  exception
//	  破损 ...), 13 清关异常
//	14 拒签, 6 退回, 4 退签, 401 已销单                returned
//
// 拒签 counts as returned, not exception: a refused parcel goes back to
// the sender, and what zwfw does next (ship again, tell the applicant) is
// the same as for a return. Tracking.Checked (ischeck) marks the end of a
// journey: signed for by the receiver (delivered) or, after a return, by
// the sender (returned).
//
// Times are China time on the wire and UTC in Tracking; events are oldest
// first.
//
// # What the client does not do
//
// It does not retry: pickups, cancels and subscriptions run as durable jobs
// that retry with the same idempotency key, and the aggregator treats a
// repeated subscription (501) or cancel as success. It keeps no state and
// writes no logs; the caller masks personal data in its own.
//
// Errors are *apperr.Error values declared in errors.go.
package courier
