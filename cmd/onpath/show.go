package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"onpath/flow"
	"onpath/flow/content"
)

func runShow(ctx context.Context, e *env, args []string) error {
	fs := e.newCommand("show")
	asJSON := fs.Bool("json", false, "every recorded field as JSON, bodies in base64")
	rest, dir, err := fs.parse(e, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("show needs one flow id, as 'onpath flows' lists them")
	}
	id, err := flowID(rest[0])
	if err != nil {
		return err
	}
	s, err := openBackend(e, dir, nil)
	if err != nil {
		return err
	}
	defer s.close()
	f, err := s.Flow(ctx, id)
	if err != nil {
		return cliError(err)
	}
	if *asJSON {
		enc := json.NewEncoder(e.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(f)
	}
	out := bufio.NewWriter(e.Out)
	defer out.Flush()
	writeFlow(out, f, time.Now())
	return nil
}

// writeFlow prints one flow in full for a person.
func writeFlow(w io.Writer, f *flow.Flow, now time.Time) {
	sum := f.Summarize()
	fmt.Fprintf(w, "Flow %d  %s %s\n", f.ID, methodWord(sum), f.Request.URL)
	fmt.Fprintf(w, "  started %s, took %s, status %s", f.Timings.Start.Local().Format("2006-01-02 15:04:05.000"), formatDuration(f.Timings.Duration()), statusWord(sum))
	if f.ReplayOf != 0 {
		fmt.Fprintf(w, ", replay of flow %d", f.ReplayOf)
		if f.Forced {
			fmt.Fprint(w, " (sent with a truncated body)")
		}
	}
	if f.ImportID != "" {
		fmt.Fprintf(w, ", imported (%s)", f.ImportID)
	}
	fmt.Fprintln(w)
	if f.Client.Addr != "" || f.Server.Addr != "" {
		fmt.Fprintf(w, "  client %s  server %s\n", orDash(f.Client.Addr), orDash(f.Server.Addr))
	}
	if f.Error != nil {
		fmt.Fprintf(w, "\nError (%s)\n  %s\n", f.Error.Phase, f.Error.Message)
	}
	if f.Tunnel != nil {
		fmt.Fprintf(w, "\nTunnel (passed through without decryption)\n  client to server %s, server to client %s\n",
			formatSize(f.Tunnel.BytesUp), formatSize(f.Tunnel.BytesDown))
	}
	if f.Kind != flow.KindTunnel {
		fmt.Fprintf(w, "\nRequest\n  %s %s %s\n", f.Request.Method, f.Request.URL, f.Request.Proto)
		writeHeaders(w, f.Request.Header)
		writeBody(w, f.Request.Header, f.Request.Body)
	}
	if r := f.Response; r != nil {
		fmt.Fprintf(w, "\nResponse\n  %s %d %s\n", r.Proto, r.Status, http.StatusText(r.Status))
		writeHeaders(w, r.Header)
		writeBody(w, r.Header, r.Body)
		if len(r.Trailer) > 0 {
			fmt.Fprintln(w, "  Trailers:")
			writeHeaders(w, r.Trailer)
		}
	}
	writeCookies(w, f, now)
	writeTLS(w, "client ↔ onpath", f.Client.TLS)
	writeTLS(w, "onpath ↔ server", f.Server.TLS)
	writeTimings(w, f.Timings)
	writeExposure(w, f)
	writeFindings(w, f.Findings)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeHeaders(w io.Writer, h http.Header) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range h[name] {
			fmt.Fprintf(w, "  %s: %s\n", name, v)
		}
	}
}

// writeBody prints a body decoded for reading when it is text, and its
// size otherwise.
func writeBody(w io.Writer, h http.Header, b flow.Body) {
	if b.Size == 0 {
		return
	}
	note := ""
	if b.Truncated {
		note = fmt.Sprintf(", recorded %s of it", formatSize(int64(len(b.Data))))
	}
	enc := h.Get("Content-Encoding")
	data, err := content.Decode(enc, b.Data, 0)
	if enc != "" {
		note += ", " + enc + "-encoded on the wire"
		if err != nil && !b.Truncated {
			note += fmt.Sprintf(" (could not decode: %v)", err)
		}
	}
	fmt.Fprintf(w, "\n  Body: %s%s\n", formatSize(b.Size), note)
	if !isText(h.Get("Content-Type"), data) {
		fmt.Fprintln(w, "  (binary; 'onpath show ID --json' has the bytes, 'onpath export --raw ID' the raw message)")
		return
	}
	text := string(data)
	if strings.Contains(h.Get("Content-Type"), "json") {
		var pretty strings.Builder
		var v any
		if json.Unmarshal(data, &v) == nil {
			enc := json.NewEncoder(&pretty)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if enc.Encode(v) == nil {
				text = pretty.String()
			}
		}
	}
	for line := range strings.Lines(strings.TrimRight(text, "\n")) {
		fmt.Fprintf(w, "  | %s", line)
		if !strings.HasSuffix(line, "\n") {
			fmt.Fprintln(w)
		}
	}
}

// isText says whether a body is shown as text: a textual media type, or
// no type and valid UTF-8 without NUL bytes.
func isText(contentType string, data []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	textual := strings.HasPrefix(mt, "text/") || strings.Contains(mt, "json") || strings.Contains(mt, "xml") ||
		strings.Contains(mt, "javascript") || mt == "application/x-www-form-urlencoded"
	if mt != "" && !textual {
		return false
	}
	return utf8.Valid(data) && !strings.ContainsRune(string(data), 0)
}

func writeTLS(w io.Writer, leg string, t *flow.TLSInfo) {
	if t == nil {
		return
	}
	fmt.Fprintf(w, "\nTLS %s\n  %s, %s", leg, t.VersionName(), t.CipherSuiteName())
	if t.ALPN != "" {
		fmt.Fprintf(w, ", ALPN %s", t.ALPN)
	}
	if len(t.OfferedALPN) > 0 {
		fmt.Fprintf(w, " (offered %s)", strings.Join(t.OfferedALPN, ", "))
	}
	if t.SNI != "" {
		fmt.Fprintf(w, ", SNI %s", t.SNI)
	}
	fmt.Fprintln(w)
	if len(t.Chain) > 0 {
		if t.Verified {
			fmt.Fprintln(w, "  certificate verified")
		} else if t.VerifyError != "" {
			fmt.Fprintf(w, "  certificate NOT verified: %s\n", t.VerifyError)
		}
	}
	for i, c := range t.Chain {
		fmt.Fprintf(w, "  [%d] %s\n      issuer %s\n      valid %s to %s\n", i, c.Subject, c.Issuer,
			c.NotBefore.Format(time.DateOnly), c.NotAfter.Format(time.DateOnly))
		if names := append(slices.Clone(c.DNSNames), c.IPAddresses...); len(names) > 0 {
			fmt.Fprintf(w, "      names %s\n", strings.Join(names, ", "))
		}
		fmt.Fprintf(w, "      SHA-256 %s\n", c.SHA256)
	}
}

func writeTimings(w io.Writer, t flow.Timings) {
	if t.Start.IsZero() {
		return
	}
	fmt.Fprintln(w, "\nTimings")
	phase := func(name string, from, to time.Time) {
		if !from.IsZero() && !to.IsZero() {
			fmt.Fprintf(w, "  %-14s %s\n", name, formatDuration(to.Sub(from)))
		}
	}
	phase("dns", t.DNSStart, t.DNSDone)
	phase("connect", t.ConnectStart, t.ConnectDone)
	phase("tls", t.TLSStart, t.TLSDone)
	phase("request sent", t.Start, t.RequestSent)
	phase("waiting", t.RequestSent, t.FirstByte)
	phase("receiving", t.FirstByte, t.End)
	phase("total", t.Start, t.End)
}

func writeFindings(w io.Writer, findings []flow.Finding) {
	if len(findings) == 0 {
		return
	}
	fmt.Fprintln(w, "\nFindings")
	for _, fd := range findings {
		fmt.Fprintf(w, "  %-6s %s  %s\n", fd.Severity, fd.Rule, fd.Message)
		if fd.Evidence != "" {
			fmt.Fprintf(w, "         evidence: %s\n", fd.Evidence)
		}
		if fd.Fix != "" {
			fmt.Fprintf(w, "         fix: %s\n", fd.Fix)
		}
	}
}
