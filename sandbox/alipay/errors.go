package alipay

import (
	"fmt"
	"net/http"
	"strings"
)

// Error is an Alipay error as the gateway answers it: a public code with its
// message and a sub_code with a sub_msg. The Go methods (Open, Pay, ...)
// return it too, so that a test sees what the cashier would show.
type Error struct {
	Code    string `json:"code"`
	Msg     string `json:"msg"`
	SubCode string `json:"sub_code,omitempty"`
	SubMsg  string `json:"sub_msg,omitempty"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("alipay: %s %s: %s %s", e.Code, e.Msg, e.SubCode, e.SubMsg)
}

// Alipay's public codes.
const (
	CodeSuccess         = "10000"
	CodeUnavailable     = "20000"
	CodeMissingArgument = "40001"
	CodeInvalidArgument = "40002"
	CodeBusinessFailed  = "40004"
)

// Sub codes the fake answers with: Alipay's documented ones for trades,
// refunds, bills, signatures and app ids; the refusals of other malformed
// common parameters follow Alipay's isv.invalid-<parameter> naming.
const (
	SubTradeNotExist       = "ACQ.TRADE_NOT_EXIST"
	SubTradeHasSuccess     = "ACQ.TRADE_HAS_SUCCESS"
	SubTradeHasClose       = "ACQ.TRADE_HAS_CLOSE"
	SubTradeHasFinished    = "ACQ.TRADE_HAS_FINISHED"
	SubTradeStatusError    = "ACQ.TRADE_STATUS_ERROR"
	SubContextInconsistent = "ACQ.CONTEXT_INCONSISTENT"
	SubRefundAmtNotEqual   = "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"
	SubRefundFeeError      = "ACQ.REASON_TRADE_REFUND_FEE_ERR"
	SubDiscordantRepeat    = "ACQ.DISCORDANT_REPEAT_REQUEST"
	SubInvalidParameter    = "ACQ.INVALID_PARAMETER"
	SubBillNotExist        = "isp.bill_not_exist"
	SubInvalidSignature    = "isv.invalid-signature"
	SubMissingSignature    = "isv.missing-signature"
	SubInvalidAppID        = "isv.invalid-app-id"
	SubMissingAppID        = "isv.missing-app-id"
	SubMissingMethod       = "isv.missing-method"
	SubInvalidMethod       = "isv.invalid-method"
	SubInvalidSignType     = "isv.invalid-signature-type"
	SubInvalidCharset      = "isv.invalid-charset"
	SubInvalidFormat       = "isv.invalid-format"
	SubInvalidTimestamp    = "isv.invalid-timestamp"
	SubMissingTimestamp    = "isv.missing-timestamp"
	SubInvalidVersion      = "isv.invalid-version"
	SubInvalidEncrypt      = "isv.invalid-encrypt-type"
	SubInvalidParam        = "isv.invalid-parameter"
	SubMissingBizContent   = "isv.missing-biz-content"
	SubInvalidBizContent   = "isv.invalid-biz-content"
)

// Alipay's messages.
const (
	msgSuccess              = "Success"
	msgBusinessFailed       = "Business Failed"
	msgInvalidArguments     = "Invalid Arguments"
	msgMissingArguments     = "Missing Required Arguments"
	msgServiceUnavailable   = "Service Currently Unavailable"
	signatureMismatchPrefix = "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为："
)

// bizError is a 40004 business failure.
func bizError(sub, msg string) *Error {
	return &Error{Code: CodeBusinessFailed, Msg: msgBusinessFailed, SubCode: sub, SubMsg: msg}
}

// invalidArg is a 40002 refusal of the request itself.
func invalidArg(sub, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidArgument, Msg: msgInvalidArguments, SubCode: sub, SubMsg: fmt.Sprintf(format, args...)}
}

// missingArg is a 40001 refusal for a missing parameter.
func missingArg(sub, msg string) *Error {
	return &Error{Code: CodeMissingArgument, Msg: msgMissingArguments, SubCode: sub, SubMsg: msg}
}

// errTradeNotExist is the answer for a trade the gateway never saw.
func errTradeNotExist() *Error { return bizError(SubTradeNotExist, "交易不存在") }

// controlStatus is the HTTP status a control route answers an Error with.
func controlStatus(e *Error) int {
	switch {
	case e.SubCode == SubTradeNotExist:
		return http.StatusNotFound
	case strings.HasPrefix(e.SubCode, "isv.") || e.SubCode == SubInvalidParameter:
		return http.StatusBadRequest
	default:
		return http.StatusConflict
	}
}
