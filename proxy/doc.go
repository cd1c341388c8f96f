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
// Requests onpath refuses itself are KindHTTP flows with error phase proxy
// and no Response: a failed ProxyAuth check (407 with Proxy-Authenticate:
// Basic realm="onpath"), a request or CONNECT addressed to the proxy's own
// listen address (508 Loop Detected), a CONNECT whose target is not
// HOST:PORT with a port from 1 to 65535 (400), a CONNECT sent inside a
// MITM'd tunnel (405). Each answer is one line of text.
//
// Safe defaults and bad input:
//   - ProxyAuth: Basic credentials, compared with
//     crypto/subtle.ConstantTimeCompare over SHA-256 digests of
//     "user:password", so neither the length nor a prefix of the secret
//     shows in the timing. Proxy-Authorization is never forwarded upstream
//     and is recorded as "Basic [redacted by onpath]". Requests inside an
//     authenticated CONNECT tunnel are not asked again. The direct magic
//     page (not a proxied request) stays open: it serves only the CA
//     certificate.
//   - Loops are found by address, not by a marker header (one would be
//     seen by every server and change what it echoes or signs): the target
//     is checked before dialling (IP literals and localhost against the
//     listen address, or every interface address when listening on all),
//     and every dialled upstream connection's resolved address after, which
//     catches any name that leads back here. A loop through an outside
//     forwarder to another port (ssh -L, a container port mapping) is not
//     detected.
//   - HeaderTimeout (10 s) bounds a request head once its first byte
//     arrived, and MaxHeaderBytes (64 KiB) its size. Requests get
//     net/http's answers, on plain connections and inside MITM alike: 400
//     for malformed request lines, headers, Host, or two differing
//     Content-Lengths; 431 over the size; 501 for a Transfer-Encoding
//     other than one "chunked". net/http answers these before any handler
//     runs; the connection (the decrypted one under MITM) recognises the
//     answer as it is written and records a flow with error phase proxy,
//     the answer, and the request line (its URL when the line has an
//     absolute one or, inside MITM, a path). For the first request of a
//     tunnel the head clock starts at the CONNECT and covers the TLS
//     handshake: a tunnel that carries no request within HeaderTimeout is
//     closed; browsers reopen preconnected sockets closed this way.
//     HTTP/2 clients are bounded by the HTTP/2 server instead.
//   - MITM'd connections are served by net/http's servers (HTTP/1.1 and
//     HTTP/2) and every request, plain or decrypted, goes through the same
//     goproxy handler and hooks. A response goes out in one write when
//     its body is all there; a body that trickles in is flushed at most
//     2 ms after each write, so streams and long polls reach the client as
//     they arrive. The client gets the upstream's headers as they were:
//     net/http's servers would add a sniffed Content-Type and a Date to a
//     response without them, and are told not to.
//   - Content-Length with Transfer-Encoding (a request-smuggling shape):
//     net/http lets Transfer-Encoding win and deletes the Content-Length
//     before any handler sees it, so a scanner reads each head as it
//     arrives (the raw bytes on plain connections, the decrypted ones
//     inside MITM) and the request is refused (400, recorded, connection
//     closed). A head pipelined while the previous request was in flight
//     is not scanned; its body is re-framed as chunked upstream (RFC 9112
//     §6.3), so the upstream never sees the two headers disagree.
//   - A MITM tunnel that ends without a request is recorded (method
//     CONNECT, no response) when something went wrong: the client refused
//     the certificate, sent bytes that are neither a TLS ClientHello nor
//     an HTTP request, or completed no handshake within HeaderTimeout
//     (phase client-tls); or a request head inside it was too slow or too
//     large (phase proxy). A tunnel whose handshake completed and that then
//     sent nothing (a browser's preconnected socket) is closed at
//     HeaderTimeout without a flow.
//
// Caveats:
//   - The proxy decrypts everything it intercepts; flows hold cookies,
//     Authorization headers and bodies in clear. Listen on loopback; on any
//     other address set ProxyAuth, or the proxy is open to anyone who
//     reaches it. Basic credentials cross the network in clear (base64):
//     use them on networks you trust, or through an SSH tunnel.
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
