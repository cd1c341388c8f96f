// Package httptext turns recorded requests and responses into text a
// developer reads, edits and runs again:
//
//   - WriteRequest and WriteResponse print a message as HTTP/1.1 text
//     (onpath export --raw);
//   - WriteEditable and ParseEditable are the edit format of
//     onpath replay --edit: the request as text, a binary body kept in a
//     side file the text refers to;
//   - Curl builds a POSIX shell command that sends the request again
//     (onpath export --curl).
//
// The package is pure formatting: it reads and writes only the body files
// it is told about and never sends anything.
//
// # Caveats
//
// Everything written here carries the request's secrets (cookies,
// Authorization headers, bodies) in clear: body files are created with mode
// 0600, but the text and the curl command go wherever the caller sends
// them, shell history included.
//
// A body is written as text only when it is valid UTF-8 without control
// characters other than tab, CR and LF; anything else goes to a body file,
// so that neither an editor nor a terminal ever receives raw binary or
// escape sequences from captured traffic.
package httptext
