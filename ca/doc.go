// Package ca owns onpath's developer certificate authority: it creates the
// CA once per install, loads and validates it afterwards, exports its
// certificate (PEM, DER, SHA-256 fingerprint), and mints the leaf
// certificates the proxy presents to clients, caching them in a bounded LRU.
//
// Files, in the data directory (mode 0700):
//
//	ca.pem      the root certificate, mode 0644; this is what users trust
//	ca-key.pem  its private key (PKCS #8, unencrypted), mode 0600
//
// Both are written atomically (temporary file, sync, link), so a crash never
// leaves a half-written key, and never over an existing file. Load refuses a
// pair that is incomplete, corrupt, mismatched, not a CA, or outside its
// validity period, each with its own sentinel error; nothing is ever
// regenerated silently.
//
// The root is ECDSA P-256 by default (RSA-2048 on request), IsCA with
// MaxPathLen 0, key usage CertSign+CRLSign, a random 128-bit serial, ten
// years of validity, and a subject naming the user and host so that two
// installs are told apart. Leaves carry the host as CN and SAN (an IP SAN for
// an IP address), ServerAuth only, NotBefore an hour back, at most 397 days
// and never past the CA. One leaf key, from crypto/rand, is shared by every
// leaf of a Leaves cache.
//
// # Caveats
//
// Whoever holds ca-key.pem can impersonate ANY website to every browser and
// program on this machine that trusts ca.pem: they can mint a certificate
// for your bank, your mail or your company's single sign-on, and read or
// change that traffic without a warning. Keep the key private, never copy
// it to another machine, never commit it, and remove the CA from your trust
// stores when you stop using onpath. onpath itself never sends the key
// anywhere; it leaves the machine only if you copy it.
//
// The key file is not encrypted: its protection is the file mode and the
// account it lives in. A leaf's private key is kept in memory only and is
// shared by every leaf of one process.
package ca
