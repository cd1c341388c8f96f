package audit

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"onpath/flow"
)

// Item is one thing an observer of a leg reads (or that TLS hides).
type Item struct {
	Label, Value string
	// Sensitive marks secrets: cookies, credentials, tokens in the URL,
	// password fields. Why says which.
	Sensitive bool
	Why       string
}

// Leg is what crossed one network leg of a flow.
type Leg struct {
	Name       string // LegClient or LegServer
	Encrypted  bool
	TLSVersion string   // e.g. "TLS 1.3"; "" for plain text or unknown
	Visible    []Item   // what a passive observer reads
	Hidden     []Item   // what TLS hides from them
	Notes      []string // caveats (loopback, ECH, missing details)
}

// Leg names.
const (
	LegClient = "client ↔ onpath"
	LegServer = "onpath ↔ server"
)

// ExposureView is RULES.md's "on-path view" of one flow.
type ExposureView struct {
	// Legs has two entries, the client leg first. The server leg is what a
	// real attacker between onpath and the server sees.
	Legs []Leg
	// Active lists what an active attacker could additionally do.
	Active []string
}

// Exposure says, for each leg of f, what a passive on-path observer reads
// and what TLS hides, and what an active attacker could add.
func Exposure(f *flow.Flow) ExposureView {
	r := newRun(f, f.Timings.Start)
	view := ExposureView{Legs: []Leg{r.clientLeg(), r.serverLeg()}}
	view.Active = r.activeAttacks()
	return view
}

func (r *run) clientLeg() Leg {
	f := r.f
	leg := Leg{Name: LegClient}
	leg.Visible = append(leg.Visible, Item{Label: "Client address", Value: orUnknown(f.Client.Addr),
		Why: "IP and TCP headers are never encrypted"})
	if isLoopbackAddr(f.Client.Addr) {
		leg.Notes = append(leg.Notes, "this leg is loopback: it never left the machine")
	}
	if f.Kind == flow.KindTunnel || r.https {
		leg.Visible = append(leg.Visible, Item{Label: "CONNECT", Value: r.hostPort(),
			Why: "the client names the target to the proxy in clear before TLS starts"})
	}
	contents := f.Error == nil || f.Error.Phase != flow.PhaseClientTLS
	if !contents {
		leg.Notes = append(leg.Notes, "the client rejected onpath's certificate: no request crossed this leg")
	}
	r.fillLeg(&leg, f.Client.TLS, true, contents)
	return leg
}

func (r *run) serverLeg() Leg {
	f := r.f
	leg := Leg{Name: LegServer}
	leg.Visible = append(leg.Visible, Item{Label: "Server address", Value: orUnknown(f.Server.Addr),
		Why: "IP and TCP headers are never encrypted"})
	if r.host != "" && !isIPHost(r.host) {
		leg.Visible = append(leg.Visible, Item{Label: "DNS query", Value: r.host,
			Why: "onpath resolved the name; visible unless DNS is encrypted (DoH/DoT)"})
	}
	if r.local || isLoopbackAddr(f.Server.Addr) {
		leg.Notes = append(leg.Notes, "the server is on this machine: no network observer sees this leg")
	} else {
		leg.Notes = append(leg.Notes, "this is what an attacker on the network path to the server sees")
	}
	contents := reachedServer(f)
	if !contents {
		leg.Notes = append(leg.Notes, "the request never reached the server: "+f.Error.Error())
	}
	r.fillLeg(&leg, f.Server.TLS, false, contents)
	return leg
}

// reachedServer reports whether any of the request crossed the server leg.
func reachedServer(f *flow.Flow) bool {
	if f.Error == nil || f.Kind == flow.KindTunnel {
		return true
	}
	switch f.Error.Phase {
	case flow.PhaseRequest, flow.PhaseResponse, flow.PhaseClientAbort:
		return true
	}
	return false
}

func orUnknown(s string) string {
	if s == "" {
		return "(not recorded)"
	}
	return s
}

func (r *run) hostPort() string {
	if r.url == nil {
		return r.f.Request.URL
	}
	if r.url.Port() != "" {
		return r.url.Host
	}
	return r.url.Host + ":443"
}

// fillLeg adds timing, sizes and either the plain-text contents or the
// TLS handshake details (and what TLS hid). contents is false when no
// request crossed the leg: only the handshake, if any, is described.
func (r *run) fillLeg(leg *Leg, t *flow.TLSInfo, clientSide, contents bool) {
	f := r.f
	leg.Visible = append(leg.Visible, Item{Label: "Timing", Value: fmt.Sprintf("started %s, took %s",
		f.Timings.Start.UTC().Format("15:04:05.000"), f.Timings.Duration()),
		Why: "packets carry their own timing"})
	switch {
	case f.Kind == flow.KindTunnel:
		leg.Encrypted = true
		up, down := int64(0), int64(0)
		if f.Tunnel != nil {
			up, down = f.Tunnel.BytesUp, f.Tunnel.BytesDown
		}
		leg.Visible = append(leg.Visible, Item{Label: "Sizes", Value: fmt.Sprintf("%d bytes up, %d bytes down", up, down)})
		leg.Hidden = append(leg.Hidden, Item{Label: "Contents", Value: "everything inside the tunnel"})
		leg.Notes = append(leg.Notes, "passthrough tunnel: onpath did not decrypt it, so its TLS details are unknown")
		return
	case t == nil && !r.https:
		if contents {
			r.plainContents(leg)
		}
		return
	}
	leg.Encrypted = true
	leg.Visible = append(leg.Visible, Item{Label: "Sizes", Value: r.sizes(),
		Why: "TLS record lengths give away message sizes"})
	if t == nil {
		leg.Notes = append(leg.Notes, "TLS details not recorded on this leg (imported flow, or the handshake did not finish)")
		if contents {
			r.hiddenContents(leg)
		}
		return
	}
	leg.TLSVersion = t.VersionName()
	sni := t.SNI
	if t.ECHAccepted {
		leg.Visible = append(leg.Visible, Item{Label: "SNI", Value: "the outer (public) name only",
			Why: "Encrypted Client Hello hides the real name"})
		leg.Hidden = append(leg.Hidden, Item{Label: "SNI (inner)", Value: sni, Why: "encrypted by ECH (RFC 9849)"})
		leg.Notes = append(leg.Notes, "Encrypted Client Hello was used on this leg")
	} else {
		if sni == "" {
			sni = "(none sent)"
		}
		leg.Visible = append(leg.Visible, Item{Label: "SNI", Value: sni, Why: "the ClientHello is sent in clear"})
		if clientSide {
			leg.Notes = append(leg.Notes, "no Encrypted Client Hello: onpath can only show ECH if the client attempted it")
		} else {
			leg.Notes = append(leg.Notes, "onpath did not use ECH to the server; whether the client would have, going direct, cannot be observed through this proxy")
		}
	}
	if len(t.OfferedALPN) > 0 {
		leg.Visible = append(leg.Visible, Item{Label: "Offered ALPN", Value: strings.Join(t.OfferedALPN, ", "),
			Why: "sent in the ClientHello"})
	}
	leg.Visible = append(leg.Visible,
		Item{Label: "TLS version", Value: t.VersionName(), Why: "negotiated in the clear ServerHello"},
		Item{Label: "Cipher suite", Value: t.CipherSuiteName(), Why: "negotiated in the clear ServerHello"})
	chain := chainSummary(t.Chain)
	if t.Version >= tls.VersionTLS13 {
		if t.ALPN != "" {
			leg.Hidden = append(leg.Hidden, Item{Label: "Selected ALPN", Value: t.ALPN,
				Why: "TLS 1.3 sends it in the encrypted EncryptedExtensions"})
		}
		leg.Hidden = append(leg.Hidden, Item{Label: "Certificate chain", Value: chain,
			Why: "encrypted in TLS 1.3 (RFC 8446 §2), though anyone can fetch it by connecting with the same SNI"})
	} else {
		if t.ALPN != "" {
			leg.Visible = append(leg.Visible, Item{Label: "Selected ALPN", Value: t.ALPN,
				Why: "TLS 1.2 sends it in the clear ServerHello"})
		}
		leg.Visible = append(leg.Visible, Item{Label: "Certificate chain", Value: chain,
			Why: "TLS 1.2 and older send the certificates in clear"})
	}
	if contents {
		r.hiddenContents(leg)
	}
}

func chainSummary(chain []flow.Certificate) string {
	if len(chain) == 0 {
		return "(not recorded)"
	}
	parts := make([]string, 0, len(chain))
	for _, c := range chain {
		parts = append(parts, c.Subject)
	}
	return strings.Join(parts, " ← ")
}

func (r *run) sizes() string {
	s := fmt.Sprintf("request body %d bytes", r.f.Request.Body.Size)
	if r.f.Response != nil {
		s += fmt.Sprintf(", response body %d bytes", r.f.Response.Body.Size)
	}
	return s
}

// plainContents lists a plain-text leg: everything, secrets marked.
func (r *run) plainContents(leg *Leg) {
	f := r.f
	leg.Visible = append(leg.Visible, Item{Label: "Sizes", Value: r.sizes()})
	reqLine := Item{Label: "Request", Value: f.Request.Method + " " + f.Request.URL}
	if r.url != nil {
		var why []string
		addWhy := func(s string) {
			if !slices.Contains(why, s) {
				why = append(why, s)
			}
		}
		urlLeaks(r.url, func(l urlLeak) bool { addWhy(l.where); return true })
		ScanFields(r.url.RawQuery, func(name, value string) bool {
			if value != "" && isSecretName(name) {
				addWhy("query: " + name)
			}
			return true
		})
		if len(why) > 0 {
			reqLine.Sensitive, reqLine.Why = true, "secrets in the URL: "+strings.Join(why, ", ")
		}
	}
	leg.Visible = append(leg.Visible, reqLine)
	leg.Visible = append(leg.Visible, headerItems("Request header ", f.Request.Header)...)
	if f.Request.Body.Size > 0 || len(f.Request.Body.Data) > 0 {
		body := Item{Label: "Request body", Value: bodyLabel(f.Request.Header, f.Request.Body)}
		var fields []string
		bodyFields(f.Request.Header, f.Request.Body, func(source, name, value string) bool {
			if value != "" && isSecretName(name) {
				fields = append(fields, source+": "+name)
			}
			return len(fields) < maxFieldFindings
		})
		if len(fields) > 0 {
			body.Sensitive, body.Why = true, "secret fields: "+strings.Join(fields, ", ")
		}
		leg.Visible = append(leg.Visible, body)
	}
	if f.Response != nil {
		leg.Visible = append(leg.Visible, Item{Label: "Response status", Value: fmt.Sprintf("%s %d", f.Response.Proto, f.Response.Status)})
		leg.Visible = append(leg.Visible, headerItems("Response header ", f.Response.Header)...)
		leg.Visible = append(leg.Visible, Item{Label: "Response body", Value: bodyLabel(f.Response.Header, f.Response.Body)})
	}
	leg.Notes = append(leg.Notes, "plain text: everything on this leg is readable and changeable")
}

// hiddenContents lists what TLS hides on an encrypted leg.
func (r *run) hiddenContents(leg *Leg) {
	f := r.f
	path := f.Request.URL
	if r.url != nil {
		path = r.url.RequestURI()
	}
	leg.Hidden = append(leg.Hidden, Item{Label: "Request", Value: f.Request.Method + " " + path,
		Why: "method, path and query travel inside TLS"})
	for _, name := range sortedKeys(f.Request.Header) {
		leg.Hidden = append(leg.Hidden, Item{Label: "Request header " + name, Value: strings.Join(f.Request.Header[name], "; ")})
	}
	leg.Hidden = append(leg.Hidden, Item{Label: "Request body", Value: bodyLabel(f.Request.Header, f.Request.Body)})
	if f.Response != nil {
		leg.Hidden = append(leg.Hidden, Item{Label: "Response status", Value: fmt.Sprint(f.Response.Status)})
		for _, name := range sortedKeys(f.Response.Header) {
			leg.Hidden = append(leg.Hidden, Item{Label: "Response header " + name, Value: strings.Join(f.Response.Header[name], "; ")})
		}
		leg.Hidden = append(leg.Hidden, Item{Label: "Response body", Value: bodyLabel(f.Response.Header, f.Response.Body)})
	}
}

func sortedKeys(h http.Header) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// headerItems lists headers in name order, marking secrets.
func headerItems(prefix string, h http.Header) []Item {
	items := make([]Item, 0, len(h))
	for _, name := range sortedKeys(h) {
		it := Item{Label: prefix + name, Value: strings.Join(h[name], "; ")}
		switch {
		case name == "Cookie" || name == "Set-Cookie":
			it.Sensitive, it.Why = true, "cookies"
		case name == "Authorization" || name == "Proxy-Authorization":
			it.Sensitive, it.Why = true, "credentials"
		case name == "Referer":
			for _, v := range h[name] {
				if u, err := url.Parse(v); err == nil {
					urlLeaks(u, func(l urlLeak) bool {
						it.Sensitive, it.Why = true, l.what+" in the referring URL"
						return false
					})
				}
			}
		case isSecretName(name):
			it.Sensitive, it.Why = true, "secret-looking header name"
		}
		items = append(items, it)
	}
	return items
}

func bodyLabel(h http.Header, b flow.Body) string {
	s := fmt.Sprintf("%d bytes", b.Size)
	if ct := headerValue(h, "Content-Type"); ct != "" {
		s += " (" + mediaType(ct) + ")"
	}
	return s
}

// activeAttacks lists what an active on-path attacker could add.
func (r *run) activeAttacks() []string {
	if r.f.Kind == flow.KindTunnel {
		return []string{"block or delay the tunnel; its contents stay encrypted if it is TLS"}
	}
	if r.local {
		return []string{"none from the network: " + r.host + " is this machine"}
	}
	var out []string
	if !r.https {
		out = append(out, "rewrite this http:// exchange: change the page, inject script, or redirect the user")
	}
	noHSTS := !r.https || r.f.Response == nil || len(r.f.Response.Header["Strict-Transport-Security"]) == 0
	if noHSTS && r.host != "" && !isIPHost(r.host) {
		out = append(out, "strip TLS on a first http:// visit: "+r.host+" sent no Strict-Transport-Security here")
	}
	var notSecure, unprefixed []string
	for i := range r.set {
		c := &r.set[i]
		if c.Deletion || c.Ignored != "" {
			continue
		}
		if !c.Secure {
			notSecure = append(notSecure, c.Name)
		}
		if c.Prefix == "" {
			unprefixed = append(unprefixed, c.Name)
		}
	}
	if len(notSecure) > 0 {
		out = append(out, "trigger an http:// request to "+r.host+" to collect the cookies without Secure: "+strings.Join(notSecure, ", "))
	}
	inject := "inject cookies over http:// that https://" + r.host + " then receives (only __Secure- and __Host- cookies are immune)"
	if len(unprefixed) > 0 {
		inject += "; could shadow: " + strings.Join(unprefixed, ", ")
	}
	out = append(out, inject)
	if t := r.f.Server.TLS; t != nil {
		if t.VerifyError != "" {
			out = append(out, "impersonate the server: its certificate did not verify ("+t.VerifyError+") and the request went ahead")
		}
		if t.Version != 0 && t.Version < tls.VersionTLS12 {
			out = append(out, "attack the deprecated "+t.VersionName()+" connection to the server")
		}
	}
	return out
}
