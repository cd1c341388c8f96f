package ui

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gdamore/tcell/v2"

	"onpath/flow"
	"onpath/har"
	"onpath/httptext"
)

// exportKind is one entry of the export menu.
type exportKind uint8

const (
	exportHAR     exportKind = iota // the current flow as HAR
	exportHARView                   // every flow of the current view as HAR
	exportCurl                      // a curl command for the current flow
	exportRaw                       // request and response as HTTP/1.1 text
)

// exportMenu is the open `x` menu: what it offers for the current flow.
type exportMenu struct {
	f     *flow.Flow
	shown int // flows in the current view
}

// pendingExport is a chosen export waiting for its destination (and,
// when the file exists, for leave to replace it).
type pendingExport struct {
	kind exportKind
	f    *flow.Flow
	ids  []flow.ID // exportHARView with a filter: its matches when chosen
	all  bool      // exportHARView without a filter: every flow in the store
	path string
}

// openExportMenu opens the `x` menu for the current flow.
func (u *uiState) openExportMenu() {
	f, ok := u.currentFlow()
	if !ok {
		return
	}
	u.menu = &exportMenu{f: f, shown: u.viewLen()}
}

// menuLines are the export menu's lines.
func (m *exportMenu) lines(filtered bool) []string {
	which := fmt.Sprintf("every flow (%s)", groupDigits(m.shown))
	if filtered {
		which = fmt.Sprintf("the %s flows the filter shows", groupDigits(m.shown))
	}
	return []string{
		"Export",
		"",
		fmt.Sprintf("  h    HAR of #%d", m.f.ID),
		"  a    HAR of " + which,
		fmt.Sprintf("  c    curl command for #%d", m.f.ID),
		fmt.Sprintf("  t    #%d as HTTP text (request and response)", m.f.ID),
		"",
		"  Esc  cancel",
	}
}

// menuKey handles a key while the export menu is open.
func (u *uiState) menuKey(ev *tcell.EventKey) {
	m := u.menu
	if ev.Key() == tcell.KeyEsc {
		u.menu = nil
		return
	}
	kinds := map[rune]exportKind{'h': exportHAR, 'a': exportHARView, 'c': exportCurl, 't': exportRaw}
	kind, ok := kinds[ev.Rune()]
	if ev.Key() != tcell.KeyRune || !ok {
		return
	}
	u.menu = nil
	e := &pendingExport{kind: kind, f: m.f}
	name := map[exportKind]string{
		exportHAR:  fmt.Sprintf("onpath-%d.har", m.f.ID),
		exportCurl: fmt.Sprintf("onpath-%d.sh", m.f.ID),
		exportRaw:  fmt.Sprintf("onpath-%d.http", m.f.ID),
	}[kind]
	if kind == exportHARView {
		name = "onpath-flows.har"
		if u.filter != nil {
			e.ids = append([]flow.ID(nil), u.filter.ids...)
			name = "onpath-filtered.har"
		} else {
			// The list may still be loading older flows: the store, not
			// the rows loaded so far, says what "every flow" is.
			e.all = true
		}
	}
	dir := u.v.opts.ExportDir
	if dir == "" {
		dir = "."
	}
	label := map[exportKind]string{exportHAR: "export HAR to: ", exportHARView: "export HAR to: ",
		exportCurl: "write curl command to: ", exportRaw: "write HTTP text to: "}[kind]
	u.export = e
	u.prompt = &prompt{kind: promptExport, label: label, input: []rune(dir + string(filepath.Separator) + name)}
}

// submitExportPath takes the destination; an existing file is replaced
// only after the user says so.
func (u *uiState) submitExportPath(input string) {
	e := u.export
	if e == nil || strings.TrimSpace(input) == "" {
		u.export = nil
		return
	}
	abs, err := filepath.Abs(input)
	if err != nil {
		u.export = nil
		u.setError("export: %v", err)
		return
	}
	e.path = abs
	if _, err := os.Lstat(abs); err == nil {
		u.prompt = &prompt{kind: promptOverwrite, label: printable(abs) + " exists. Replace it? (y/n) "}
		return
	}
	u.runExport(false)
}

// runExport writes the pending export. A single flow is written at once;
// a HAR of the whole view reads its flows on a goroutine of its own.
func (u *uiState) runExport(overwrite bool) {
	e := u.export
	u.export = nil
	if e == nil {
		return
	}
	switch e.kind {
	case exportHAR:
		err := writeExport(e.path, overwrite, func(w io.Writer) error {
			return har.Write(w, []*flow.Flow{e.f}, u.harOptions())
		})
		u.exportDone(fmt.Sprintf("exported #%d as HAR to %s", e.f.ID, e.path), err)
	case exportRaw:
		err := writeExport(e.path, overwrite, func(w io.Writer) error { return writeRaw(w, e.f) })
		u.exportDone(fmt.Sprintf("wrote #%d as HTTP text to %s", e.f.ID, e.path), err)
	case exportCurl:
		cmd, files, err := httptext.Curl(&e.f.Request, filepath.Dir(e.path))
		if err == nil {
			err = writeExport(e.path, overwrite, func(w io.Writer) error {
				_, err := io.WriteString(w, "#!/bin/sh\n"+strings.TrimRight(cmd, "\n")+"\n")
				return err
			})
		}
		msg := fmt.Sprintf("wrote a curl command for #%d to %s", e.f.ID, e.path)
		if err != nil {
			for _, f := range files {
				os.Remove(f)
			}
		} else if len(files) > 0 {
			msg += " (body in " + strings.Join(files, ", ") + ")"
		}
		u.exportDone(msg, err)
	case exportHARView:
		u.exportView(e, overwrite)
	}
}

func (u *uiState) exportDone(msg string, err error) {
	if err != nil {
		u.v.log.Warn("ui: export", "err", err)
		u.setError("export failed: %v", err)
		return
	}
	u.setInfo(msg)
}

func (u *uiState) harOptions() har.Options {
	return har.Options{Creator: "onpath", Version: u.v.opts.Version, Findings: true}
}

// exportProgressEvery is how many flows a large export writes between
// progress updates in the bottom bar.
const exportProgressEvery = 2000

// exportView streams every flow of the view into a HAR file in the
// background; flows that cannot be read (deleted meanwhile) are counted
// and named in the result, never dropped silently.
func (u *uiState) exportView(e *pendingExport, overwrite bool) {
	what := groupDigits(len(e.ids))
	if e.all {
		what = "all"
	}
	t := u.startTask(fmt.Sprintf("exporting %s flows to %s…", what, e.path))
	v, src, opts, ctx := u.v, u.v.opts.Source, u.harOptions(), u.ctx
	go func() {
		var skipped int
		var firstSkip error
		err := writeExport(e.path, overwrite, func(w io.Writer) error {
			if e.all {
				if err := src.Summaries(ctx, 0, func(s flow.Summary) bool {
					e.ids = append(e.ids, s.ID)
					return true
				}); err != nil {
					return err
				}
			}
			enc := har.NewEncoder(w, opts)
			for i, id := range e.ids {
				if err := ctx.Err(); err != nil {
					return err
				}
				if i > 0 && i%exportProgressEvery == 0 {
					label := fmt.Sprintf("exporting to %s: %s of %s flows…", e.path, groupDigits(i), groupDigits(len(e.ids)))
					v.post(func(*uiState) { t.label = label })
				}
				f, err := src.Get(id)
				if err != nil {
					skipped++
					if firstSkip == nil {
						firstSkip = fmt.Errorf("#%d: %w", id, err)
					}
					continue
				}
				if err := enc.Encode(f); err != nil {
					return err
				}
			}
			return enc.Close()
		})
		v.post(func(u *uiState) {
			u.endTask(t)
			if err != nil {
				u.exportDone("", err)
				return
			}
			msg := fmt.Sprintf("exported %s flows as HAR to %s", groupDigits(len(e.ids)-skipped), e.path)
			if skipped > 0 {
				u.setError("%s; %d could not be read (%v)", msg, skipped, firstSkip)
				return
			}
			u.setInfo(msg)
		})
	}()
}

// writeRaw writes a flow's request and response as HTTP/1.1 text.
func writeRaw(w io.Writer, f *flow.Flow) error {
	if err := httptext.WriteRequest(w, &f.Request); err != nil {
		return err
	}
	if f.Response == nil {
		return nil
	}
	if _, err := io.WriteString(w, "\r\n\r\n"); err != nil {
		return err
	}
	return httptext.WriteResponse(w, f.Response)
}

// writeExport creates path with mode 0600 and fills it. Without
// overwrite an existing file is an error; with it, the new content is
// written beside the old file and renamed over it, so a failure leaves
// the old file whole. A failed write removes what it created.
func writeExport(path string, overwrite bool, fill func(io.Writer) error) error {
	if !overwrite {
		file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s already exists: choose another name", path)
			}
			return fmt.Errorf("ui: export: %w", err)
		}
		if err := fillAndClose(file, fill); err != nil {
			os.Remove(path)
			return fmt.Errorf("ui: export to %s: %w", path, err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".onpath-export-*")
	if err != nil {
		return fmt.Errorf("ui: export: %w", err)
	}
	if err := fillAndClose(tmp, fill); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("ui: export to %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("ui: export: replace %s: %w", path, err)
	}
	return nil
}

func fillAndClose(file *os.File, fill func(io.Writer) error) error {
	bw := bufio.NewWriter(file)
	err := fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = file.Sync()
	}
	return errors.Join(err, file.Close())
}
