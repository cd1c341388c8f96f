// Package testupstream starts the upstream servers that proxy, cmd and
// audit tests send traffic to: go-httpbin over plain HTTP and over TLS
// (HTTP/1.1 and h2), plus TLS servers with deliberately broken certificates
// (expired, wrong host, self-signed).
//
// Every certificate is issued by one fixed test CA whose key is committed
// in this package. It is not a _test.go package so that tests in other
// packages can import it.
//
// Caveats: the test CA key is public. Never add its certificate to a real
// trust store; it exists only so tests can build a client or a proxy that
// trusts the fixture's upstreams and nothing else.
package testupstream
