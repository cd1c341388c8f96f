package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"onpath/ca"
)

func runCA(ctx context.Context, e *env, args []string) error {
	fs := e.newCommand("ca")
	pem := fs.Bool("pem", false, "print the CA certificate in PEM form")
	der := fs.Bool("der", false, "print the CA certificate in DER form (binary)")
	keyType := fs.String("ca-key-type", "ecdsa", "key type of a CA created now: ecdsa or rsa")
	rest, dir, err := fs.parse(e, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("ca takes no arguments, got %q", rest)
	}
	if *pem && *der {
		return usagef("choose one of --pem and --der")
	}
	authority, created, err := loadCA(dir, *keyType)
	if err != nil {
		return err
	}
	switch {
	case *pem:
		_, err = e.Out.Write(authority.CertPEM())
		return err
	case *der:
		_, err = e.Out.Write(authority.CertDER())
		return err
	}
	if created {
		fmt.Fprintf(e.Err, "Created a new developer CA in %s.\n", dir)
	}
	writeCAReport(e.Out, authority)
	return nil
}

// loadCA loads the CA of dir, creating it when neither file exists yet.
// Every failure says what to do next; an existing file is never replaced.
func loadCA(dir, keyType string) (*ca.CA, bool, error) {
	if keyType != string(ca.KeyECDSA) && keyType != string(ca.KeyRSA) {
		return nil, false, usagef("--ca-key-type must be ecdsa or rsa, not %q", keyType)
	}
	authority, created, err := ca.LoadOrCreate(dir, ca.Options{KeyType: ca.KeyType(keyType)})
	if err == nil {
		return authority, created, nil
	}
	certPath, keyPath := ca.CertPath(dir), ca.KeyPath(dir)
	var hint string
	switch {
	case errors.Is(err, ca.ErrIncomplete):
		hint = fmt.Sprintf("restore the missing file from a backup, or move both %s and %s away to create a new CA (then trust the new one)", certPath, keyPath)
	case errors.Is(err, ca.ErrMismatch), errors.Is(err, ca.ErrCorrupt), errors.Is(err, ca.ErrNotCA):
		hint = fmt.Sprintf("restore the pair from a backup, or move both %s and %s away to create a new CA (then trust the new one)", certPath, keyPath)
	case errors.Is(err, ca.ErrExpired):
		hint = fmt.Sprintf("move %s and %s away to create a new CA, then trust the new one and remove the old one from your trust stores", certPath, keyPath)
	default:
		hint = fmt.Sprintf("check the permissions of %s", dir)
	}
	return nil, false, fmt.Errorf("%v\nThe files were left as they are. To fix: %s.", err, hint)
}

func writeCAReport(w io.Writer, authority *ca.CA) {
	cert := authority.Cert()
	path := authority.CertPath()
	fmt.Fprintf(w, `onpath developer CA
  certificate  %s
  private key  %s
  subject      %s
  SHA-256      %s
  valid        %s to %s
  key          %s

What the key allows: anyone who holds %s can issue certificates for any
website that this machine's browsers and tools will accept, and so read and
change your HTTPS traffic without a warning. It was made on this machine and
never leaves it; keep it that way. Remove the CA from your trust stores when
you stop using onpath.

How to trust it:
  Firefox          Settings > Privacy & Security > Certificates > View Certificates >
                   Authorities > Import, choose %s, tick "Trust this CA to identify websites".
  Chrome/Chromium  (Linux, NSS) certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n onpath -i %s
                   (certutil is in Debian's libnss3-tools)
  macOS            sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain %s
  Windows          certutil -addstore -f ROOT ca.pem   (in an administrator prompt)
  Debian/Ubuntu    sudo cp %s /usr/local/share/ca-certificates/onpath.crt && sudo update-ca-certificates
  curl             curl --proxy http://127.0.0.1:8080 --cacert %s https://example.com/
  Node             NODE_EXTRA_CA_CERTS=%s node app.js
  Python requests  REQUESTS_CA_BUNDLE=%s python app.py   (replaces the default bundle)
  Go               SSL_CERT_FILE=%s go run .               (replaces the system roots)
  Java             keytool -importcert -noprompt -alias onpath -file %s -cacerts -storepass changeit

Through the proxy, http://onpath.invalid/ serves the certificate (PEM and DER) and these steps.
Next: start the proxy with 'onpath', then point your client at http://127.0.0.1:8080.
`,
		path, authority.KeyPath(), cert.Subject.String(), authority.Fingerprint(),
		cert.NotBefore.Format(time.DateOnly), cert.NotAfter.Format(time.DateOnly), authority.KeyType(),
		authority.KeyPath(), path, path, path, path, path, path, path, path, path)
}
