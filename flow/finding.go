package flow

import "fmt"

// Severity ranks a finding. The zero value means "no finding".
type Severity int

const (
	SeverityNone Severity = iota
	SeverityInfo
	SeverityLow
	SeverityMedium
	SeverityHigh
)

var severityNames = [...]string{"none", "info", "low", "medium", "high"}

func (s Severity) String() string {
	if s < 0 || int(s) >= len(severityNames) {
		return fmt.Sprintf("severity(%d)", int(s))
	}
	return severityNames[s]
}

// ParseSeverity reads a severity name ("info", "low", "medium", "high", "none").
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if n == name {
			return Severity(i), nil
		}
	}
	return SeverityNone, fmt.Errorf("unknown severity %q (want info, low, medium or high)", name)
}

func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Finding is one audit result on a flow.
type Finding struct {
	Rule     string   `json:"rule"` // e.g. "CK02"
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`  // one line: what is wrong
	Evidence string   `json:"evidence"` // which header, cookie or field
	Fix      string   `json:"fix"`      // a concrete change that resolves it
}
