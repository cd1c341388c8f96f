package flow

// Phase says where a flow failed.
type Phase string

const (
	PhaseDNS          Phase = "dns"           // the upstream host name did not resolve
	PhaseConnect      Phase = "connect"       // the TCP connection to the upstream failed
	PhaseTLS          Phase = "tls"           // the TLS handshake with the upstream failed
	PhaseUpstreamCert Phase = "upstream-cert" // the upstream certificate did not verify
	PhaseRequest      Phase = "request"       // sending the request failed
	PhaseResponse     Phase = "response"      // reading the response failed, or timed out
	PhaseClientAbort  Phase = "client-abort"  // the client hung up before the end
	PhaseClientTLS    Phase = "client-tls"    // the client rejected onpath's certificate (pinning?)
	PhaseProxy        Phase = "proxy"         // onpath refused the request (loop, auth, malformed)
)

// Error records why a flow failed.
type Error struct {
	Phase   Phase  `json:"phase"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return string(e.Phase) + ": " + e.Message }
