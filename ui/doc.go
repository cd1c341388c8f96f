// Package ui is onpath's terminal viewer, built on tcell.
//
// It is split the k9s way:
//
//   - a view-model that turns flows into lines of styled spans (text.go)
//     whose roles a theme maps to colours or, on monochrome terminals and
//     under NO_COLOR, to attributes (theme.go). It is pure, so it is tested
//     with tables: listrow.go (list columns, status colours, path
//     shortening), rows.go (the compact list of a million summaries),
//     body.go (the body viewer: decoding, JSON, forms, hex, lazy lines,
//     search), pane.go (scrollable tab contents), detail.go, cookies.go,
//     exposure.go (the detail tabs), compare.go (a replay against its
//     original: status, headers, body size, identical decoded body), and
//     auditview.go (the adapter from the audit package's types);
//   - a thin tcell adapter that owns the screen, the event loop and the
//     input modes: viewer.go (Run, Notify), list.go, filter.go and
//     detailview.go (state), keys.go, draw.go, replay.go (r, R, o: the
//     Replay callback runs on a goroutine and posts its result back to the
//     loop), edit.go (e: the request as text in $EDITOR, with the screen
//     suspended), export.go (x: HAR, curl and HTTP text). It is tested with tcell's
//     simulation screen against golden files in testdata (refresh them with
//     go test ./ui -update), and once through the real binary in tmux.
//
// The viewer reads flows through an interface it declares itself (Source),
// which the store satisfies. The running proxy reports flows through
// Notify, which never blocks: updates are coalesced per flow into a pending
// set, and one wake-up event is posted to the screen only when none is
// outstanding; the event loop drains the pending set on every event, so a
// wake-up that could not be posted (full queue) is never lost.
//
// Filtering uses onpath/store/query, the one query language of the CLI
// and the viewer.
//
// Caveats: the viewer shows every secret that crossed the proxy (cookies,
// Authorization headers, passwords in bodies) in clear on the terminal, on
// purpose; that is its job, so mind who can see the screen. Bytes from the
// wire are sanitised before drawing (control characters are replaced) so a
// response cannot drive the terminal. Saving a body with `w` creates the
// file with mode 0600 and never overwrites an existing file. Exports (x)
// are written with mode 0600 too, and an existing file is replaced only
// after the user says yes (through a rename, so a failed write keeps the
// old file). Every export and edited request carries the flow's secrets in
// clear. The edit text lives in a private directory (0700, file 0600)
// under Options.EditDir, removed once sent; a text that does not parse is
// kept there, so nothing typed is lost, until it is sent. The editor
// command (Options.Editor, $VISUAL, $EDITOR) is run through /bin/sh: it
// is the user's own configuration, trusted like their shell.
package ui
