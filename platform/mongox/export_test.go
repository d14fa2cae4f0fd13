package mongox

import "go.mongodb.org/mongo-driver/v2/bson"

// DecidesByID reports whether a guarded write with filter on doc is decided
// by _id (idmatch.go) rather than by the store, and its answer.
func DecidesByID(filter any, doc bson.Raw) (matched, decided bool) {
	f, ok := compileIDFilter(filter)
	if !ok {
		return false, false
	}
	return f.match(doc)
}
