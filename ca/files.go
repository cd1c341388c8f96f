package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File names and modes inside the data directory.
const (
	certFileName = "ca.pem"
	keyFileName  = "ca-key.pem"

	dirMode  fs.FileMode = 0o700
	certMode fs.FileMode = 0o644
	keyMode  fs.FileMode = 0o600
)

// CertPath is where the CA certificate lives in dir.
func CertPath(dir string) string { return filepath.Join(dir, certFileName) }

// KeyPath is where the CA private key lives in dir.
func KeyPath(dir string) string { return filepath.Join(dir, keyFileName) }

// ensureDir creates dir with mode 0700 when it is missing. It reports whether
// it created the directory.
func ensureDir(dir string) (created bool, err error) {
	info, err := os.Stat(dir)
	switch {
	case err == nil:
		if !info.IsDir() {
			return false, fmt.Errorf("ca: %s is not a directory", dir)
		}
		return false, nil
	case !errors.Is(err, fs.ErrNotExist):
		return false, fmt.Errorf("ca: stat %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return false, fmt.Errorf("ca: create directory %s: %w", dir, err)
	}
	// MkdirAll is subject to the umask; the mode must be exactly 0700.
	if err := os.Chmod(dir, dirMode); err != nil {
		return true, fmt.Errorf("ca: chmod directory %s: %w", dir, err)
	}
	return true, nil
}

// writeFileExclusive writes data to path with mode perm, atomically and
// without ever replacing an existing file: the bytes go to a temporary file
// in the same directory, which is synced and then hard-linked to path. A
// crash leaves either no file at path or the complete file, never a partial
// key. If path already exists the error wraps fs.ErrExist.
func writeFileExclusive(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("ca: create temporary file for %s: %w", path, err)
	}
	tmpName := tmp.Name()
	// After a successful link the data stays reachable through path, so the
	// temporary name is always removed.
	defer func() {
		if rmErr := os.Remove(tmpName); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
			err = fmt.Errorf("ca: remove temporary file %s: %w", tmpName, rmErr)
		}
	}()
	// CreateTemp opens with 0600; set the final mode before any byte is
	// written so a key is never readable by others, not even briefly.
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("ca: chmod %s: %w", tmpName, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("ca: write %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("ca: sync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("ca: close %s: %w", tmpName, err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("ca: %s already exists: %w", path, fs.ErrExist)
		}
		// Some file systems have no hard links. Rename would replace a file
		// created since the check below, a race onpath accepts there.
		if _, statErr := os.Lstat(path); statErr == nil {
			return fmt.Errorf("ca: %s already exists: %w", path, fs.ErrExist)
		}
		if err := os.Rename(tmpName, path); err != nil {
			return fmt.Errorf("ca: rename %s to %s: %w", tmpName, path, err)
		}
	}
	syncDir(dir)
	return nil
}

// syncDir makes the new directory entry durable. It is best effort: some
// platforms cannot sync a directory, and the file itself is already synced.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// encodeCertPEM wraps a DER certificate in a CERTIFICATE PEM block.
func encodeCertPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// encodeKeyPEM writes key as an unencrypted PKCS #8 "PRIVATE KEY" block, the
// form curl, openssl and mkcert read.
func encodeKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("ca: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// decodeCertPEM parses the first CERTIFICATE block of data.
func decodeCertPEM(path string, data []byte) (*x509.Certificate, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("ca: %s: no PEM CERTIFICATE block: %w", path, ErrCorrupt)
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("ca: %s: %w: %w", path, ErrCorrupt, err)
		}
		return cert, nil
	}
}

// decodeKeyPEM parses the first private key block of data: PKCS #8
// ("PRIVATE KEY", what onpath writes), or the older "EC PRIVATE KEY" and
// "RSA PRIVATE KEY" forms a hand-made pair may use. Only ECDSA and RSA keys
// are accepted, the algorithms every TLS client verifies.
func decodeKeyPEM(path string, data []byte) (crypto.Signer, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("ca: %s: no PEM private key block: %w", path, ErrCorrupt)
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ca: %s: %w: %w", path, ErrCorrupt, err)
		}
		switch k := key.(type) {
		case *ecdsa.PrivateKey:
			return k, nil
		case *rsa.PrivateKey:
			return k, nil
		default:
			return nil, fmt.Errorf("ca: %s: unsupported key type %T (want ECDSA or RSA): %w", path, key, ErrCorrupt)
		}
	}
}
