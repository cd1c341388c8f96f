// Package ui is onpath's terminal viewer, built on tcell.
//
// It is split the k9s way: a view-model (rows.go, listrow.go, body.go and
// the tab renderers) that turns flows into lines of styled spans and is
// pure, so it is tested with tables; and a thin tcell adapter (viewer.go,
// draw.go, keys.go) that owns the screen, the event loop and the input
// modes, tested with tcell's simulation screen and golden files.
//
// The viewer reads flows through small interfaces it declares itself
// (Source), so it never depends on how or where flows are stored. The
// running proxy tells it about flows through Notify, which never blocks:
// updates are coalesced into a pending set and one wake-up event.
//
// Caveats: the viewer shows every secret that crossed the proxy
// (cookies, Authorization headers, passwords in bodies) in clear on the
// terminal, on purpose; that is its job. Saving a body with `w` writes it
// to a file created with mode 0600 and never overwrites an existing file.
package ui
