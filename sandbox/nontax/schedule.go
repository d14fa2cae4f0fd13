package nontax

// The fee schedule: the 收费项目 of 福州市 the sandbox's agencies collect.
// Codes are 12 digits under the 政府收支分类 subject 103 (非税收入): 10304
// 行政事业性收费, 10305 罚没收入. The codes the province fake's catalog
// names as a fee's nontax_item_code (居民身份证工本费 103040100101,
// 不动产登记费 103045500101, ...) are the same items here, so a fee of a
// guide can be issued as a notice by its code. Amounts are the published
// national or provincial standards where there is one (不动产登记费 住宅 80
// 元/件, 非住宅 550 元/件, 居民身份证工本费 20 元); the agency codes are
// invented.

// Agency is a collecting agency (执收单位).
type Agency struct {
	Code     string `json:"code"` // 执收单位编码
	Name     string `json:"name"`
	Division string `json:"division"` // GB/T 2260 code, the payment codes' first 6 digits
}

// FeeItem is one entry of the fee schedule (收费项目).
type FeeItem struct {
	Code      string `json:"code"` // 收费项目编码, 12 digits
	Name      string `json:"name"`
	UnitPrice int64  `json:"unit_price"` // standard amount per unit, fen
	Unit      string `json:"unit"`       // 件, 本, 副, 科, ㎡·日, ...
	Agency    Agency `json:"agency"`
	Category  string `json:"category"` // 行政事业性收费, 罚没收入
}

const (
	catFee  = "行政事业性收费"
	catFine = "罚没收入"
)

// The collecting agencies, all of 福州市 (350100).
var (
	agencyPolice     = Agency{Code: "102001", Name: "福州市公安局", Division: "350100"}
	agencyExitEntry  = Agency{Code: "102002", Name: "福州市公安局出入境管理支队", Division: "350100"}
	agencyTraffic    = Agency{Code: "102003", Name: "福州市公安局交通警察支队", Division: "350100"}
	agencyHR         = Agency{Code: "106001", Name: "福州市人力资源和社会保障局", Division: "350100"}
	agencyRealEstate = Agency{Code: "118001", Name: "福州市不动产登记和交易中心", Division: "350100"}
	agencyCityMgmt   = Agency{Code: "121001", Name: "福州市城市管理委员会", Division: "350100"}
)

// Schedule is the fee schedule, by code order.
var Schedule = []FeeItem{
	{Code: "103040100101", Name: "居民身份证工本费", UnitPrice: 2000, Unit: "证", Agency: agencyPolice, Category: catFee},
	{Code: "103040100102", Name: "临时居民身份证工本费", UnitPrice: 1000, Unit: "证", Agency: agencyPolice, Category: catFee},
	{Code: "103040200101", Name: "普通护照工本费", UnitPrice: 12000, Unit: "本", Agency: agencyExitEntry, Category: catFee},
	{Code: "103040200201", Name: "往来港澳通行证工本费", UnitPrice: 6000, Unit: "证", Agency: agencyExitEntry, Category: catFee},
	{Code: "103040200202", Name: "赴港澳签注费（一次有效）", UnitPrice: 1500, Unit: "次", Agency: agencyExitEntry, Category: catFee},
	{Code: "103040300101", Name: "机动车驾驶证工本费", UnitPrice: 1000, Unit: "证", Agency: agencyTraffic, Category: catFee},
	{Code: "103040300201", Name: "汽车号牌工本费", UnitPrice: 10000, Unit: "副", Agency: agencyTraffic, Category: catFee},
	{Code: "103040300301", Name: "机动车行驶证工本费", UnitPrice: 1000, Unit: "证", Agency: agencyTraffic, Category: catFee},
	{Code: "103042000101", Name: "专业技术人员职业资格考试考务费", UnitPrice: 6000, Unit: "科", Agency: agencyHR, Category: catFee},
	{Code: "103044500101", Name: "城镇垃圾处理费（非居民）", UnitPrice: 12000, Unit: "季度", Agency: agencyCityMgmt, Category: catFee},
	{Code: "103044500201", Name: "城市道路占用费", UnitPrice: 200, Unit: "㎡·日", Agency: agencyCityMgmt, Category: catFee},
	{Code: "103045500101", Name: "不动产登记费（住宅）", UnitPrice: 8000, Unit: "件", Agency: agencyRealEstate, Category: catFee},
	{Code: "103045500102", Name: "不动产权证书工本费", UnitPrice: 1000, Unit: "本", Agency: agencyRealEstate, Category: catFee},
	{Code: "103045500103", Name: "不动产登记费（非住宅）", UnitPrice: 55000, Unit: "件", Agency: agencyRealEstate, Category: catFee},
	{Code: "103050100101", Name: "道路交通安全违法罚款", UnitPrice: 20000, Unit: "起", Agency: agencyTraffic, Category: catFine},
}

// FeeItemByCode looks an item of the Schedule up.
func FeeItemByCode(code string) (FeeItem, bool) {
	for _, it := range Schedule {
		if it.Code == code {
			return it, true
		}
	}
	return FeeItem{}, false
}
