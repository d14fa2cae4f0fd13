package courier

import (
	"net/http"

	"zwfw/sandbox/fake"
)

// Kuaidi100 return codes. Every answer is HTTP 200; result=false and the
// returnCode say what went wrong. Codes marked (sandbox) are this fake's
// own: Kuaidi100 does not publish a code for that case.
const (
	CodeOK = "200"
	// CodeBadParam: missing or malformed parameters, unknown carrier
	// (query: "找不到对应公司"; order: parameter errors).
	CodeBadParam = "400"
	// CodePhoneCheck: query of a carrier that needs the phone (顺丰) without
	// a matching one.
	CodePhoneCheck = "408"
	// CodeNoResult: query of a waybill without tracking information.
	CodeNoResult = "500"
	// CodeServerError (query) and CodeDuplicate (subscribe) share 501, as
	// on Kuaidi100.
	CodeServerError = "501"
	CodeDuplicate   = "501"
	// CodeBadSign: the signature (or the customer it covers) is wrong.
	CodeBadSign = "503"
	// CodeBadKey: the authorization key is unknown (subscribe: "您不是合法的订阅者").
	CodeBadKey = "600"
	// CodeSubscribeBad: the subscription is malformed (bad carrier,
	// number, callback URL, missing phone for 顺丰).
	CodeSubscribeBad = "700"
	// CodeTimestamp (sandbox): t is missing or off the fake's clock by more than MaxSkew.
	CodeTimestamp = "30001"
	// CodeOrderNotFound (sandbox): no pickup order with that taskId and orderId.
	CodeOrderNotFound = "30002"
	// CodeAlreadyPickedUp (sandbox): the courier has collected the parcel;
	// the order can no longer be cancelled.
	CodeAlreadyPickedUp = "30003"
	// CodeAlreadyCancelled (sandbox): the order was cancelled before.
	CodeAlreadyCancelled = "30004"
	// CodeUnknownMethod (sandbox): borderapi.do with a method this fake does not serve.
	CodeUnknownMethod = "30005"
)

// apiError is an answer with result=false.
type apiError struct {
	code string
	msg  string
}

func fail(code, msg string) *apiError { return &apiError{code: code, msg: msg} }

// reply is Kuaidi100's envelope for orders and subscriptions.
type reply struct {
	Result     bool   `json:"result"`
	ReturnCode string `json:"returnCode"`
	Message    string `json:"message"`
	Data       any    `json:"data,omitempty"`
}

// writeOK answers success with msg and data.
func writeOK(w http.ResponseWriter, msg string, data any) {
	fake.WriteJSON(w, http.StatusOK, reply{Result: true, ReturnCode: CodeOK, Message: msg, Data: data})
}

// writeFail answers a failure, HTTP 200 as Kuaidi100 does.
func writeFail(w http.ResponseWriter, e *apiError) {
	fake.WriteJSON(w, http.StatusOK, reply{Result: false, ReturnCode: e.code, Message: e.msg})
}

// unknownAPI answers anything else below BasePath.
func (s *Server) unknownAPI(w http.ResponseWriter, r *http.Request) {
	fake.WriteJSON(w, http.StatusNotFound, reply{Result: false, ReturnCode: "404", Message: "接口不存在: " + r.Method + " " + r.URL.Path})
}
