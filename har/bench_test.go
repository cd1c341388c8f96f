package har

import (
	"bytes"
	"io"
	"testing"

	"onpath/flow"
)

// benchFlows repeats the sample flows to n entries.
func benchFlows(b *testing.B, n int) []*flow.Flow {
	b.Helper()
	sample := sampleFlows(b)
	flows := make([]*flow.Flow, 0, n)
	for len(flows) < n {
		flows = append(flows, sample...)
	}
	return flows[:n]
}

func BenchmarkWrite(b *testing.B) {
	flows := benchFlows(b, 1000)
	var size int64
	for b.Loop() {
		cw := &countingWriter{}
		if err := Write(cw, flows, Options{Findings: true}); err != nil {
			b.Fatal(err)
		}
		size = cw.n
	}
	b.SetBytes(size)
	b.ReportMetric(float64(len(flows)*b.N)/b.Elapsed().Seconds(), "entries/s")
}

func BenchmarkRead(b *testing.B) {
	flows := benchFlows(b, 1000)
	var buf bytes.Buffer
	if err := Write(&buf, flows, Options{Findings: true}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		got, err := Read(bytes.NewReader(data), "bench", 0)
		if err != nil || len(got) != len(flows) {
			b.Fatalf("Read: %d flows, %v", len(got), err)
		}
	}
	b.ReportMetric(float64(len(flows)*b.N)/b.Elapsed().Seconds(), "entries/s")
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countingWriter)(nil)
