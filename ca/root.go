package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"os/user"
	"strings"
	"time"
	"unicode/utf8"
)

// KeyType selects the algorithm of a new CA key (and of its leaf keys).
type KeyType string

const (
	KeyECDSA KeyType = "ecdsa" // ECDSA P-256, the default
	KeyRSA   KeyType = "rsa"   // RSA-2048, for old clients without ECDSA
)

const (
	// rootValidityYears is how long a new CA certificate is valid.
	rootValidityYears = 10
	// expiryWarning: Load warns when the CA has less than this left.
	expiryWarning = 30 * 24 * time.Hour
)

// Options tune Create, Load and LoadOrCreate. The zero value is ready to use.
type Options struct {
	// KeyType of a new CA; empty means KeyECDSA. Load ignores it: a loaded
	// CA keeps the algorithm of its key.
	KeyType KeyType
	// Now is the clock for validity periods and the expiry check; nil means time.Now.
	Now func() time.Time
	// Subject tells installs apart, e.g. "alice@laptop"; empty derives it
	// from the current user and host name.
	Subject string
	// Logger receives warnings (a directory or key file readable by others)
	// and the creation of a CA; nil means silent.
	Logger *slog.Logger
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// CA is a loaded developer CA: its certificate and private key. It is safe
// for concurrent use; it never changes after Load or Create.
type CA struct {
	dir     string
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
	keyType KeyType
	now     func() time.Time
	log     *slog.Logger
}

// Create makes a new CA in dir (created with mode 0700 if missing) and
// writes ca.pem (0644) and ca-key.pem (0600). It fails, wrapping
// fs.ErrExist, if either file already exists: an existing CA is never
// replaced.
func Create(dir string, opts Options) (*CA, error) {
	keyType := opts.KeyType
	if keyType == "" {
		keyType = KeyECDSA
	}
	if keyType != KeyECDSA && keyType != KeyRSA {
		return nil, fmt.Errorf("ca: key type %q (want %q or %q): %w", keyType, KeyECDSA, KeyRSA, ErrUnknownKeyType)
	}
	log := opts.logger()
	created, err := ensureDir(dir)
	if err != nil {
		return nil, err
	}
	if !created {
		warnIfShared(log, dir)
	}
	certPath, keyPath := CertPath(dir), KeyPath(dir)
	for _, p := range []string{certPath, keyPath} {
		if _, err := os.Lstat(p); err == nil {
			return nil, fmt.Errorf("ca: create in %s: %s already exists: %w", dir, p, fs.ErrExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("ca: create in %s: %w", dir, err)
		}
	}

	key, err := generateKey(keyType)
	if err != nil {
		return nil, err
	}
	subject := opts.Subject
	if subject == "" {
		subject = defaultSubject()
	}
	template, err := rootTemplate(subject, opts.now())
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("ca: sign root certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: parse new root certificate: %w", err)
	}
	keyPEM, err := encodeKeyPEM(key)
	if err != nil {
		return nil, err
	}
	certPEM := encodeCertPEM(der)

	// Key first: a crash between the two writes leaves a lone key, which
	// Load reports as ErrIncomplete rather than a certificate nobody can use.
	if err := writeFileExclusive(keyPath, keyPEM, keyMode); err != nil {
		return nil, err
	}
	if err := writeFileExclusive(certPath, certPEM, certMode); err != nil {
		// The key was written by this call a moment ago; without its
		// certificate it is useless, so take it back.
		_ = os.Remove(keyPath)
		return nil, err
	}
	c := &CA{dir: dir, cert: cert, certPEM: certPEM, key: key, keyType: keyType, now: opts.now, log: log}
	log.Info("created CA", "cert", certPath, "key", keyPath, "fingerprint", c.Fingerprint(), "key_type", string(keyType))
	return c, nil
}

// Load reads the CA in dir and checks it: both files present and parseable,
// the key matching the certificate, the certificate a self-signed CA that
// may sign certificates, and valid now. Errors wrap ErrNotFound,
// ErrIncomplete, ErrCorrupt, ErrMismatch, ErrNotCA or ErrExpired (or the
// file system error when a file is unreadable) and name the file. Load
// never writes.
func Load(dir string, opts Options) (*CA, error) {
	log := opts.logger()
	certPath, keyPath := CertPath(dir), KeyPath(dir)
	certData, certErr := os.ReadFile(certPath)
	keyData, keyErr := os.ReadFile(keyPath)
	certMissing, keyMissing := errors.Is(certErr, fs.ErrNotExist), errors.Is(keyErr, fs.ErrNotExist)
	switch {
	case certMissing && keyMissing:
		return nil, fmt.Errorf("ca: no %s or %s in %s: %w", certFileName, keyFileName, dir, ErrNotFound)
	case certMissing:
		return nil, fmt.Errorf("ca: %s is missing but %s exists: %w", certPath, keyPath, ErrIncomplete)
	case keyMissing:
		return nil, fmt.Errorf("ca: %s is missing but %s exists: %w", keyPath, certPath, ErrIncomplete)
	case certErr != nil:
		return nil, fmt.Errorf("ca: read %s: %w", certPath, certErr)
	case keyErr != nil:
		return nil, fmt.Errorf("ca: read %s: %w", keyPath, keyErr)
	}

	cert, err := decodeCertPEM(certPath, certData)
	if err != nil {
		return nil, err
	}
	key, err := decodeKeyPEM(keyPath, keyData)
	if err != nil {
		return nil, err
	}
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, fmt.Errorf("ca: the key in %s does not belong to the certificate in %s: %w", keyPath, certPath, ErrMismatch)
	}
	if err := checkRoot(cert); err != nil {
		return nil, fmt.Errorf("ca: %s: %w", certPath, err)
	}
	now := opts.now()
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("ca: %s expired on %s: %w", certPath, cert.NotAfter.UTC().Format(time.DateOnly), ErrExpired)
	}
	if now.Before(cert.NotBefore) {
		return nil, fmt.Errorf("ca: %s is not valid before %s (is the clock right?): %w", certPath, cert.NotBefore.UTC().Format(time.RFC3339), ErrExpired)
	}

	if left := cert.NotAfter.Sub(now); left < expiryWarning {
		log.Warn("CA certificate expires soon; create a new CA and trust it before then",
			"cert", certPath, "not_after", cert.NotAfter, "days_left", int(left.Hours()/24))
	}
	warnIfShared(log, dir)
	if info, err := os.Stat(keyPath); err == nil && info.Mode().Perm()&0o077 != 0 {
		log.Warn("CA key file is readable by other users", "path", keyPath, "mode", info.Mode().Perm().String())
	}
	keyType := KeyECDSA
	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		keyType = KeyRSA
	}
	return &CA{dir: dir, cert: cert, certPEM: encodeCertPEM(cert.Raw), key: key, keyType: keyType, now: opts.now, log: log}, nil
}

// LoadOrCreate loads the CA in dir, creating it only when neither file
// exists. Any other problem (one file missing, corrupt, mismatched, expired)
// is returned as Load reports it; nothing is overwritten.
func LoadOrCreate(dir string, opts Options) (ca *CA, created bool, err error) {
	ca, err = Load(dir, opts)
	if errors.Is(err, ErrIncomplete) && writtenWithin(dir, concurrentCreateWait) {
		// A lone file this fresh is most likely another onpath halfway
		// through Create, not a damaged CA.
		ca, err = loadWhileIncomplete(dir, opts, concurrentCreateWait)
	}
	if !errors.Is(err, ErrNotFound) {
		return ca, false, err
	}
	ca, err = Create(dir, opts)
	if errors.Is(err, fs.ErrExist) {
		// Another onpath is creating it at the same moment. It writes the
		// key first and the certificate right after, so give it a moment
		// to finish before reporting a lone key as incomplete.
		ca, err = loadWhileIncomplete(dir, opts, concurrentCreateWait)
		return ca, false, err
	}
	return ca, err == nil, err
}

// concurrentCreateWait bounds how long LoadOrCreate waits for another
// process to finish writing a CA it has started.
const concurrentCreateWait = 2 * time.Second

// writtenWithin reports whether ca.pem or ca-key.pem was modified less than
// d ago by the file system's clock.
func writtenWithin(dir string, d time.Duration) bool {
	for _, p := range []string{CertPath(dir), KeyPath(dir)} {
		if info, err := os.Stat(p); err == nil && time.Since(info.ModTime()) < d {
			return true
		}
	}
	return false
}

// loadWhileIncomplete retries Load while it reports ErrIncomplete, for at most wait.
func loadWhileIncomplete(dir string, opts Options, wait time.Duration) (*CA, error) {
	deadline := time.Now().Add(wait)
	for pause := time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
		ca, err := Load(dir, opts)
		if !errors.Is(err, ErrIncomplete) || time.Now().After(deadline) {
			return ca, err
		}
		time.Sleep(pause)
	}
}

// checkRoot reports, wrapping ErrNotCA, why cert cannot serve as onpath's root.
func checkRoot(cert *x509.Certificate) error {
	switch {
	case !cert.BasicConstraintsValid || !cert.IsCA:
		return fmt.Errorf("basic constraints do not say CA: %w", ErrNotCA)
	case cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return fmt.Errorf("key usage does not allow signing certificates: %w", ErrNotCA)
	}
	// Leaves are served with this certificate as the whole chain, so it must
	// be the root that clients trust, not an intermediate.
	if err := cert.CheckSignatureFrom(cert); err != nil {
		return fmt.Errorf("not self-signed: %w: %w", ErrNotCA, err)
	}
	return nil
}

func generateKey(keyType KeyType) (crypto.Signer, error) {
	switch keyType {
	case KeyRSA:
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("ca: generate RSA key: %w", err)
		}
		return key, nil
	case KeyECDSA:
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("ca: generate ECDSA key: %w", err)
		}
		return key, nil
	}
	return nil, fmt.Errorf("ca: key type %q: %w", keyType, ErrUnknownKeyType)
}

// randomSerial returns a positive random serial of up to 128 bits
// (CA/Browser Forum baseline: at least 64 bits of entropy).
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		serial, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("ca: random serial: %w", err)
		}
		if serial.Sign() > 0 {
			return serial, nil
		}
	}
}

func rootTemplate(subject string, now time.Time) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	notBefore := now.Add(-time.Hour).Truncate(time.Second)
	return &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization:       []string{"onpath development CA"},
			OrganizationalUnit: []string{truncateRunes(subject, 64)},
			CommonName:         truncateRunes("onpath CA "+subject, 64),
		},
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(rootValidityYears, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		// SubjectKeyId is left empty: x509.CreateCertificate derives it from
		// the public key for CA templates.
	}, nil
}

// defaultSubject is "user@host", so that two installs (and two users of one
// machine) get CAs with different names.
func defaultSubject() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return name + "@" + host
}

// truncateRunes cuts s to at most n bytes on a rune boundary (X.520 upper
// bound for CN and OU is 64 characters).
func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// warnIfShared logs when the data directory is open to other users.
func warnIfShared(log *slog.Logger, dir string) {
	if info, err := os.Stat(dir); err == nil && info.Mode().Perm()&0o077 != 0 {
		log.Warn("CA directory is accessible by other users; chmod 700 it", "dir", dir, "mode", info.Mode().Perm().String())
	}
}

// Cert is the CA certificate. Callers must not modify it.
func (c *CA) Cert() *x509.Certificate { return c.cert }

// CertDER is the CA certificate in DER form (for the .cer/.crt download).
func (c *CA) CertDER() []byte { return append([]byte(nil), c.cert.Raw...) }

// CertPEM is the CA certificate in PEM form, as stored in ca.pem.
func (c *CA) CertPEM() []byte { return append([]byte(nil), c.certPEM...) }

// KeyType is the algorithm of the CA key.
func (c *CA) KeyType() KeyType { return c.keyType }

// CertPath is the path of ca.pem.
func (c *CA) CertPath() string { return CertPath(c.dir) }

// KeyPath is the path of ca-key.pem.
func (c *CA) KeyPath() string { return KeyPath(c.dir) }

// Fingerprint is the SHA-256 of the certificate's DER, in uppercase hex
// pairs joined by colons, the form browsers and `openssl x509 -fingerprint
// -sha256` show.
func (c *CA) Fingerprint() string {
	sum := sha256.Sum256(c.cert.Raw)
	var b strings.Builder
	b.Grow(len(sum) * 3)
	for i, octet := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", octet)
	}
	return b.String()
}
