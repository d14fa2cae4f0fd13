package courier

// State is zwfw's normalized parcel state, the same for every carrier.
type State string

// The normalized states. The mapping from Kuaidi100's states is in
// stateByCode and stateByName (and the package doc).
const (
	StateUnknown        State = ""                 // the aggregator said nothing usable
	StateCreated        State = "created"          // ordered, not collected yet (已下单, 待揽收)
	StatePickedUp       State = "picked_up"        // collected (揽收)
	StateInTransit      State = "in_transit"       // between hubs (在途, 转投, 清关)
	StateOutForDelivery State = "out_for_delivery" // with the delivering courier or at a locker (派件)
	StateDelivered      State = "delivered"        // signed for (签收)
	StateException      State = "exception"        // needs attention (疑难, 清关异常)
	StateReturned       State = "returned"         // refused or going/gone back to the sender (拒签, 退回, 退签)
)

// stateByCode maps Kuaidi100's state codes: the main states (state, and
// statusCode of main-state events) and the resultv2=4 sub-states.
var stateByCode = map[string]State{
	// main states
	"0": StateInTransit, "1": StatePickedUp, "2": StateException, "3": StateDelivered,
	"4": StateReturned, "5": StateOutForDelivery, "6": StateReturned, "7": StateInTransit,
	"8": StateInTransit, "10": StateInTransit, "11": StateInTransit, "12": StateInTransit,
	"13": StateException, "14": StateReturned,
	// 揽收 sub-states
	"101": StateCreated, "102": StateCreated, "103": StatePickedUp,
	// 在途 sub-states: 到达派件城市, 干线, 转递
	"1001": StateInTransit, "1002": StateInTransit, "1003": StateInTransit,
	// 疑难 sub-states: 超时未签收, 超时未更新, 拒收, 派件异常, 柜或驿站超时未取,
	// 无法联系, 超区, 滞留, 破损, 销单, ...
	"201": StateException, "202": StateException, "203": StateException, "204": StateException,
	"205": StateException, "206": StateException, "207": StateException, "208": StateException,
	"209": StateException, "210": StateException, "211": StateException,
	// 签收 sub-states: 本人签收, 派件异常后签收, 代签, 投柜或站签收
	"301": StateDelivered, "302": StateDelivered, "303": StateDelivered, "304": StateDelivered,
	// 退签 sub-state: 已销单
	"401": StateReturned,
	// 派件 sub-state: 投柜或驿站
	"501": StateOutForDelivery,
}

// stateByName maps the Chinese status names of data[].status.
var stateByName = map[string]State{
	"在途": StateInTransit, "揽收": StatePickedUp, "疑难": StateException, "签收": StateDelivered,
	"退签": StateReturned, "派件": StateOutForDelivery, "退回": StateReturned, "转投": StateInTransit,
	"清关": StateInTransit, "待清关": StateInTransit, "清关中": StateInTransit, "已清关": StateInTransit,
	"清关异常": StateException, "拒签": StateReturned,
	"已下单": StateCreated, "待揽收": StateCreated, "已揽收": StatePickedUp,
	"到达派件城市": StateInTransit, "干线": StateInTransit, "转递": StateInTransit,
	"投柜或驿站": StateOutForDelivery,
	"本人签收":  StateDelivered, "代签": StateDelivered, "派件异常后签收": StateDelivered, "投柜或站签收": StateDelivered,
	"超时未签收": StateException, "超时未更新": StateException, "拒收": StateException, "派件异常": StateException,
	"柜或驿站超时未取": StateException, "无法联系": StateException, "超区": StateException,
	"滞留": StateException, "破损": StateException, "销单": StateException, "已销单": StateReturned,
}

// stateFromCode normalizes a state or sub-state code. A sub-state not in
// the table falls back on its main state: three digits "XYY" belong to
// main state X, four digits "10YY" to 0 (在途) and "XXYY" to XX.
func stateFromCode(code string) State {
	if s, ok := stateByCode[code]; ok {
		return s
	}
	switch len(code) {
	case 3:
		return stateByCode[code[:1]]
	case 4:
		if code[:2] == "10" {
			return StateInTransit
		}
		return stateByCode[code[:2]]
	}
	return StateUnknown
}

// eventState normalizes one track entry: its statusCode, else its status
// name, else the status read as a code.
func eventState(statusCode, status string) State {
	if s := stateFromCode(statusCode); s != StateUnknown {
		return s
	}
	if s, ok := stateByName[status]; ok {
		return s
	}
	return stateFromCode(status)
}
