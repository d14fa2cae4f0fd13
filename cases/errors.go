package cases

import "zwfw/apperr"

// Errors of the cases package (the applicant check's are in applicant.go,
// the look-ups' in lookup.go, the evaluation's and the actions' in actions.go).
var (
	ErrNotFound         = apperr.New(apperr.KindNotFound, "CASE_NOT_FOUND", "未找到该办件")
	ErrNotDraft         = apperr.New(apperr.KindConflict, "CASE_NOT_DRAFT", "该办件已提交，不能再修改")
	ErrStateConflict    = apperr.New(apperr.KindConflict, "CASE_STATE_CONFLICT", "办件当前状态不允许该操作")
	ErrItemNotOnline    = apperr.New(apperr.KindConflict, "ITEM_NOT_ONLINE", "该事项暂不支持网上申报，请到窗口办理")
	ErrPreReview        = apperr.New(apperr.KindInvalid, "CASE_PREREVIEW_FAILED", "申报材料或表单不完整，请按提示补充后再提交")
	ErrSlotUnknown      = apperr.New(apperr.KindInvalid, "MATERIAL_SLOT_UNKNOWN", "该事项没有这项申请材料")
	ErrTooManyMaterials = apperr.New(apperr.KindInvalid, "MATERIAL_TOO_MANY", "该项材料上传的文件过多")
)
