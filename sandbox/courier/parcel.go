package courier

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Kuaidi100 main states (lastResult.state, query state).
const (
	StateInTransit  = "0"  // 在途
	StatePickedUp   = "1"  // 揽收
	StateTrouble    = "2"  // 疑难
	StateSigned     = "3"  // 签收
	StateReturnSign = "4"  // 退签: the sender signed for the returned parcel
	StateDelivering = "5"  // 派件
	StateReturning  = "6"  // 退回: on its way back to the sender
	StateForwarded  = "7"  // 转投
	StateCustoms    = "8"  // 清关
	StateRefused    = "14" // 拒签
)

// StateNames are the Chinese names of the main states, as data[].status
// carries them when resultv2 is set.
var StateNames = map[string]string{
	StateInTransit: "在途", StatePickedUp: "揽收", StateTrouble: "疑难", StateSigned: "签收",
	StateReturnSign: "退签", StateDelivering: "派件", StateReturning: "退回", StateForwarded: "转投",
	StateCustoms: "清关", StateRefused: "拒签",
}

// Scenarios: how a parcel's journey ends.
const (
	ScenarioNormal    = "normal"    // collected, carried, delivered, signed for
	ScenarioException = "exception" // a failed delivery (疑难) before it is signed for
	ScenarioReturned  = "returned"  // refused (拒签), returned (退回), signed by the sender (退签)
)

func validScenario(s string) bool {
	return s == ScenarioNormal || s == ScenarioException || s == ScenarioReturned
}

// parcel is one waybill and its journey.
type parcel struct {
	com, num      string
	carrier       carrier
	from, to      place
	senderPhone   string
	receiverPhone string
	scenario      string
	orderID       string // "" when created through the control
	cancelled     bool
	createdAt     time.Time
	lastAt        time.Time // time of the last step (createdAt before the first)
	events        []event   // oldest first
	// who collects and who delivers, drawn once so that the plan is stable
	courier, courierPhone string
}

// event is one track entry.
type event struct {
	at   time.Time
	step stepSpec
}

// stepSpec is one planned step of a journey.
type stepSpec struct {
	state   string // main state
	code    string // sub-state (resultv2=4 statusCode)
	context string
	area    place
}

// final reports whether the parcel's journey has ended.
func (p *parcel) final() bool {
	if len(p.events) == 0 {
		return false
	}
	st := p.events[len(p.events)-1].step.state
	return st == StateSigned || st == StateReturnSign
}

// state is the current main state, "" before the first event.
func (p *parcel) state() string {
	if len(p.events) == 0 {
		return ""
	}
	return p.events[len(p.events)-1].step.state
}

// plan is the whole journey for the parcel's scenario; the steps done are
// plan[:len(events)]. It depends only on fields fixed at creation and the
// scenario, so it is the same every time it is computed.
func (p *parcel) plan() []stepSpec {
	return planFor(p.carrier, p.from, p.to, p.courier, p.courierPhone, p.scenario)
}

func planFor(c carrier, from, to place, courier, courierPhone, scenario string) []stepSpec {
	fromCity, toCity := from.cityName(), to.cityName()
	toTransit := short(toCity) + "转运中心"
	steps := []stepSpec{
		{StatePickedUp, "103", fmt.Sprintf("【%s】%s 已收取快件", fromCity, c.name), from},
		{StateInTransit, "1002", fmt.Sprintf("快件已到达【%s】", from.hub()), from},
	}
	if fromCity != toCity {
		steps = append(steps,
			stepSpec{StateInTransit, "1002", fmt.Sprintf("快件已从【%s】发出，准备发往【%s】", from.hub(), toTransit), from},
			stepSpec{StateInTransit, "1002", fmt.Sprintf("快件已到达【%s】", toTransit), to},
		)
	}
	outForDelivery := stepSpec{StateDelivering, StateDelivering, fmt.Sprintf("【%s】快件交给%s，正在派送途中（联系电话：%s）", toCity, courier, courierPhone), to}
	steps = append(steps,
		stepSpec{StateInTransit, "1001", fmt.Sprintf("快件已到达【%s】", to.outlet()), to},
		outForDelivery,
	)
	switch scenario {
	case ScenarioException:
		steps = append(steps,
			stepSpec{StateTrouble, "206", fmt.Sprintf("快件派送不成功，收件人电话无法接通，快件已滞留【%s】，将安排再次派送", to.outlet()), to},
			stepSpec{StateDelivering, StateDelivering, fmt.Sprintf("【%s】快件交给%s，正在第二次派送（联系电话：%s）", toCity, courier, courierPhone), to},
			stepSpec{StateSigned, "302", fmt.Sprintf("已签收，签收人：本人。感谢使用%s，期待再次为您服务", c.name), to},
		)
	case ScenarioReturned:
		steps = append(steps,
			stepSpec{StateRefused, StateRefused, fmt.Sprintf("【%s】收件人拒收，快件将退回寄件人", toCity), to},
			stepSpec{StateReturning, StateReturning, fmt.Sprintf("快件已退回，正从【%s】发往【%s】", to.outlet(), from.hub()), to},
			stepSpec{StateReturning, StateReturning, fmt.Sprintf("退回件已到达【%s】", from.outlet()), from},
			stepSpec{StateReturnSign, StateReturnSign, "退回件已签收，签收人：寄件人本人", from},
		)
	default:
		steps = append(steps,
			stepSpec{StateSigned, "304", fmt.Sprintf("已签收，签收人凭取件码签收。感谢使用%s，期待再次为您服务", c.name), to},
		)
	}
	return steps
}

// surnames for the couriers' masked names.
var surnames = []rune("王李张刘陈杨黄赵吴周徐孙林郑何高罗梁宋谢")

// drawCourier picks the delivering courier's masked name and phone.
func drawCourier(rng *rand.Rand) (name, phone string) {
	name = string(surnames[rng.IntN(len(surnames))]) + "**"
	phone = fmt.Sprintf("1%d%d****%04d", 3+rng.IntN(7), rng.IntN(10), rng.IntN(10000))
	return name, phone
}

// Parcel is a parcel as the controls show it.
type Parcel struct {
	Com       string  `json:"com"`
	Number    string  `json:"num"`
	Carrier   string  `json:"carrier"`
	OrderID   string  `json:"order_id,omitempty"`
	Scenario  string  `json:"scenario"`
	State     string  `json:"state"`      // Kuaidi100 main state, "" before collection
	StateName string  `json:"state_name"` // 在途, 揽收, ... or 待揽收 / 已取消
	Checked   bool    `json:"ischeck"`
	Cancelled bool    `json:"cancelled"`
	Steps     int     `json:"steps"`      // steps done
	PlanSteps int     `json:"plan_steps"` // steps in the whole journey
	From      place   `json:"from"`
	To        place   `json:"to"`
	Events    []Event `json:"events"` // oldest first
	NextStep  string  `json:"next_step,omitempty"`
}

// Event is one track entry as the controls show it.
type Event struct {
	Time       time.Time `json:"time"`
	State      string    `json:"state"`
	StatusName string    `json:"status"`
	StatusCode string    `json:"status_code"`
	Context    string    `json:"context"`
	AreaName   string    `json:"area_name"`
	AreaCode   string    `json:"area_code,omitempty"`
}

// view copies a parcel for the controls. The caller holds s.mu.
func (p *parcel) view() Parcel {
	plan := p.plan()
	v := Parcel{
		Com: p.com, Number: p.num, Carrier: p.carrier.name, OrderID: p.orderID, Scenario: p.scenario,
		State: p.state(), Checked: p.final(), Cancelled: p.cancelled,
		Steps: len(p.events), PlanSteps: len(plan), From: p.from, To: p.to, Events: []Event{},
	}
	switch {
	case p.cancelled:
		v.StateName = "已取消"
	case len(p.events) == 0:
		v.StateName = "待揽收"
	default:
		v.StateName = StateNames[v.State]
	}
	for _, e := range p.events {
		v.Events = append(v.Events, Event{
			Time: e.at.In(chinaTime), State: e.step.state, StatusName: StateNames[e.step.state], StatusCode: e.step.code,
			Context: e.step.context, AreaName: e.step.area.areaName(), AreaCode: e.step.area.areaCode(),
		})
	}
	if !p.cancelled && len(p.events) < len(plan) {
		v.NextStep = plan[len(p.events)].context
	}
	return v
}
