// Package har writes flows as HAR 1.2 (HTTP Archive) and reads HAR files
// written by onpath, Chrome and Firefox DevTools, Charles and other tools
// back into flows.
//
// Spec: http://www.softwareishard.com/blog/har-12-spec/
//
// Export maps every flow to one entry: headers (every value), cookies,
// query string, post data with form params, response content (text when
// the decoded body is text, base64 otherwise), timings, server address and
// connection. What HAR cannot carry exactly (the raw wire bytes of an
// encoded or binary body, truncation, TLS on both legs, the error, the
// findings and the precise instants of every phase) goes into a custom
// "_onpath" object on the entry, so that export, import and export again
// gives the same HAR.
//
// Import marks every flow with the caller's import id and leaves flow ids
// zero: the store assigns them. HAR from other tools holds decoded bodies;
// see decodedBody for how such a body is stored so that display and
// replay treat it right.
//
// # Caveats
//
// A HAR file holds every secret of the flows it carries (cookies,
// Authorization headers, bodies, findings that point at them), in clear.
// Share it like the traffic itself.
//
// Reading is bounded: the input and the total of decoded body bytes are
// capped by the caller's limit, and a malformed file is reported with its
// line and column, or its entry index and field, never half-imported.
// The replay_of id restored from "_onpath" names a flow of the store that
// exported the file; in another store it may name an unrelated flow.
package har
