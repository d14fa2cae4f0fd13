package links

// Target is the kind of screen a link opens.
type Target string

// The targets of zwfw's links.
const (
	Home         Target = "home"          // the first screen (to-dos)
	Case         Target = "case"          // one case's file
	CaseEvaluate Target = "case_evaluate" // rate a finished case (好差评)
	Bookings     Target = "bookings"      // my bookings
	Booking      Target = "booking"       // one booking with its check-in code
	Payment      Target = "payment"       // one payment notice (id: the payment code)
	Shipment     Target = "shipment"      // one shipment with its tracking
	Guide        Target = "guide"         // an item's guide (id: the item code)
	Messages     Target = "messages"      // my inbox
	Message      Target = "message"       // one inbox message (id: its public id)
	License      Target = "license"       // one e-licence
)

// forms are one target's three forms; {id} stands for the record's id.
// The app form follows "<scheme>://"; the H5 form follows the H5 base URL.
type forms struct {
	miniProgram, app, h5 string
}

// table is THE table of deep links: every target in the three forms of
// the three clients. Mini-program paths are the pages of the mini-program
// (app.json); app paths are the routes the app registers for its scheme;
// H5 paths are kept short, because an SMS variable holds at most 35
// characters (see notify's SMS link).
var table = []struct {
	target Target
	forms
}{
	{Home, forms{"pages/index/index", "home", "home"}},
	{Case, forms{"pages/case/detail?id={id}", "case/{id}", "case/{id}"}},
	{CaseEvaluate, forms{"pages/case/evaluate?id={id}", "case/{id}/evaluate", "case/{id}/evaluate"}},
	{Bookings, forms{"pages/booking/list", "bookings", "bookings"}},
	{Booking, forms{"pages/booking/detail?id={id}", "booking/{id}", "booking/{id}"}},
	{Payment, forms{"pages/pay/detail?code={id}", "payment/{id}", "pay/{id}"}},
	{Shipment, forms{"pages/shipment/detail?id={id}", "shipment/{id}", "shipment/{id}"}},
	{Guide, forms{"pages/guide/detail?code={id}", "guide/{id}", "guide/{id}"}},
	{Messages, forms{"pages/message/list", "messages", "messages"}},
	{Message, forms{"pages/message/detail?id={id}", "message/{id}", "m/{id}"}},
	{License, forms{"pages/license/detail?id={id}", "license/{id}", "license/{id}"}},
}

var byTarget = func() map[Target]forms {
	m := make(map[Target]forms, len(table))
	for _, row := range table {
		m[row.target] = row.forms
	}
	return m
}()

// Targets lists every target in the table's order.
func Targets() []Target {
	out := make([]Target, 0, len(table))
	for _, row := range table {
		out = append(out, row.target)
	}
	return out
}

// Valid reports whether t is in the table.
func (t Target) Valid() bool {
	_, ok := byTarget[t]
	return ok
}

// formsOf returns t's forms; an unknown target opens the home screen.
func formsOf(t Target) forms {
	if f, ok := byTarget[t]; ok {
		return f
	}
	return byTarget[Home]
}
