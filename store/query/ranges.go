package query

import (
	"fmt"
	"strconv"
	"strings"
)

// span is an inclusive range of numbers; class marks a status class (4xx)
// so String can write it back the way the user did.
type span struct {
	lo, hi uint64
	class  bool
}

type ranges []span

func (r ranges) contains(v uint64) bool {
	for _, s := range r {
		if v >= s.lo && v <= s.hi {
			return true
		}
	}
	return false
}

func (r ranges) String() string {
	parts := make([]string, len(r))
	for i, s := range r {
		switch {
		case s.class:
			parts[i] = strconv.FormatUint(s.lo/100, 10) + "xx"
		case s.lo == s.hi:
			parts[i] = strconv.FormatUint(s.lo, 10)
		default:
			parts[i] = strconv.FormatUint(s.lo, 10) + "-" + strconv.FormatUint(s.hi, 10)
		}
	}
	return strings.Join(parts, "|")
}

// parseRanges reads "|"-separated alternatives with parseOne.
func parseRanges(v string, parseOne func(string) (span, error)) (ranges, error) {
	var out ranges
	for alt := range strings.SplitSeq(v, "|") {
		s, err := parseOne(alt)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func parseStatus(v string) (span, error) {
	bad := fmt.Errorf("%q is not a status, a class like 4xx or a range like 500-599", v)
	if len(v) == 3 && v[0] >= '1' && v[0] <= '5' && strings.EqualFold(v[1:], "xx") {
		lo := uint64(v[0]-'0') * 100
		return span{lo: lo, hi: lo + 99, class: true}, nil
	}
	lo, hi, err := parseSpan(v, 999)
	if err != nil {
		return span{}, bad
	}
	return span{lo: lo, hi: hi}, nil
}

func parseID(v string) (span, error) {
	lo, hi, err := parseSpan(v, 1<<63)
	if err != nil {
		return span{}, fmt.Errorf("%q is not a flow id or a range like 10-20", v)
	}
	return span{lo: lo, hi: hi}, nil
}

// parseSpan reads "N" or "N-M" with N <= M <= limit.
func parseSpan(v string, limit uint64) (lo, hi uint64, err error) {
	a, b, isRange := strings.Cut(v, "-")
	if lo, err = parseUint(a, limit); err != nil {
		return 0, 0, err
	}
	if !isRange {
		return lo, lo, nil
	}
	if hi, err = parseUint(b, limit); err != nil {
		return 0, 0, err
	}
	if hi < lo {
		return 0, 0, fmt.Errorf("range %d-%d is backwards", lo, hi)
	}
	return lo, hi, nil
}

func parseUint(v string, limit uint64) (uint64, error) {
	if v == "" || v[0] == '+' {
		return 0, fmt.Errorf("not a number: %q", v)
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, err
	}
	if n > limit {
		return 0, fmt.Errorf("%d is out of range", n)
	}
	return n, nil
}
