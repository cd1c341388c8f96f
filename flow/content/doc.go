// Package content decodes message bodies for display and analysis.
//
// The proxy forwards bodies exactly as the server sent them; decoding
// (gzip, deflate, br, zstd) happens only here, on the captured copy.
//
// Caveats: a compressed body can expand enormously (a decompression
// bomb). Every decoder here stops at a caller-given output limit and
// reports ErrTooLarge rather than allocating without bound.
package content
