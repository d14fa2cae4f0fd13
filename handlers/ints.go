package handlers

import (
	"errors"
	"strconv"
)

// parseInt parses a small non-negative decimal query parameter.
func parseInt(s string) (int, error) {
	if len(s) > 6 {
		return 0, errors.New("too long")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errors.New("not a non-negative integer")
	}
	return n, nil
}
