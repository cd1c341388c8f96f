package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"onpath/audit"
	"onpath/ca"
	"onpath/control"
	"onpath/flow"
	"onpath/proxy"
	"onpath/store"
	"onpath/ui"
)

type serveOptions struct {
	listen          string
	dir             string
	noUI            bool
	insecure        bool
	upstreamCAs     multiFlag
	passthrough     multiFlag
	bodyLimit       sizeFlag
	caKeyType       string
	idleTimeout     time.Duration
	responseTimeout time.Duration
	headerTimeout   time.Duration
	allowRemote     bool
	proxyAuth       string
	keep            int
	maxDBSize       sizeFlag
}

func runProxy(ctx context.Context, e *env, args []string) error {
	o := serveOptions{bodyLimit: sizeFlag{16 << 20}}
	fs := newFlagSet(e, "")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to listen on (loopback unless you mean it)")
	fs.StringVar(&o.dir, "dir", "", "data dir holding the CA and the flow store (default $ONPATH_DIR, else ~/.onpath)")
	fs.BoolVar(&o.noUI, "no-ui", false, "no viewer: one line per finished flow on stdout")
	fs.BoolVar(&o.insecure, "insecure", false, "do not refuse upstreams whose certificate fails verification (the failure is still recorded)")
	fs.Var(&o.upstreamCAs, "upstream-ca", "PEM file of an extra CA to trust for upstream servers (repeatable)")
	fs.Var(&o.passthrough, "passthrough", "host glob to tunnel without decrypting, e.g. '*.apple.com' (repeatable)")
	fs.Var(&o.bodyLimit, "body-limit", "bytes of each body to record; the client always gets all of it")
	fs.StringVar(&o.caKeyType, "ca-key-type", "ecdsa", "key type of a CA created now: ecdsa or rsa")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", 2*time.Minute, "close client connections and tunnels idle this long")
	fs.DurationVar(&o.responseTimeout, "response-timeout", 60*time.Second, "answer 504 when the upstream sends no response headers within this time")
	fs.DurationVar(&o.headerTimeout, "header-timeout", proxy.DefaultHeaderTimeout, "disconnect clients that take longer to send a request's headers (slowloris)")
	fs.BoolVar(&o.allowRemote, "allow-remote", false, "allow --listen on an address other machines can reach (requires --proxy-auth)")
	fs.StringVar(&o.proxyAuth, "proxy-auth", "", "require clients to authenticate to the proxy with USER:PASS (Basic); $ONPATH_PROXY_AUTH keeps it out of ps")
	fs.IntVar(&o.keep, "keep", 0, "keep at most N flows, deleting the oldest while running (0: keep all)")
	fs.Var(&o.maxDBSize, "max-db-size", "keep the flow store under about SIZE, deleting the oldest flows while running (0: no limit)")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unknown command %q", rest[0])
	}
	if o.keep < 0 {
		return usagef("--keep must be 0 (keep all) or more")
	}
	if o.proxyAuth == "" {
		// Command lines are visible to every local user (ps); the
		// environment is not.
		o.proxyAuth = e.getenv("ONPATH_PROXY_AUTH")
	}
	auth, err := checkRemoteListen(o.listen, o.allowRemote, o.proxyAuth)
	if err != nil {
		return err
	}
	dir, err := e.dataDir(o.dir)
	if err != nil {
		return err
	}
	if err := tightenModes(dir, e.Err); err != nil {
		return err
	}
	authority, created, err := loadCA(dir, o.caKeyType)
	if err != nil {
		return err
	}
	roots, err := upstreamRoots(o.upstreamCAs)
	if err != nil {
		return err
	}
	leaves, err := authority.NewLeaves(4096)
	if err != nil {
		return err
	}
	interactive := !o.noUI && isTerminal(e.Out)
	storeOpts := store.Options{Keep: o.keep, MaxSize: o.maxDBSize.n}
	if !interactive {
		// The viewer shows recorder errors in its status bar; without it
		// they go to stderr, loudly but not once per retry.
		storeOpts.OnError = newErrorReporter(e.Err, 30*time.Second).report
	}
	st, err := openStoreWith(dir, storeOpts)
	if err != nil {
		return err
	}
	defer st.Close()

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v\nIs another proxy using that port? Choose another with --listen 127.0.0.1:PORT.", o.listen, err)
	}
	rec := &recorder{store: st, checker: audit.NewChecker(time.Now)}
	p := &proxy.Proxy{
		Certificate:     leaves.Get,
		CACertPEM:       authority.CertPEM(),
		CACertDER:       authority.CertDER(),
		UpstreamRoots:   roots,
		Insecure:        o.insecure,
		Passthrough:     o.passthrough,
		BodyLimit:       o.bodyLimit.n,
		IdleTimeout:     o.idleTimeout,
		ResponseTimeout: o.responseTimeout,
		HeaderTimeout:   o.headerTimeout,
		ProxyAuth:       auth,
		NewID:           st.NextID,
		OnFinish:        rec.finished,
	}
	backend := &localBackend{store: st, replayer: p, checker: rec.checker}
	var viewer *ui.Viewer
	if interactive {
		status := ui.Status{Listen: ln.Addr().String(), CAFingerprint: authority.Fingerprint(),
			QueueDepth: st.QueueDepth, RecorderError: st.LastError}
		opts := viewerOptions(e, dir, st, status, backend)
		opts.Live = true
		viewer = ui.New(opts)
		rec.notify = viewer.Notify
		// Only the viewer shows flows in progress; without it, starting a
		// flow costs nothing extra.
		p.OnStart = rec.started
	} else {
		rec.lines = e.Out
	}

	ctl, err := control.Listen(control.SocketPath(dir))
	if err != nil {
		ln.Close()
		return fmt.Errorf("%v\nIs another onpath running on %s? Stop it, or use another --dir.", err, dir)
	}
	ctlServer := &control.Server{Backend: backend}
	ctlDone := make(chan struct{})
	go func() {
		defer close(ctlDone)
		ctlServer.Serve(ctl)
	}()

	writeBanner(e, ln.Addr().String(), dir, authority, created, o)

	served := make(chan error, 1)
	go func() { served <- p.Serve(ln) }()

	var runErr error
	if viewer != nil {
		viewCtx, stopViewer := context.WithCancel(ctx)
		viewed := make(chan error, 1)
		go func() { viewed <- runViewer(viewCtx, viewer) }()
		viewerDone := false
		select {
		case runErr = <-viewed: // the user quit
			viewerDone = true
		case runErr = <-served:
		case <-ctx.Done():
		}
		stopViewer()
		if !viewerDone {
			<-viewed // the terminal is restored before anything more is printed
		}
	} else {
		select {
		case <-ctx.Done():
		case runErr = <-served:
		}
	}
	fmt.Fprintln(e.Err, "onpath: shutting down: finishing flows in progress and saving them…")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.Shutdown(shutdownCtx); err != nil && runErr == nil {
		runErr = fmt.Errorf("shutdown: %w", err)
	}
	ctlServer.Shutdown(shutdownCtx)
	// Closed here too, in case Serve had not started: once Run returns,
	// nothing answers on the socket and the next onpath may take the dir.
	ctl.Close()
	<-ctlDone
	if err := st.Close(); err != nil {
		return fmt.Errorf("saving flows: %w", err)
	}
	return runErr
}

// openStore opens dir/flows.db, saying what to do when it cannot.
func openStore(dir string) (*store.Store, error) { return openStoreWith(dir, store.Options{}) }

func openStoreWith(dir string, opts store.Options) (*store.Store, error) {
	path := filepath.Join(dir, "flows.db")
	st, err := store.Open(path, opts)
	switch {
	case err == nil:
		return st, nil
	case errors.Is(err, store.ErrLocked):
		return nil, fmt.Errorf("%s is in use by another onpath process.\nStop that process, or run this one with another --dir.", path)
	case errors.Is(err, store.ErrCorrupt):
		return nil, fmt.Errorf("%s is not a readable onpath flow store, and was left as it is.\n(%v)\nTo start afresh, move it away (mv %s %s.bad) and run onpath again; the flows in it will not be shown.", path, errors.Unwrap(err), path, path)
	case errors.Is(err, store.ErrNewerFormat):
		return nil, fmt.Errorf("%s was written by a newer onpath and was left as it is. Upgrade onpath, or use another --dir.", path)
	}
	return nil, err
}

// upstreamRoots is the system pool plus each --upstream-ca file.
func upstreamRoots(files []string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--upstream-ca: %v", err)
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("--upstream-ca %s: no PEM certificate found in the file", f)
		}
	}
	return pool, nil
}

func writeBanner(e *env, addr, dir string, authority *ca.CA, created bool, o serveOptions) {
	if created {
		fmt.Fprintf(e.Err, "onpath: created a new developer CA in %s\n", dir)
	}
	fmt.Fprintf(e.Err, `onpath listening on http://%s
  data dir     %s
  CA           %s
  SHA-256      %s
Trust the CA once ('onpath ca' shows how), then point your client at the proxy:
  curl --proxy http://%s --cacert %s https://example.com/
  chromium --proxy-server=http://%s --proxy-bypass-list='<-loopback>'
`, addr, dir, authority.CertPath(), authority.Fingerprint(), addr, authority.CertPath(), addr)
	if o.proxyAuth != "" {
		user, _, _ := strings.Cut(o.proxyAuth, ":")
		fmt.Fprintf(e.Err, "  Proxy authentication is required (user %q): curl --proxy-user USER:PASS ...\n", user)
	}
	if o.allowRemote {
		fmt.Fprintln(e.Err, "  WARNING: --allow-remote: other machines can reach this proxy; everything it records is readable by whoever holds the credentials.")
	}
	if o.insecure {
		fmt.Fprintln(e.Err, "  WARNING: --insecure: upstream certificates are not enforced (failures are recorded).")
	}
	fmt.Fprintln(e.Err, "Press Ctrl-C to stop.")
}

// flowID parses a flow id argument.
func flowID(s string) (flow.ID, error) {
	var id uint64
	if _, err := fmt.Sscan(s, &id); err != nil || id == 0 || fmt.Sprint(id) != s {
		return 0, usagef("%q is not a flow id (a positive number, as 'onpath flows' lists)", s)
	}
	return flow.ID(id), nil
}
