package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"onpath/flow"
	"onpath/har"
	"onpath/httptext"
)

// version is onpath's version, as written into HAR files.
const version = "0.1.0"

func runExport(ctx context.Context, e *env, args []string) error {
	fs := e.newCommand("export")
	harFile := fs.String("har", "", "write the flows matching QUERY as HAR 1.2 to FILE ('-' for stdout)")
	curlID := fs.String("curl", "", "print a curl command that sends flow ID's request again")
	rawID := fs.String("raw", "", "print flow ID's request and response as HTTP/1.1 text")
	rest, dir, err := fs.parse(e, args)
	if err != nil {
		return err
	}
	chosen := 0
	for _, v := range []string{*harFile, *curlID, *rawID} {
		if v != "" {
			chosen++
		}
	}
	if chosen != 1 {
		return usagef("export needs exactly one of --har FILE [QUERY], --curl ID, --raw ID")
	}
	s, err := openBackend(e, dir, nil)
	if err != nil {
		return err
	}
	defer s.close()

	switch {
	case *harFile != "":
		var flows []*flow.Flow
		if err := s.Flows(ctx, strings.Join(rest, " "), func(f *flow.Flow) error { flows = append(flows, f); return nil }); err != nil {
			return cliError(err)
		}
		return writeOutput(e, *harFile, func(w io.Writer) error {
			return har.Write(w, flows, har.Options{Creator: "onpath", Version: version, Findings: true})
		}, fmt.Sprintf("%d flows", len(flows)))
	case *curlID != "":
		if len(rest) > 0 {
			return usagef("--curl takes one flow id, not a query")
		}
		f, err := flowByArg(ctx, s, *curlID)
		if err != nil {
			return err
		}
		bodyDir, err := os.Getwd()
		if err != nil {
			return err
		}
		cmd, files, err := httptext.Curl(&f.Request, bodyDir)
		if err != nil {
			return err
		}
		for _, file := range files {
			fmt.Fprintf(e.Err, "Body written to %s (the command reads it).\n", file)
		}
		_, err = fmt.Fprintln(e.Out, cmd)
		return err
	default:
		if len(rest) > 0 {
			return usagef("--raw takes one flow id, not a query")
		}
		f, err := flowByArg(ctx, s, *rawID)
		if err != nil {
			return err
		}
		// HTTP/1.1 text whatever the version on the wire, so that the output
		// can be sent again as it is (nc, openssl s_client).
		out := bufio.NewWriter(e.Out)
		req := f.Request
		req.Proto = "HTTP/1.1"
		if err := httptext.WriteRequest(out, &req); err != nil {
			return err
		}
		if f.Response != nil {
			resp := *f.Response
			resp.Proto = "HTTP/1.1"
			fmt.Fprint(out, "\n\n")
			if err := httptext.WriteResponse(out, &resp); err != nil {
				return err
			}
		}
		return out.Flush()
	}
}

func flowByArg(ctx context.Context, s *session, arg string) (*flow.Flow, error) {
	id, err := flowID(arg)
	if err != nil {
		return nil, err
	}
	f, err := s.Flow(ctx, id)
	return f, cliError(err)
}

// writeOutput writes to path ("-" is stdout) through a temporary file, so
// a failed export never leaves half a file where a good one was.
func writeOutput(e *env, path string, write func(io.Writer) error, what string) error {
	if path == "-" {
		out := bufio.NewWriter(e.Out)
		if err := write(out); err != nil {
			return err
		}
		return out.Flush()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".onpath-export-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	// The export holds recorded secrets: private to the user like the store.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		tmp.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	fmt.Fprintf(e.Err, "Wrote %s to %s.\n", what, path)
	return nil
}

// maxImportSize bounds what a HAR import decodes, so a huge file gives an
// error rather than exhausting memory.
const maxImportSize = 512 << 20

func runImport(ctx context.Context, e *env, args []string) error {
	fs := e.newCommand("import")
	harFile := fs.String("har", "", "HAR file to load ('-' for stdin): from Chrome or Firefox DevTools, Charles, or onpath")
	rest, dir, err := fs.parse(e, args)
	if err != nil {
		return err
	}
	if *harFile == "" || len(rest) > 0 {
		return usagef("import needs --har FILE")
	}
	var r io.Reader = e.In
	if *harFile != "-" {
		file, err := os.Open(*harFile)
		if err != nil {
			return err
		}
		defer file.Close()
		r = file
	}
	flows, err := har.Read(bufio.NewReader(r), "", maxImportSize)
	if err != nil {
		return fmt.Errorf("%s: %v\nNothing was imported.", *harFile, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	s, err := openBackendCreating(e, dir)
	if err != nil {
		return err
	}
	defer s.close()
	res, err := s.Import(ctx, flows)
	if err != nil {
		return fmt.Errorf("import failed, nothing was stored: %w", err)
	}
	first, last := flow.ID(0), flow.ID(0)
	if len(res.IDs) > 0 {
		first, last = res.IDs[0], res.IDs[len(res.IDs)-1]
	}
	fmt.Fprintf(e.Out, "Imported %d flows (ids %d-%d, import %s).\n", len(res.IDs), first, last, res.ImportID)
	return nil
}
