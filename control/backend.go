package control

import (
	"context"
	"errors"
	"path/filepath"

	"onpath/flow"
)

// SocketName is the control socket's file name inside the data dir.
const SocketName = "control.sock"

// SocketPath is the control socket of the data dir dir.
func SocketPath(dir string) string { return filepath.Join(dir, SocketName) }

var (
	// ErrNotFound means the flow id does not exist.
	ErrNotFound = errors.New("no such flow")
	// ErrBadRequest means the request was refused as invalid (a bad query, say).
	ErrBadRequest = errors.New("invalid request")
	// ErrNoServer means no proxy answers on the socket.
	ErrNoServer = errors.New("no onpath proxy is running on this data dir")
)

// ReplayRequest asks to send a recorded request again.
type ReplayRequest struct {
	ID flow.ID `json:"id"`
	// Request, when set, replaces the recorded request (an edited replay).
	Request *flow.Request `json:"request,omitempty"`
	// Force sends a request whose recorded body was truncated.
	Force bool `json:"force,omitempty"`
}

// ImportResult says what an import stored.
type ImportResult struct {
	ImportID string    `json:"import_id"`
	IDs      []flow.ID `json:"ids"`
}

// Backend is what the CLI needs from whoever holds the store.
type Backend interface {
	// Summaries calls fn for each flow matching query, in id order.
	Summaries(ctx context.Context, query string, fn func(flow.Summary) error) error
	// Flows calls fn with each full flow (bodies included) matching query.
	Flows(ctx context.Context, query string, fn func(*flow.Flow) error) error
	// Flow returns one full flow, or an error wrapping ErrNotFound.
	Flow(ctx context.Context, id flow.ID) (*flow.Flow, error)
	// Replay sends a recorded request again and records the result as a new flow.
	Replay(ctx context.Context, r ReplayRequest) (*flow.Flow, error)
	// Import stores flows in one transaction, all or none.
	Import(ctx context.Context, flows []*flow.Flow) (ImportResult, error)
	// Clear deletes the flows matching query and says how many.
	Clear(ctx context.Context, query string) (int, error)
	// Recompute runs the audit again on the flows matching query.
	Recompute(ctx context.Context, query string) (int, error)
}

// kindError keeps a message as it is while matching a sentinel.
type kindError struct {
	msg      string
	sentinel error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.sentinel }

// Refused marks err as the caller's mistake (a bad query, a replay that
// cannot be sent): errors.Is(err, ErrBadRequest) holds, the message is err's.
func Refused(err error) error { return &kindError{err.Error(), ErrBadRequest} }

// Missing marks err as naming a flow that does not exist (ErrNotFound).
func Missing(err error) error { return &kindError{err.Error(), ErrNotFound} }
