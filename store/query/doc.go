// Package query is the one filter language of onpath, shared by
// `onpath flows QUERY`, `onpath audit QUERY` and the viewer's `/` filter.
//
// A query is a list of space-separated terms that must all match (AND):
//
//	login                  the URL contains "login" (case-insensitive)
//	host:*.example.com     host glob, without the port; no * means an exact host
//	method:GET|POST        request method
//	status:4xx|404|500-599 status class, exact status or range
//	scheme:https           URL scheme
//	has:finding            also has:error, has:body, has:cookie, has:replay, has:import
//	severity:medium        worst finding is at least medium
//	cookie:sessionid       a cookie sent in Cookie or set by Set-Cookie
//	header:X-Api-Key=abc   a request or response header, value contains "abc"
//	body:password          request or response body contains "password"
//	id:42 or id:10-20      flow ids
//	kind:tunnel            flow kind (http, tunnel)
//	replay:7               replays of flow 7
//
// A leading "-" negates a term; double quotes group a phrase
// ("a b", header:"X-A=b c"). The empty query matches every flow.
//
// The package is pure (standard library, flow and flow/content): it parses
// text and matches flow.Summary and flow.Flow values. Many terms can be decided from a summary alone, which
// lets the store scan a million flows without decoding records
// (see Query.NeedsFlow).
//
// Caveats: body: searches bodies as captured, which may be truncated at the
// proxy's capture limit; a secret past the limit is not found. Bodies are
// content-decoded (gzip, deflate, br, zstd) with at most 64 MiB of output
// per body, so a compression bomb cannot exhaust memory; a body that does
// not decode is searched raw.
package query
