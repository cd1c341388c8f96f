package ca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"io/fs"
	"log/slog"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// t0 is the fixed "now" of most tests.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// testClock is an injectable clock tests can move.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock(now time.Time) *testClock { return &testClock{now: now} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

func fixedNow(now time.Time) func() time.Time { return func() time.Time { return now } }

// createTestCA creates a CA in a fresh temporary directory.
func createTestCA(tb testing.TB, opts Options) (*CA, string) {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "onpath")
	if opts.Now == nil {
		opts.Now = fixedNow(t0)
	}
	if opts.Subject == "" {
		opts.Subject = "tester@testhost"
	}
	c, err := Create(dir, opts)
	if err != nil {
		tb.Fatalf("Create(%s): %v", dir, err)
	}
	return c, dir
}

// dirSnapshot maps each file name in dir to its mode and content.
type dirSnapshot map[string]string

func snapshotDir(tb testing.TB, dir string) dirSnapshot {
	tb.Helper()
	snap := dirSnapshot{}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return snap
	}
	if err != nil {
		tb.Fatalf("read dir %s: %v", dir, err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			tb.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		snap[e.Name()] = info.Mode().String() + "\n" + string(data)
	}
	return snap
}

func (want dirSnapshot) assertUnchanged(tb testing.TB, dir string) {
	tb.Helper()
	got := snapshotDir(tb, dir)
	if len(got) != len(want) {
		tb.Errorf("dir %s has %d entries, want %d (unchanged)", dir, len(got), len(want))
	}
	for name, content := range want {
		if got[name] != content {
			tb.Errorf("%s changed (or vanished) in %s", name, dir)
		}
	}
}

func mode(tb testing.TB, path string) fs.FileMode {
	tb.Helper()
	info, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return info.Mode().Perm()
}

func pemTypes(tb testing.TB, path string) []string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var types []string
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return types
		}
		types = append(types, block.Type)
	}
}

func TestCreateWritesFilesAndReloads(t *testing.T) {
	for _, keyType := range []KeyType{"", KeyECDSA, KeyRSA} {
		t.Run(string(keyType), func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "nested", "onpath")
			c, err := Create(dir, Options{KeyType: keyType, Now: fixedNow(t0), Subject: "alice@laptop"})
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if got, want := mode(t, dir), fs.FileMode(0o700); got != want {
				t.Errorf("dir mode = %v, want %v", got, want)
			}
			if got, want := mode(t, CertPath(dir)), fs.FileMode(0o644); got != want {
				t.Errorf("cert mode = %v, want %v", got, want)
			}
			if got, want := mode(t, KeyPath(dir)), fs.FileMode(0o600); got != want {
				t.Errorf("key mode = %v, want %v", got, want)
			}
			if got, want := c.CertPath(), filepath.Join(dir, "ca.pem"); got != want {
				t.Errorf("CertPath = %q, want %q", got, want)
			}
			if got, want := c.KeyPath(), filepath.Join(dir, "ca-key.pem"); got != want {
				t.Errorf("KeyPath = %q, want %q", got, want)
			}
			// Exactly the two files: no temporary file left behind.
			if got := snapshotDir(t, dir); len(got) != 2 {
				t.Errorf("dir holds %d entries, want 2: %v", len(got), keys(got))
			}
			if got, want := pemTypes(t, c.CertPath()), []string{"CERTIFICATE"}; !slices.Equal(got, want) {
				t.Errorf("ca.pem blocks = %v, want %v", got, want)
			}
			if got, want := pemTypes(t, c.KeyPath()), []string{"PRIVATE KEY"}; !slices.Equal(got, want) {
				t.Errorf("ca-key.pem blocks = %v, want %v", got, want)
			}
			wantType := keyType
			if wantType == "" {
				wantType = KeyECDSA
			}
			if c.KeyType() != wantType {
				t.Errorf("KeyType = %q, want %q", c.KeyType(), wantType)
			}

			loaded, err := Load(dir, Options{Now: fixedNow(t0.Add(24 * time.Hour))})
			if err != nil {
				t.Fatalf("Load after Create: %v", err)
			}
			if got, want := loaded.Fingerprint(), c.Fingerprint(); got != want {
				t.Errorf("reloaded fingerprint = %s, want %s", got, want)
			}
			if loaded.KeyType() != wantType {
				t.Errorf("reloaded KeyType = %q, want %q", loaded.KeyType(), wantType)
			}
			if !bytes.Equal(loaded.CertPEM(), c.CertPEM()) {
				t.Errorf("reloaded CertPEM differs")
			}
		})
	}
}

func TestRootCertificateProfile(t *testing.T) {
	for _, keyType := range []KeyType{KeyECDSA, KeyRSA} {
		t.Run(string(keyType), func(t *testing.T) {
			c, _ := createTestCA(t, Options{KeyType: keyType, Subject: "alice@laptop"})
			cert := c.Cert()
			if !cert.IsCA || !cert.BasicConstraintsValid {
				t.Errorf("IsCA=%v BasicConstraintsValid=%v, want both true", cert.IsCA, cert.BasicConstraintsValid)
			}
			if cert.MaxPathLen != 0 || !cert.MaxPathLenZero {
				t.Errorf("MaxPathLen=%d MaxPathLenZero=%v, want 0 and true", cert.MaxPathLen, cert.MaxPathLenZero)
			}
			if got, want := cert.KeyUsage, x509.KeyUsageCertSign|x509.KeyUsageCRLSign; got != want {
				t.Errorf("KeyUsage = %v, want %v", got, want)
			}
			if len(cert.SubjectKeyId) == 0 {
				t.Errorf("SubjectKeyId is empty")
			}
			if bits := cert.SerialNumber.BitLen(); bits < 64 || bits > 128 || cert.SerialNumber.Sign() <= 0 {
				t.Errorf("serial %x has %d bits, want positive and 64..128", cert.SerialNumber, bits)
			}
			if got, want := cert.NotBefore, t0.Add(-time.Hour); !got.Equal(want) {
				t.Errorf("NotBefore = %v, want %v", got, want)
			}
			if got, want := cert.NotAfter, t0.Add(-time.Hour).AddDate(10, 0, 0); !got.Equal(want) {
				t.Errorf("NotAfter = %v, want %v", got, want)
			}
			if got, want := cert.Subject.CommonName, "onpath CA alice@laptop"; got != want {
				t.Errorf("CN = %q, want %q", got, want)
			}
			if got, want := cert.Subject.OrganizationalUnit, []string{"alice@laptop"}; !slices.Equal(got, want) {
				t.Errorf("OU = %q, want %q", got, want)
			}
			if got, want := cert.Subject.Organization, []string{"onpath development CA"}; !slices.Equal(got, want) {
				t.Errorf("O = %q, want %q", got, want)
			}
			if got, want := cert.Issuer.String(), cert.Subject.String(); got != want {
				t.Errorf("Issuer = %q, want self-issued %q", got, want)
			}
			if err := cert.CheckSignatureFrom(cert); err != nil {
				t.Errorf("not self-signed: %v", err)
			}
			switch pub := cert.PublicKey.(type) {
			case *ecdsa.PublicKey:
				if keyType != KeyECDSA || pub.Curve != elliptic.P256() {
					t.Errorf("public key ECDSA %s, want %s", pub.Curve.Params().Name, keyType)
				}
			case *rsa.PublicKey:
				if keyType != KeyRSA || pub.N.BitLen() != 2048 {
					t.Errorf("public key RSA-%d, want %s", pub.N.BitLen(), keyType)
				}
			default:
				t.Errorf("public key %T", pub)
			}
		})
	}
}

func TestSerialsAndSubjectsDifferBetweenInstalls(t *testing.T) {
	a, _ := createTestCA(t, Options{Subject: "alice@laptop"})
	b, _ := createTestCA(t, Options{Subject: "bob@desktop"})
	if a.Cert().SerialNumber.Cmp(b.Cert().SerialNumber) == 0 {
		t.Errorf("two CAs share serial %x", a.Cert().SerialNumber)
	}
	if a.Cert().Subject.CommonName == b.Cert().Subject.CommonName {
		t.Errorf("two installs share CN %q", a.Cert().Subject.CommonName)
	}
	if a.Fingerprint() == b.Fingerprint() {
		t.Errorf("two CAs share fingerprint %s", a.Fingerprint())
	}
}

func TestDefaultSubjectNamesUserAndHost(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "onpath")
	c, err := Create(dir, Options{Now: fixedNow(t0)})
	if err != nil {
		t.Fatal(err)
	}
	subject := defaultSubject()
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	if !strings.HasSuffix(subject, "@"+host) || strings.HasPrefix(subject, "@") {
		t.Errorf("defaultSubject() = %q, want user@%s", subject, host)
	}
	if got, want := c.Cert().Subject.OrganizationalUnit, []string{truncateRunes(subject, 64)}; !slices.Equal(got, want) {
		t.Errorf("OU = %q, want %q", got, want)
	}
	if got, want := c.Cert().Subject.CommonName, truncateRunes("onpath CA "+subject, 64); got != want {
		t.Errorf("CN = %q, want %q", got, want)
	}
}

func TestLongSubjectIsTruncatedOnRuneBoundary(t *testing.T) {
	subject := strings.Repeat("é", 40) + "@host" // 85 bytes
	c, _ := createTestCA(t, Options{Subject: subject})
	for _, s := range append(c.Cert().Subject.OrganizationalUnit, c.Cert().Subject.CommonName) {
		if len(s) > 64 || !strings.HasPrefix(subject, strings.TrimPrefix(s, "onpath CA ")) {
			t.Errorf("name %q: want at most 64 bytes and a prefix of the subject", s)
		}
	}
}

func TestFingerprint(t *testing.T) {
	c, _ := createTestCA(t, Options{})
	got := c.Fingerprint()
	if !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(got) {
		t.Fatalf("Fingerprint = %q, want 32 uppercase hex pairs joined by colons", got)
	}
	sum := sha256.Sum256(c.CertDER())
	if want := strings.ToUpper(hex.EncodeToString(sum[:])); strings.ReplaceAll(got, ":", "") != want {
		t.Errorf("Fingerprint = %s, want SHA-256 %s", got, want)
	}
	block, _ := pem.Decode(c.CertPEM())
	if block == nil || !bytes.Equal(block.Bytes, c.CertDER()) {
		t.Errorf("CertPEM does not hold CertDER")
	}
	onDisk, err := os.ReadFile(c.CertPath())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, c.CertPEM()) {
		t.Errorf("CertPEM differs from %s", c.CertPath())
	}
	// The exported bytes are copies: changing them must not change the CA.
	der := c.CertDER()
	der[0] ^= 0xff
	if bytes.Equal(der, c.Cert().Raw) {
		t.Errorf("CertDER returned the CA's own slice")
	}
}

func TestCreateRefusesExistingFiles(t *testing.T) {
	for _, keep := range []string{"ca.pem", "ca-key.pem", "both"} {
		t.Run(keep, func(t *testing.T) {
			_, dir := createTestCA(t, Options{})
			switch keep {
			case "ca.pem":
				os.Remove(KeyPath(dir))
			case "ca-key.pem":
				os.Remove(CertPath(dir))
			}
			before := snapshotDir(t, dir)
			_, err := Create(dir, Options{Now: fixedNow(t0)})
			if !errors.Is(err, fs.ErrExist) {
				t.Fatalf("Create over existing %s: err = %v, want fs.ErrExist", keep, err)
			}
			before.assertUnchanged(t, dir)
		})
	}
}

func TestCreateRejectsUnknownKeyType(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "onpath")
	_, err := Create(dir, Options{KeyType: "dsa"})
	if !errors.Is(err, ErrUnknownKeyType) {
		t.Fatalf("err = %v, want ErrUnknownKeyType", err)
	}
	if _, statErr := os.Stat(dir); !errors.Is(statErr, fs.ErrNotExist) {
		t.Errorf("directory was created for a rejected key type (stat: %v)", statErr)
	}
}

// writePEM writes one PEM block to path.
func writePEM(tb testing.TB, path, blockType string, der []byte, perm fs.FileMode) {
	tb.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der}), perm); err != nil {
		tb.Fatal(err)
	}
}

// writeSelfSigned writes a self-signed pair built from template into dir.
func writeSelfSigned(tb testing.TB, dir string, template *x509.Certificate) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	writePEM(tb, CertPath(dir), "CERTIFICATE", der, 0o644)
	writePEM(tb, KeyPath(dir), "PRIVATE KEY", keyDER, 0o600)
}

// makeOld sets path's modification time an hour back, so LoadOrCreate
// does not take a lone file for a CA another process is still writing.
func makeOld(tb testing.TB, path string) {
	tb.Helper()
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		tb.Fatal(err)
	}
}

func TestLoadRejectsBadPairs(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, dir string) // dir holds a good CA made at t0 on entry
		now      time.Time
		want     error
		wantFile string // the file the message must name
	}{
		{
			name:     "corrupt key",
			setup:    func(t *testing.T, dir string) { os.WriteFile(KeyPath(dir), []byte("not a key\n"), 0o600) },
			want:     ErrCorrupt,
			wantFile: "ca-key.pem",
		},
		{
			name: "key PEM with bad DER",
			setup: func(t *testing.T, dir string) {
				writePEM(t, KeyPath(dir), "PRIVATE KEY", []byte{0x30, 0x03, 1, 2, 3}, 0o600)
			},
			want:     ErrCorrupt,
			wantFile: "ca-key.pem",
		},
		{
			name: "truncated key",
			setup: func(t *testing.T, dir string) {
				data, _ := os.ReadFile(KeyPath(dir))
				os.WriteFile(KeyPath(dir), data[:len(data)/2], 0o600)
			},
			want:     ErrCorrupt,
			wantFile: "ca-key.pem",
		},
		{
			name: "ed25519 key",
			setup: func(t *testing.T, dir string) {
				_, key, _ := ed25519.GenerateKey(rand.Reader)
				der, _ := x509.MarshalPKCS8PrivateKey(key)
				writePEM(t, KeyPath(dir), "PRIVATE KEY", der, 0o600)
			},
			want:     ErrCorrupt,
			wantFile: "ca-key.pem",
		},
		{
			name:     "corrupt cert",
			setup:    func(t *testing.T, dir string) { os.WriteFile(CertPath(dir), []byte("-----BEGIN GARBAGE"), 0o644) },
			want:     ErrCorrupt,
			wantFile: "ca.pem",
		},
		{
			name:     "cert PEM with bad DER",
			setup:    func(t *testing.T, dir string) { writePEM(t, CertPath(dir), "CERTIFICATE", []byte("junk"), 0o644) },
			want:     ErrCorrupt,
			wantFile: "ca.pem",
		},
		{
			name: "mismatched pair",
			setup: func(t *testing.T, dir string) {
				_, other := createTestCA(t, Options{Subject: "other@host"})
				data, err := os.ReadFile(KeyPath(other))
				if err != nil {
					t.Fatal(err)
				}
				os.WriteFile(KeyPath(dir), data, 0o600)
			},
			want:     ErrMismatch,
			wantFile: "ca-key.pem",
		},
		{
			name: "not a CA",
			setup: func(t *testing.T, dir string) {
				writeSelfSigned(t, dir, &x509.Certificate{
					SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "leaf"},
					NotBefore: t0.Add(-time.Hour), NotAfter: t0.AddDate(1, 0, 0),
					KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
				})
			},
			want:     ErrNotCA,
			wantFile: "ca.pem",
		},
		{
			name: "CA without cert sign usage",
			setup: func(t *testing.T, dir string) {
				writeSelfSigned(t, dir, &x509.Certificate{
					SerialNumber: big.NewInt(8), Subject: pkix.Name{CommonName: "odd"},
					NotBefore: t0.Add(-time.Hour), NotAfter: t0.AddDate(1, 0, 0),
					KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true,
				})
			},
			want:     ErrNotCA,
			wantFile: "ca.pem",
		},
		{
			name: "intermediate, not a root",
			setup: func(t *testing.T, dir string) {
				parent, _ := createTestCA(t, Options{Subject: "parent@host"})
				key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
					SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "intermediate"},
					NotBefore: t0.Add(-time.Hour), NotAfter: t0.AddDate(1, 0, 0),
					KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
				}, parent.Cert(), key.Public(), parent.key)
				if err != nil {
					t.Fatal(err)
				}
				keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
				writePEM(t, CertPath(dir), "CERTIFICATE", der, 0o644)
				writePEM(t, KeyPath(dir), "PRIVATE KEY", keyDER, 0o600)
			},
			want:     ErrNotCA,
			wantFile: "ca.pem",
		},
		{
			name:     "expired",
			now:      t0.AddDate(10, 0, 1),
			want:     ErrExpired,
			wantFile: "ca.pem",
		},
		{
			name:     "not yet valid",
			now:      t0.Add(-2 * time.Hour),
			want:     ErrExpired,
			wantFile: "ca.pem",
		},
		{
			name: "key missing",
			setup: func(t *testing.T, dir string) {
				os.Remove(KeyPath(dir))
				makeOld(t, CertPath(dir))
			},
			want:     ErrIncomplete,
			wantFile: "ca-key.pem",
		},
		{
			name: "cert missing",
			setup: func(t *testing.T, dir string) {
				os.Remove(CertPath(dir))
				makeOld(t, KeyPath(dir))
			},
			want:     ErrIncomplete,
			wantFile: "ca.pem",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dir := createTestCA(t, Options{})
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			before := snapshotDir(t, dir)
			_, err := Load(dir, Options{Now: fixedNow(now)})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load: err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), filepath.Join(dir, tt.wantFile)) {
				t.Errorf("Load: message %q does not name %s", err, tt.wantFile)
			}
			before.assertUnchanged(t, dir)

			// LoadOrCreate must report the same problem and regenerate nothing.
			_, created, err := LoadOrCreate(dir, Options{Now: fixedNow(now)})
			if !errors.Is(err, tt.want) || created {
				t.Errorf("LoadOrCreate: created=%v err=%v, want false and %v", created, err, tt.want)
			}
			before.assertUnchanged(t, dir)
		})
	}
}

func TestLoadNotFound(t *testing.T) {
	for _, tt := range []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"empty directory", func(t *testing.T) string { return t.TempDir() }},
		{"no directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "absent") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir(t)
			_, err := Load(dir, Options{})
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("message %q does not name %s", err, dir)
			}
			if got := snapshotDir(t, dir); len(got) != 0 {
				t.Errorf("Load wrote %v", keys(got))
			}
		})
	}
}

func TestLoadUnreadableKey(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files regardless of mode")
	}
	_, dir := createTestCA(t, Options{})
	if err := os.Chmod(KeyPath(dir), 0); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir, Options{Now: fixedNow(t0)})
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), KeyPath(dir)) {
		t.Errorf("err = %v, want a permission error naming %s", err, KeyPath(dir))
	}
}

func TestLoadOrCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "onpath")
	first, created, err := LoadOrCreate(dir, Options{Now: fixedNow(t0)})
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate: created=%v err=%v, want true and nil", created, err)
	}
	before := snapshotDir(t, dir)
	second, created, err := LoadOrCreate(dir, Options{Now: fixedNow(t0.Add(time.Hour)), KeyType: KeyRSA})
	if err != nil || created {
		t.Fatalf("second LoadOrCreate: created=%v err=%v, want false and nil", created, err)
	}
	if first.Fingerprint() != second.Fingerprint() {
		t.Errorf("second fingerprint %s, want %s", second.Fingerprint(), first.Fingerprint())
	}
	if second.KeyType() != KeyECDSA {
		t.Errorf("loaded KeyType = %q, want the key's own %q", second.KeyType(), KeyECDSA)
	}
	before.assertUnchanged(t, dir)
}

func TestLoadAcceptsLegacyKeyForms(t *testing.T) {
	for _, tt := range []struct {
		keyType   KeyType
		blockType string
		marshal   func(any) ([]byte, error)
	}{
		{KeyECDSA, "EC PRIVATE KEY", func(k any) ([]byte, error) { return x509.MarshalECPrivateKey(k.(*ecdsa.PrivateKey)) }},
		{KeyRSA, "RSA PRIVATE KEY", func(k any) ([]byte, error) { return x509.MarshalPKCS1PrivateKey(k.(*rsa.PrivateKey)), nil }},
	} {
		t.Run(tt.blockType, func(t *testing.T) {
			c, dir := createTestCA(t, Options{KeyType: tt.keyType})
			der, err := tt.marshal(c.key)
			if err != nil {
				t.Fatal(err)
			}
			writePEM(t, KeyPath(dir), tt.blockType, der, 0o600)
			loaded, err := Load(dir, Options{Now: fixedNow(t0)})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if loaded.Fingerprint() != c.Fingerprint() || loaded.KeyType() != tt.keyType {
				t.Errorf("loaded %s %s, want %s %s", loaded.KeyType(), loaded.Fingerprint(), tt.keyType, c.Fingerprint())
			}
		})
	}
}

func keys(m dirSnapshot) []string { return slices.Sorted(maps.Keys(m)) }

func TestConcurrentLoadOrCreateMakesOneCA(t *testing.T) {
	const starters = 8
	dir := filepath.Join(t.TempDir(), "onpath")
	type result struct {
		fingerprint string
		created     bool
		err         error
	}
	results := make([]result, starters)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range starters {
		wg.Go(func() {
			<-start
			c, created, err := LoadOrCreate(dir, Options{Now: fixedNow(t0), Subject: "race@host"})
			results[i] = result{created: created, err: err}
			if err == nil {
				results[i].fingerprint = c.Fingerprint()
			}
		})
	}
	close(start)
	wg.Wait()
	createdCount := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("starter %d: %v", i, r.err)
		}
		if r.created {
			createdCount++
		}
		if r.fingerprint != results[0].fingerprint {
			t.Errorf("starter %d got CA %s, starter 0 got %s", i, r.fingerprint, results[0].fingerprint)
		}
	}
	if createdCount != 1 {
		t.Errorf("%d starters created a CA, want exactly 1", createdCount)
	}
	if got := snapshotDir(t, dir); len(got) != 2 {
		t.Errorf("dir holds %v, want ca.pem and ca-key.pem only", keys(got))
	}
}

func TestLeftoverTemporaryFileIsHarmless(t *testing.T) {
	// What a crash in the middle of writing the key leaves behind.
	dir := filepath.Join(t.TempDir(), "onpath")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	leftover := filepath.Join(dir, ".ca-key.pem.tmp-12345")
	if err := os.WriteFile(leftover, []byte("-----BEGIN PRIVATE KEY-----\nMIG"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir, Options{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load with only a temporary file: err = %v, want ErrNotFound", err)
	}
	c, created, err := LoadOrCreate(dir, Options{Now: fixedNow(t0)})
	if err != nil || !created {
		t.Fatalf("LoadOrCreate: created=%v err=%v, want true, nil", created, err)
	}
	if _, err := Load(dir, Options{Now: fixedNow(t0)}); err != nil {
		t.Errorf("Load after create: %v", err)
	}
	if c.Fingerprint() == "" {
		t.Errorf("empty fingerprint")
	}
}

func TestWarnsAboutSharedKeyAndDirectory(t *testing.T) {
	_, dir := createTestCA(t, Options{})
	if err := os.Chmod(KeyPath(dir), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	if _, err := Load(dir, Options{Now: fixedNow(t0), Logger: logger}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CA key file is readable by other users", "CA directory is accessible by other users"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("log %q lacks %q", logged.String(), want)
		}
	}

	// A CA in its last month says so.
	logged.Reset()
	ca, err := Load(dir, Options{Now: fixedNow(t0.AddDate(10, 0, -20)), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "CA certificate expires soon") {
		t.Errorf("log %q lacks the expiry warning for %v", logged.String(), ca.Cert().NotAfter)
	}

	// A private setup logs no warning.
	if err := os.Chmod(KeyPath(dir), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	logged.Reset()
	if _, err := Load(dir, Options{Now: fixedNow(t0), Logger: logger}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logged.String(), "WARN") {
		t.Errorf("private CA logged a warning: %q", logged.String())
	}
}
