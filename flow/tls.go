package flow

import (
	"crypto/tls"
	"time"
)

// TLSInfo is what one leg's TLS handshake established.
type TLSInfo struct {
	Version     uint16 `json:"version"`
	CipherSuite uint16 `json:"cipher_suite"`
	// SNI is the server name the client sent (client leg) or onpath sent (server leg).
	SNI string `json:"sni,omitempty"`
	// ALPN is the negotiated protocol; OfferedALPN what the client offered.
	ALPN        string   `json:"alpn,omitempty"`
	OfferedALPN []string `json:"offered_alpn,omitempty"`
	// ECHAccepted is true when Encrypted Client Hello was used.
	ECHAccepted bool `json:"ech_accepted,omitempty"`
	// Chain is the certificate chain the server presented, leaf first.
	Chain []Certificate `json:"chain,omitempty"`
	// Verified is true when the chain verified against the trusted roots
	// for the SNI name. VerifyError says what failed otherwise (it is also
	// filled when --insecure let the request go ahead).
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error,omitempty"`
}

// VersionName is the human name of the TLS version, e.g. "TLS 1.3".
func (t *TLSInfo) VersionName() string { return tls.VersionName(t.Version) }

// CipherSuiteName is the IANA name of the cipher suite.
func (t *TLSInfo) CipherSuiteName() string { return tls.CipherSuiteName(t.CipherSuite) }

// Certificate is the part of an X.509 certificate a user checks.
type Certificate struct {
	Subject      string    `json:"subject"`
	Issuer       string    `json:"issuer"`
	SerialNumber string    `json:"serial_number,omitempty"`
	DNSNames     []string  `json:"dns_names,omitempty"`
	IPAddresses  []string  `json:"ip_addresses,omitempty"`
	NotBefore    time.Time `json:"not_before"`
	NotAfter     time.Time `json:"not_after"`
	IsCA         bool      `json:"is_ca,omitempty"`
	// SHA256 is the hex SHA-256 fingerprint of the DER bytes.
	SHA256 string `json:"sha256"`
}
