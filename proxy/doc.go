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
// Flows: one KindHTTP flow per request (plain, MITM'd HTTP/1.1 or h2,
// WebSocket upgrades with status 101); one KindTunnel flow per passthrough
// CONNECT; and one KindHTTP flow with error phase client-tls (method
// CONNECT, no response) when a client aborts the TLS handshake with
// onpath, typically because it does not trust the CA or pins certificates.
// The magic page (also served to clients that talk to the proxy directly,
// http://127.0.0.1:8080/) is answered locally and not recorded.
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
//   - Passthrough tunnels relay bytes only after the CONNECT reply: a
//     client that sends its ClientHello in the same write as the CONNECT
//     (unusual) loses those bytes, as goproxy's hijack path drops them.
package proxy
