// Package proxy is onpath's intercepting HTTP(S) proxy, built on goproxy.
//
// It owns the CONNECT handling (MITM with leaves from an injected
// certificate function, or passthrough tunnels for matching hosts), the
// upstream transport (its own TLS verification, so that the chain and the
// verification error are recorded even with Insecure), body capture by
// teeing inside the round trip, the error answers clients get (502 naming
// the cause, 504 after ResponseTimeout), idle deadlines on client
// connections and tunnels, the magic CA page at http://onpath.invalid/, and
// Replay. Every exchange becomes a flow.Flow handed to OnStart and OnFinish.
//
// The magic page is served locally and is not recorded as a flow.
//
// Caveats:
//   - The proxy decrypts everything it intercepts; flows hold cookies,
//     Authorization headers and bodies in clear. Listen on loopback.
//   - goproxy's built-in CA and leaf signer are never used: its key is
//     public and its v1.9.3 signer derives leaf keys from public data. Every
//     MITM connection gets its certificate from Proxy.Certificate.
//   - Insecure skips upstream verification: the flow still records what
//     failed (TLSInfo.VerifyError), but the traffic went to an unverified
//     server.
//   - Bodies are captured up to BodyLimit each; the rest streams through
//     uncaptured (Body.Truncated, Body.Size).
//   - WebSocket frames and passthrough tunnel contents are not captured.
package proxy
