// Package control lets onpath commands reach a running proxy.
//
// bbolt admits one process per database file, so while a proxy runs it
// owns flows.db and answers the CLI's reads and commands (flows, show,
// audit, replay, export, import, clear) over a unix socket in the data
// dir. The protocol is HTTP with JSON bodies; Client and a local
// implementation of Backend in cmd/onpath give the user the same output
// whichever side does the work.
//
// Caveats: the socket hands out every recorded secret. It is created with
// mode 0600 inside the 0700 data dir, and never listens on TCP.
package control
