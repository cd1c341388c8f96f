package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Stdio is where a command reads and writes.
type Stdio struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Exit codes, as the CLI contract documents them.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every command shares: its streams and the environment.
type env struct {
	Stdio
	getenv func(string) string
}

func commands() []command {
	return []command{
		{"ca", "show the developer CA and how to trust it (--pem, --der print it)", runCA},
		{"flows", "list recorded flows (--json for JSON Lines); 'flows clear [QUERY]' deletes", runFlows},
		{"show", "one flow in full", runShow},
		{"view", "the viewer over recorded flows, without proxying", runView},
		{"audit", "cookie and transport findings across recorded flows", runAudit},
		{"replay", "send a recorded request again (--edit to change it first)", runReplay},
		{"export", "write flows as HAR (--har FILE), a curl command (--curl ID) or raw HTTP (--raw ID)", runExport},
		{"import", "load flows from a HAR file (--har FILE)", runImport},
		{"store", "'store compact' reclaims the space of deleted flows (with the proxy stopped)", runStore},
	}
}

// Run executes the command line args and returns the exit code.
func Run(ctx context.Context, args []string, stdio Stdio, getenv func(string) string) int {
	e := &env{Stdio: stdio, getenv: getenv}
	run := runProxy
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name := args[0]
		if name == "help" {
			printUsage(e.Out)
			return exitOK
		}
		run = nil
		for _, c := range commands() {
			if c.name == name {
				run = c.run
			}
		}
		if run == nil {
			fmt.Fprintf(e.Err, "onpath: unknown command %q\n\n", name)
			printUsage(e.Err)
			return exitUsage
		}
		args = args[1:]
	}
	err := run(ctx, e, args)
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.Err, "onpath: %s\nRun 'onpath help' for the commands and their flags.\n", ue.msg)
		return exitUsage
	default:
		fmt.Fprintf(e.Err, "onpath: %s\n", err)
		return exitFailure
	}
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `onpath: an intercepting HTTPS debugging proxy.

Usage:
  onpath [--listen 127.0.0.1:8080] [--dir DIR] [--no-ui] [--insecure] [--upstream-ca FILE]...
         [--passthrough PATTERN]... [--body-limit SIZE] [--keep N] [--max-db-size SIZE]
         [--proxy-auth USER:PASS] [--allow-remote]
      Run the proxy. Point your browser or client at it and trust its CA ('onpath ca').
      'onpath -h' lists every flag.
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  onpath %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Every command takes --dir DIR (default $ONPATH_DIR, else ~/.onpath). 'onpath COMMAND -h' lists its flags.
`)
}

// newFlagSet makes a flag set whose errors come back as usage errors
// rather than exiting.
func newFlagSet(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("onpath "+name, flag.ContinueOnError)
	fs.SetOutput(e.Err)
	return fs
}

// parseInterspersed parses flags anywhere on the line ("show 12 --json"),
// returning the positional arguments in order.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// dirUsage documents the --dir flag every command takes.
const dirUsage = "data dir holding the CA and the flow store (default $ONPATH_DIR, else ~/.onpath)"

// commandLine is a subcommand's flags, --dir among them.
type commandLine struct {
	*flag.FlagSet
	dir *string
}

func (e *env) newCommand(name string) *commandLine {
	fs := newFlagSet(e, name)
	return &commandLine{FlagSet: fs, dir: fs.String("dir", "", dirUsage)}
}

// parse reads args, flags anywhere on the line, and resolves the data dir;
// it returns the positional arguments.
func (c *commandLine) parse(e *env, args []string) (rest []string, dir string, err error) {
	rest, err = parseInterspersed(c.FlagSet, args)
	if err != nil {
		return nil, "", err
	}
	dir, err = e.dataDir(*c.dir)
	return rest, dir, err
}

// open is parse followed by openBackend, for commands that only read or
// change recorded flows.
func (c *commandLine) open(e *env, args []string) (rest []string, s *session, err error) {
	rest, dir, err := c.parse(e, args)
	if err != nil {
		return nil, nil, err
	}
	s, err = openBackend(e, dir, nil)
	return rest, s, err
}

// dataDir resolves the data dir: the flag, then $ONPATH_DIR, then ~/.onpath.
func (e *env) dataDir(flagValue string) (string, error) {
	dir := flagValue
	if dir == "" {
		dir = e.getenv("ONPATH_DIR")
	}
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find your home directory (%v); pass --dir DIR or set ONPATH_DIR", err)
		}
		dir = filepath.Join(home, ".onpath")
	}
	return filepath.Abs(dir)
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
