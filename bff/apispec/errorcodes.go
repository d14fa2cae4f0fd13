package apispec

import (
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"
)

// Code is one declared error code as the API documents it.
type Code struct {
	Code    string
	Status  int    // the HTTP status it is answered with
	Message string // the Chinese message people see
}

// errorCodeSchema is the components/schemas entry that lists every code.
const errorCodeSchema = "ErrorCode"

// WriteErrorCodes writes components/schemas/ErrorCode: a string enum of every
// code with its status and Chinese message as the value's description. The
// block is replaced as a whole (or added after the Error schema), so the
// list follows apperr.Codes() and a second run changes nothing.
func WriteErrorCodes(spec []byte, codes []Code) ([]byte, error) {
	doc, err := parse(spec)
	if err != nil {
		return nil, err
	}
	schemas := at(doc, "components", "schemas")
	if schemas == nil || schemas.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("openapi.yaml has no components.schemas")
	}
	sorted := append([]Code(nil), codes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Code < sorted[j].Code })
	enum, descriptions := sequence(), sequence()
	for _, c := range sorted {
		enum.Content = append(enum.Content, scalar(c.Code))
		descriptions.Content = append(descriptions.Content, scalar(fmt.Sprintf("HTTP %d：%s", c.Status, c.Message)))
	}
	schema := mapping(
		scalar("type"), scalar("string"),
		scalar("description"), scalar("The stable error code of the Error envelope, for programs to branch on "+
			"(message is for people). Generated from the code's registry (apperr) by `make api-spec`: "+
			"each value's description gives its HTTP status and Chinese message. New codes may be added "+
			"in a minor version: treat an unknown code by its HTTP status."),
		scalar("example"), scalar("AUTH_TOKEN_EXPIRED"),
		scalar("enum"), enum,
		scalar("x-enum-descriptions"), descriptions,
	)
	text := splitLines(spec)
	key, _ := child(schemas, errorCodeSchema)
	from, to := 0, 0
	switch {
	case key != nil:
		from, to = key.Line-1, text.blockEnd(key.Line-1)
	default:
		after, _ := child(schemas, "Error")
		if after == nil {
			return nil, fmt.Errorf("openapi.yaml has no components.schemas.Error to put ErrorCode after")
		}
		key = after
		from = text.blockEnd(after.Line - 1)
		to = from
	}
	rendered, err := render(mapping(scalar(errorCodeSchema), schema), key.Column-1)
	if err != nil {
		return nil, err
	}
	return text.replace(from, to, rendered).bytes(), nil
}
