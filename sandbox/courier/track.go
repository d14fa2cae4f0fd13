package courier

// trackResult is Kuaidi100's tracking answer: the real-time query's body
// and a push's lastResult. Every value is a string, as Kuaidi100 sends it.
type trackResult struct {
	Message   string      `json:"message"`
	Nu        string      `json:"nu"`
	IsCheck   string      `json:"ischeck"`
	Condition string      `json:"condition"`
	Com       string      `json:"com"`
	Status    string      `json:"status"`
	State     string      `json:"state"`
	Data      []trackData `json:"data"`
}

// trackData is one track entry. status, areaCode and areaName appear with
// resultv2=1 or 4; statusCode (the sub-state) with resultv2=4 only.
type trackData struct {
	Time       string `json:"time"`
	FTime      string `json:"ftime"`
	Context    string `json:"context"`
	Location   string `json:"location"`
	Status     string `json:"status,omitempty"`
	AreaCode   string `json:"areaCode,omitempty"`
	AreaName   string `json:"areaName,omitempty"`
	StatusCode string `json:"statusCode,omitempty"`
}

// trackOf renders a parcel's track; resultv2 is "", "0", "1" or "4";
// ascending puts the oldest entry first (query order=asc), otherwise the
// newest is first, Kuaidi100's default. The caller holds s.mu.
func trackOf(p *parcel, resultv2 string, ascending bool) trackResult {
	t := trackResult{
		Message: "ok", Nu: p.num, IsCheck: "0", Condition: "F00", Com: p.com, Status: "200",
		State: p.state(), Data: make([]trackData, 0, len(p.events)),
	}
	if p.final() {
		t.IsCheck = "1"
	}
	for i := range p.events {
		e := p.events[len(p.events)-1-i]
		if ascending {
			e = p.events[i]
		}
		ts := e.at.In(chinaTime).Format(TimeLayout)
		d := trackData{Time: ts, FTime: ts, Context: e.step.context}
		if resultv2 == "1" || resultv2 == "4" {
			d.Status = StateNames[e.step.state]
			d.AreaCode = e.step.area.areaCode()
			d.AreaName = e.step.area.areaName()
		}
		if resultv2 == "4" {
			d.StatusCode = e.step.code
		}
		t.Data = append(t.Data, d)
	}
	return t
}
