// Package audit turns recorded flows into findings and an exposure view.
//
// It owns the Set-Cookie and Cookie parsers (RFC 6265bis-22 semantics as
// summarised in RULES.md), the session-cookie classifier, the rules
// CK01–CK12, TX01–TX09, LK01–LK02 and XF01, the per-flow cookie table and
// the on-path exposure view (what a passive observer of each leg reads,
// what TLS hides, what an active attacker can add).
//
// The package is pure: it does no I/O and never reads the clock; callers
// pass the time in. A Checker is safe for concurrent use; everything else
// is a function of its arguments.
//
// Caveats:
//   - The rules describe what a browser would do with the traffic; a
//     non-browser client may behave differently (it may keep a cookie a
//     browser rejects, or ignore HSTS altogether).
//   - The on-path view is derived from what onpath recorded. onpath sees
//     only its own upstream TLS handshake, so it cannot tell whether the
//     client would have used Encrypted Client Hello towards the real server.
//   - Findings carry cookie and field names as evidence, never their
//     values, so findings can be shown or exported without leaking secrets.
//     The exposure view does carry values (it is shown to the user who
//     captured the traffic); items holding secrets are marked Sensitive so
//     a display can mask them.
//   - Body scans read a bounded prefix of the decoded body (MaxScanBytes);
//     content past it is not audited. The HTML scan is a hand tag scanner,
//     not a parser; a cheap pre-filter skips it for pages with no "http:"
//     inside a loading tag, and can miss one whose start is hidden behind a
//     '<' inside an earlier attribute value.
//   - Cross-flow state (XF01, TX04 once per host) is bounded; on very long
//     runs the oldest entries are forgotten first.
//
// Readings of RULES.md where it is terse (each also noted at the code):
//   - Rejection rules (CK01, CK06 None-without-Secure, CK08, CK10, CK11)
//     fire on deletions too, since a rejected deletion deletes nothing; the
//     other cookie-flag rules skip deletions.
//   - localhost is a secure origin for cookies, as in browsers: CK01 and the
//     "over http" part of CK08 stay silent for L hosts.
//   - Network rules (CK02, CK03, CK12, TX01–TX09, XF01) are capped at info
//     for L hosts; the message says so.
//   - A form action to http: is TX07, not TX06; <a href> links are not
//     mixed content.
//   - CK11 "cookie name repeated" counts lines with the same name, domain
//     and path (the cookie's identity), not the name alone.
package audit
