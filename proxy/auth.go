package proxy

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"

	"onpath/flow"
)

// BasicAuth is the one user and password clients must present to the
// proxy (Proxy-Authorization: Basic, RFC 7617).
type BasicAuth struct {
	User, Password string
}

// authRealm is the realm of the 407 challenge.
const authRealm = `Basic realm="onpath"`

// redactedCredentials replaces the credentials of a recorded
// Proxy-Authorization header: flows are shown, exported and stored, and
// must not hand out the key to the proxy.
const redactedCredentials = "[redacted by onpath]"

// credentialDigest hashes user:password so that the comparison runs over
// fixed-length values: neither the length nor a prefix of the configured
// password is revealed by timing.
func credentialDigest(user, password string) [sha256.Size]byte {
	return sha256.Sum256([]byte(user + ":" + password))
}

// authorized reports whether h carries the configured credentials; with
// no ProxyAuth every request is.
func (p *Proxy) authorized(h http.Header) bool {
	if p.ProxyAuth == nil {
		return true
	}
	ok := false
	for _, v := range h.Values("Proxy-Authorization") {
		scheme, encoded, found := strings.Cut(strings.TrimSpace(v), " ")
		if !found || !strings.EqualFold(scheme, "Basic") {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
		if err != nil {
			continue
		}
		user, password, found := strings.Cut(string(raw), ":")
		if !found {
			continue
		}
		got := credentialDigest(user, password)
		// Every value is compared, so the time taken does not say which matched.
		if subtle.ConstantTimeCompare(got[:], p.rt.authDigest[:]) == 1 {
			ok = true
		}
	}
	return ok
}

// authFailure names why a request was refused, without the offered
// credentials.
func authFailure(h http.Header) string {
	if h.Get("Proxy-Authorization") == "" {
		return "proxy authentication failed: the client sent no Proxy-Authorization (onpath requires --proxy-auth credentials)"
	}
	return "proxy authentication failed: wrong user or password in Proxy-Authorization"
}

// redactProxyAuth returns a copy of h whose Proxy-Authorization values
// keep their scheme but not their credentials.
func redactProxyAuth(h http.Header) http.Header {
	c := h.Clone()
	if c == nil {
		return nil
	}
	values := c.Values("Proxy-Authorization")
	if len(values) == 0 {
		return c
	}
	redacted := make([]string, len(values))
	for i, v := range values {
		scheme, _, _ := strings.Cut(strings.TrimSpace(v), " ")
		redacted[i] = strings.TrimSpace(scheme + " " + redactedCredentials)
	}
	c["Proxy-Authorization"] = redacted
	return c
}

// refusal is a request onpath answers itself, recorded as a flow with
// error phase proxy: failed authentication, a loop, a bad CONNECT target.
type refusal struct {
	status int
	reason string // recorded as the flow's error
	header http.Header
}

func authRefusal(h http.Header) *refusal {
	return &refusal{
		status: http.StatusProxyAuthRequired,
		reason: authFailure(h),
		header: http.Header{"Proxy-Authenticate": {authRealm}},
	}
}

// body is the one-line text the client gets.
func (r *refusal) body() string { return "onpath: " + r.reason + "\n" }

// refuseRequest records req as a refused flow and returns the answer. Like
// onpath's 502s, the flow has no Response: the status is onpath's, not a
// server's.
func (p *Proxy) refuseRequest(req *http.Request, record flow.Request, client flow.Conn, conn *idleConn, r *refusal) *http.Response {
	ex := p.startExchange(flow.KindHTTP, conn, record, client)
	if ex == nil {
		return plainResponse(req, http.StatusServiceUnavailable, "onpath: shutting down\n")
	}
	ex.fail(flow.PhaseProxy, r.reason)
	resp := ex.textResponse(req, r.status, r.body())
	for k, v := range r.header {
		resp.Header[k] = v
	}
	return resp
}
