package redisx

import (
	"context"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// DirectReads is a hook for the client of this process's embedded Redis:
// GET and EXISTS, sent alone or in a pipeline of nothing else, are answered
// from the miniredis's memory instead of over loopback (encode, a socket
// write and read on each side, the server's goroutine, decode) — the
// signed-in gate's revocation check and cached user cost no round trip.
// The answer is the one the server would send: the same database read the
// same way under the same lock (a pipeline's commands are not atomic there
// either). Anything else, a key of another type included, goes the usual
// way, untouched.
func (e *Embedded) DirectReads() redis.Hook {
	return directReads{db: e.DB(0)} // StartEmbedded's URL names database 0
}

type directReads struct{ db *miniredis.RedisDB }

// answer is one command's answer read directly.
type answer struct {
	val   string
	n     int64
	found bool
}

// read answers cmd from memory; ok false when it cannot (another command,
// a key of another type).
func (h directReads) read(cmd redis.Cmder) (a answer, ok bool) {
	args := cmd.Args()
	switch cmd.(type) {
	case *redis.StringCmd:
		if len(args) != 2 || cmd.Name() != "get" {
			return a, false
		}
		key, isString := args[1].(string)
		if !isString {
			return a, false
		}
		v, err := h.db.Get(key)
		switch err {
		case nil:
			return answer{val: v, found: true}, true
		case miniredis.ErrKeyNotFound:
			return answer{}, true
		}
		return a, false // WRONGTYPE: the server words that error
	case *redis.IntCmd:
		if len(args) < 2 || cmd.Name() != "exists" {
			return a, false
		}
		for _, k := range args[1:] {
			key, isString := k.(string)
			if !isString {
				return answer{}, false
			}
			if h.db.Exists(key) {
				a.n++
			}
		}
		return a, true
	}
	return a, false
}

func set(cmd redis.Cmder, a answer) {
	switch c := cmd.(type) {
	case *redis.StringCmd:
		if a.found {
			c.SetVal(a.val)
		} else {
			c.SetErr(redis.Nil)
		}
	case *redis.IntCmd:
		c.SetVal(a.n)
	}
}

func (h directReads) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h directReads) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		a, ok := h.read(cmd)
		if !ok {
			return next(ctx, cmd)
		}
		set(cmd, a)
		return cmd.Err()
	}
}

func (h directReads) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		var buf [8]answer
		answers := buf[:0]
		for _, cmd := range cmds {
			a, ok := h.read(cmd)
			if !ok {
				return next(ctx, cmds) // all or nothing: the order stays the server's
			}
			answers = append(answers, a)
		}
		var first error
		for i, cmd := range cmds {
			set(cmd, answers[i])
			if err := cmd.Err(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
}
