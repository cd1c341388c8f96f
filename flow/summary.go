package flow

import "time"

// Summary is the part of a flow a list needs: small enough that the store
// keeps one per flow in an index and the viewer can list a million of them.
type Summary struct {
	ID           ID            `json:"id"`
	Kind         Kind          `json:"kind"`
	Start        time.Time     `json:"start"`
	Duration     time.Duration `json:"duration"`
	Method       string        `json:"method"`
	URL          string        `json:"url"`
	Status       int           `json:"status"`
	RequestSize  int64         `json:"request_size"`
	ResponseSize int64         `json:"response_size"`
	ErrorPhase   Phase         `json:"error_phase,omitempty"`
	Worst        Severity      `json:"worst"`
	ReplayOf     ID            `json:"replay_of,omitempty"`
	Imported     bool          `json:"imported,omitempty"`
	Pending      bool          `json:"pending,omitempty"`
}

// Summarize extracts the list fields of f.
func (f *Flow) Summarize() Summary {
	s := Summary{
		ID:          f.ID,
		Kind:        f.Kind,
		Start:       f.Timings.Start,
		Duration:    f.Timings.Duration(),
		Method:      f.Request.Method,
		URL:         f.Request.URL,
		Status:      f.Status(),
		RequestSize: f.Request.Body.Size,
		Worst:       f.Worst(),
		ReplayOf:    f.ReplayOf,
		Imported:    f.ImportID != "",
		Pending:     f.Pending(),
	}
	if f.Response != nil {
		s.ResponseSize = f.Response.Body.Size
	}
	if f.Tunnel != nil {
		s.RequestSize, s.ResponseSize = f.Tunnel.BytesUp, f.Tunnel.BytesDown
	}
	if f.Error != nil {
		s.ErrorPhase = f.Error.Phase
	}
	return s
}
