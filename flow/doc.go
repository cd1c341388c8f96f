// Package flow holds the record every other package shares: one Flow per
// proxied request (or per passthrough tunnel), with its request, response,
// TLS details on both legs, timings, error and audit findings.
//
// The types are plain data. They carry JSON tags because the record is
// shown to users (onpath show --json) and exchanged over the control
// socket; the JSON field names are snake_case and stable.
//
// Caveats: a Flow holds every secret that crossed the proxy (cookies,
// Authorization headers, bodies). Treat it like the traffic itself.
package flow
