package courier

import (
	"math/rand/v2"
	"slices"
	"strings"
)

// carrier is one express company the aggregator reaches, by Kuaidi100's
// lower-case company code.
type carrier struct {
	code string
	name string // as the carrier names itself in track texts
	// needPhone: queries and subscriptions must carry the sender's or
	// receiver's mobile (full or last 4 digits), as 顺丰 requires.
	needPhone bool
	prefix    string // waybill number prefix
	digits    int    // random digits after the prefix
}

// carriers are Kuaidi100 codes of the companies government platforms use
// most (EMS first: 政务专递 usually travels by EMS).
var carriers = map[string]carrier{
	"ems":             {code: "ems", name: "EMS", prefix: "11", digits: 11},
	"youzhengguonei":  {code: "youzhengguonei", name: "中国邮政", prefix: "98", digits: 11},
	"shunfeng":        {code: "shunfeng", name: "顺丰速运", needPhone: true, prefix: "SF", digits: 13},
	"shunfengkuaiyun": {code: "shunfengkuaiyun", name: "顺丰快运", needPhone: true, prefix: "SF", digits: 13},
	"jd":              {code: "jd", name: "京东快递", prefix: "JDVA", digits: 11},
	"zhongtong":       {code: "zhongtong", name: "中通快递", prefix: "75", digits: 12},
	"yuantong":        {code: "yuantong", name: "圆通速递", prefix: "YT", digits: 13},
	"yunda":           {code: "yunda", name: "韵达快递", prefix: "43", digits: 11},
	"shentong":        {code: "shentong", name: "申通快递", prefix: "77", digits: 13},
	"jtexpress":       {code: "jtexpress", name: "极兔速递", prefix: "JT", digits: 13},
}

// lookupCarrier finds a carrier by code, as Kuaidi100 does: lower-case only.
func lookupCarrier(code string) (carrier, bool) {
	c, ok := carriers[code]
	return c, ok
}

// carrierList is the supported codes, comma-separated, for the index.
func carrierList() string {
	codes := make([]string, 0, len(carriers))
	for c := range carriers {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return strings.Join(codes, ",")
}

// newWaybill draws a waybill number in the carrier's format.
func (c carrier) newWaybill(rng *rand.Rand) string {
	var b strings.Builder
	b.WriteString(c.prefix)
	for range c.digits {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	return b.String()
}
