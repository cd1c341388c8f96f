package ca

import "errors"

// Sentinel errors. Every error returned by Load, Create and LoadOrCreate that
// concerns the CA files wraps one of these (check with errors.Is); the
// message around it names the file and the problem, so cmd/onpath can add
// the next step for the user.
var (
	// ErrNotFound: neither ca.pem nor ca-key.pem exists in the directory.
	ErrNotFound = errors.New("CA not found")
	// ErrIncomplete: exactly one of ca.pem and ca-key.pem exists. onpath
	// never regenerates over the surviving half.
	ErrIncomplete = errors.New("CA incomplete: one of certificate and key is missing")
	// ErrCorrupt: a file is not a PEM certificate or private key that onpath
	// can use (bad PEM, bad DER, or an unsupported key algorithm).
	ErrCorrupt = errors.New("CA file is corrupt or unsupported")
	// ErrMismatch: the key in ca-key.pem does not belong to the certificate in ca.pem.
	ErrMismatch = errors.New("CA certificate and key do not match")
	// ErrNotCA: ca.pem is not a self-signed CA certificate allowed to sign
	// certificates.
	ErrNotCA = errors.New("certificate is not a CA root")
	// ErrExpired: the CA certificate is outside its validity period at the
	// current time (expired, or not yet valid because the clock is wrong).
	ErrExpired = errors.New("CA certificate is expired or not yet valid")
	// ErrUnknownKeyType: Options.KeyType is neither KeyECDSA nor KeyRSA.
	ErrUnknownKeyType = errors.New("unknown CA key type")
	// ErrInvalidHost: Leaves.Get was given something that is neither an IP
	// address nor a DNS host name.
	ErrInvalidHost = errors.New("invalid host for a leaf certificate")
)
