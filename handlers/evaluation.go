package handlers

import (
	"github.com/gofiber/fiber/v2"

	"zwfw/cases"
)

// EvaluationLevelView is one 好差评 level with the reasons it takes.
type EvaluationLevelView struct {
	Level           int          `json:"level"`
	Label           string       `json:"label"`
	ReasonsRequired bool         `json:"reasons_required"`
	Reasons         []ReasonView `json:"reasons"`
}

// ReasonView is one reason: its code (sent in POST .../evaluation) and its words.
type ReasonView struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// EvaluationReasons handles GET /api/v1/evaluation-reasons: the 好差评
// levels, best first, and the reasons each takes.
func EvaluationReasons(c *fiber.Ctx) error {
	out := make([]EvaluationLevelView, 0, len(cases.EvaluationLevels))
	for _, l := range cases.EvaluationLevels {
		v := EvaluationLevelView{Level: l.Level, Label: l.Label, ReasonsRequired: l.ReasonsRequired, Reasons: []ReasonView{}}
		for _, r := range l.Reasons {
			v.Reasons = append(v.Reasons, ReasonView{Code: r.Code, Label: r.Label})
		}
		out = append(out, v)
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.JSON(fiber.Map{"levels": out})
}
