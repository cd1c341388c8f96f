module onpath

go 1.26.0

require (
	github.com/andybalholm/brotli v1.3.0
	github.com/elazarl/goproxy v1.9.3
	github.com/gdamore/tcell/v2 v2.13.10
	github.com/hashicorp/golang-lru/v2 v2.0.7
	github.com/klauspost/compress v1.20.4
	github.com/mccutchen/go-httpbin/v2 v2.26.0
	github.com/rivo/uniseg v0.4.7
	go.etcd.io/bbolt v1.5.0
	golang.org/x/net v0.62.0
	golang.org/x/sync v0.25.0
	golang.org/x/sys v0.49.0
	golang.org/x/term v0.47.0
)

require (
	github.com/gdamore/encoding v1.0.1 // indirect
	github.com/lucasb-eyer/go-colorful v1.3.0 // indirect
	golang.org/x/text v0.43.0 // indirect
)
