package mongox

import (
	"bytes"
	"errors"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// The embedded FerretDB v1.24 looks a document up by index only when a
// filter is exactly {_id: <string>}; {_id: X, version: 3} — the shape of
// every guarded write — reads and decodes the whole collection to find the
// one document. Under the collection's gate (guard.go) nothing else writes
// the collection, so a guarded write can instead read the document by _id,
// decide the rest of the filter here, and write by _id alone: the same
// outcome, at the cost of two look-ups by index instead of a scan.
//
// idFilter decides only what it decides exactly as the store would: plain
// values and $eq, $ne, $lt, $lte, $gt, $gte, $in, $nin, $exists on strings,
// numbers, booleans, dates, object ids and null, on paths through embedded
// documents. Anything else (another operator, $or, a document or array
// value, a path that meets an array in the stored document) leaves the
// write to the store. TestIDFilterAgreesWithTheStore holds it to the
// store's own answers.

type idFilter struct {
	id    string
	conds []idCond
}

type idCond struct {
	path []string
	ops  []idOp
}

type idOp struct {
	name   string
	val    bson.RawValue   // $eq, $ne, $lt, $lte, $gt, $gte
	list   []bson.RawValue // $in, $nin
	exists bool            // $exists
}

// compileIDFilter returns the filter's string _id and the rest of it, or
// false when the filter has no string _id, nothing besides it, or anything
// idFilter does not decide.
func compileIDFilter(filter any) (*idFilter, bool) {
	d, ok := asDoc(filter)
	if !ok {
		return nil, false
	}
	out := &idFilter{}
	for _, e := range d {
		if e.Key == "_id" {
			id, ok := e.Value.(string)
			if !ok || out.id != "" {
				return nil, false
			}
			out.id = id
			continue
		}
		if e.Key == "" || strings.HasPrefix(e.Key, "$") {
			return nil, false
		}
		ops, ok := compileOps(e.Value)
		if !ok {
			return nil, false
		}
		out.conds = append(out.conds, idCond{path: strings.Split(e.Key, "."), ops: ops})
	}
	if out.id == "" || len(out.conds) == 0 {
		return nil, false
	}
	return out, true
}

// asDoc is a filter document as bson.D (false for another type).
func asDoc(v any) (bson.D, bool) {
	switch x := v.(type) {
	case bson.D:
		return x, true
	case bson.M:
		d := make(bson.D, 0, len(x))
		for k, v := range x {
			d = append(d, bson.E{Key: k, Value: v})
		}
		return d, true
	}
	return nil, false
}

func compileOps(v any) ([]idOp, bool) {
	d, isDoc := asDoc(v)
	if !isDoc {
		rv, ok := scalar(v)
		return []idOp{{name: "$eq", val: rv}}, ok
	}
	if len(d) == 0 {
		return nil, false // an empty document: equality with a document
	}
	var ops []idOp
	for _, e := range d {
		op := idOp{name: e.Key}
		switch e.Key {
		case "$eq", "$ne":
			rv, ok := scalar(e.Value)
			if !ok {
				return nil, false
			}
			op.val = rv
		case "$lt", "$lte", "$gt", "$gte":
			rv, ok := scalar(e.Value)
			if !ok || rv.Type == bson.TypeNull {
				return nil, false
			}
			op.val = rv
		case "$in", "$nin":
			list, ok := scalars(e.Value)
			if !ok {
				return nil, false
			}
			op.list = list
		case "$exists":
			b, ok := e.Value.(bool)
			if !ok {
				return nil, false
			}
			op.exists = b
		default:
			return nil, false // another operator, or a document value
		}
		ops = append(ops, op)
	}
	return ops, true
}

// scalar marshals v when it is of a type idFilter compares.
func scalar(v any) (bson.RawValue, bool) {
	if v == nil {
		return bson.RawValue{Type: bson.TypeNull}, true
	}
	t, data, err := bson.MarshalValue(v)
	if err != nil {
		return bson.RawValue{}, false
	}
	return bson.RawValue{Type: t, Value: data}, decidable(t)
}

func decidable(t bson.Type) bool {
	switch t {
	case bson.TypeString, bson.TypeInt32, bson.TypeInt64, bson.TypeDouble, bson.TypeBoolean,
		bson.TypeDateTime, bson.TypeNull, bson.TypeObjectID:
		return true
	}
	return false
}

func scalars(v any) ([]bson.RawValue, bool) {
	t, data, err := bson.MarshalValue(v)
	if err != nil || t != bson.TypeArray {
		return nil, false
	}
	vals, err := bson.Raw(data).Values()
	if err != nil {
		return nil, false
	}
	for _, rv := range vals {
		if !decidable(rv.Type) {
			return nil, false
		}
	}
	return vals, true
}

// match decides the filter's conditions on doc (the document its _id
// names); decided is false when the store must decide.
func (f *idFilter) match(doc bson.Raw) (matched, decided bool) {
	matched = true
	for _, c := range f.conds {
		v, found, ok := lookupPath(doc, c.path)
		if !ok {
			return false, false
		}
		for _, op := range c.ops {
			if !op.holds(v, found) {
				matched = false
			}
		}
	}
	return matched, true
}

// lookupPath finds path in doc; ok is false when it meets an array (the
// store's array semantics are not decided here).
func lookupPath(doc bson.Raw, path []string) (v bson.RawValue, found, ok bool) {
	cur := doc
	for i, p := range path {
		val, err := cur.LookupErr(p)
		if errors.Is(err, bsoncore.ErrElementNotFound) {
			return bson.RawValue{}, false, true
		}
		if err != nil || val.Type == bson.TypeArray {
			return bson.RawValue{}, false, false
		}
		if i == len(path)-1 {
			return val, true, true
		}
		if val.Type != bson.TypeEmbeddedDocument {
			return bson.RawValue{}, false, true // a path through a scalar finds nothing
		}
		cur = val.Document()
	}
	return bson.RawValue{}, false, true
}

func (op idOp) holds(v bson.RawValue, found bool) bool {
	switch op.name {
	case "$eq":
		return equal(v, found, op.val)
	case "$ne":
		return !equal(v, found, op.val)
	case "$in", "$nin":
		in := false
		for _, w := range op.list {
			if equal(v, found, w) {
				in = true
				break
			}
		}
		return in == (op.name == "$in")
	case "$exists":
		return found == op.exists
	}
	if !found {
		return false
	}
	c, ok := compare(v, op.val)
	if !ok {
		return false // values of different kinds are never less or greater
	}
	switch op.name {
	case "$lt":
		return c < 0
	case "$lte":
		return c <= 0
	case "$gt":
		return c > 0
	default: // $gte
		return c >= 0
	}
}

// equal is the store's equality: null also matches a missing field.
func equal(v bson.RawValue, found bool, want bson.RawValue) bool {
	if want.Type == bson.TypeNull {
		return !found || v.Type == bson.TypeNull
	}
	if !found {
		return false
	}
	c, ok := compare(v, want)
	return ok && c == 0
}

// compare orders two values of one kind (numbers compare across types).
func compare(a, b bson.RawValue) (int, bool) {
	if an, aok := number(a); aok {
		bn, bok := number(b)
		if !bok {
			return 0, false
		}
		return an.cmp(bn), true
	}
	if a.Type != b.Type {
		return 0, false
	}
	switch a.Type {
	case bson.TypeString:
		return strings.Compare(a.StringValue(), b.StringValue()), true
	case bson.TypeDateTime:
		return cmpInt(a.DateTime(), b.DateTime()), true
	case bson.TypeBoolean:
		x, y := 0, 0
		if a.Boolean() {
			x = 1
		}
		if b.Boolean() {
			y = 1
		}
		return x - y, true
	case bson.TypeNull:
		return 0, true
	case bson.TypeObjectID:
		x, y := a.ObjectID(), b.ObjectID()
		return bytes.Compare(x[:], y[:]), true
	}
	return 0, false
}

type num struct {
	i     int64
	f     float64
	float bool
}

func number(v bson.RawValue) (num, bool) {
	switch v.Type {
	case bson.TypeInt32:
		return num{i: int64(v.Int32())}, true
	case bson.TypeInt64:
		return num{i: v.Int64()}, true
	case bson.TypeDouble:
		return num{f: v.Double(), float: true}, true
	}
	return num{}, false
}

func (a num) cmp(b num) int {
	if !a.float && !b.float {
		return cmpInt(a.i, b.i)
	}
	x, y := a.f, b.f
	if !a.float {
		x = float64(a.i)
	}
	if !b.float {
		y = float64(b.i)
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
