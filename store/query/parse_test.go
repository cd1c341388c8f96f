package query

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestParseCanonicalString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"Login", "login"},
		{"host:Example.COM", "host:example.com"},
		{"HOST:*.example.com|api.test", "host:*.example.com|api.test"},
		{"method:get|Post", "method:GET|POST"},
		{"status:4XX|404|500-599", "status:4xx|404|500-599"},
		{"scheme:HTTPS", "scheme:https"},
		{"has:Finding has:error has:body has:cookie has:replay has:import", "has:finding has:error has:body has:cookie has:replay has:import"},
		{"severity:MEDIUM", "severity:medium"},
		{"cookie:SID", "cookie:SID"},
		{"header:X-Api-Key", "header:X-Api-Key"},
		{`header:"X-A=B c"`, `header:"X-A=b c"`},
		{`body:"Pass Word"`, `body:"pass word"`},
		{"id:42 id:10-20", "id:42 id:10-20"},
		{"kind:tunnel|HTTP", "kind:tunnel|http"},
		{"replay:7", "replay:7"},
		{`-host:a.test -"two words"`, `-host:a.test -"two words"`},
		{`"a b"   c`, `"a b" c`},
		{`"localhost:8080"`, `"localhost:8080"`},
		{`https://example.com/x`, `"https://example.com/x"`},
		{`method:|//`, `method://`}, // a term even though its value starts with //
		{`method://`, `method://`},
		{`"-dash"`, `"-dash"`},
		{`""`, ""},
		{`ab"c d"e`, `"abc de"`},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := q.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		if q.Empty() != (tt.want == "") {
			t.Errorf("Parse(%q).Empty() = %t, want %t", tt.in, q.Empty(), tt.want == "")
		}
		again, err := Parse(q.String())
		if err != nil || again.String() != q.String() {
			t.Errorf("Parse(%q) = %v, %v; want the same query back", q.String(), again, err)
		}
	}
}

func TestParseErrorsNameTermAndReason(t *testing.T) {
	tests := []struct{ in, want string }{
		{"status:4yx", `status: "4yx" is not a status, a class like 4xx or a range like 500-599`},
		{"status:", `status: "" is not a status`},
		{"status:600-500", `status: "600-500" is not a status`},
		{"status:1000", `status: "1000" is not a status`},
		{"status:6xx", `status: "6xx" is not a status`},
		{"id:abc", `id: "abc" is not a flow id or a range like 10-20`},
		{"id:-5", `id: "-5" is not a flow id`},
		{"severity:critical", `severity: "critical" is not a severity (info, low, medium or high)`},
		{"has:wings", `has: "wings" is not something a flow has`},
		{"kind:udp", `kind: "udp" is not a kind (http or tunnel)`},
		{"replay:x", `replay: "x" is not a flow id`},
		{"host:", "host: needs a host"},
		{"method:", "method: needs a method"},
		{"scheme:|", "scheme: needs a scheme"},
		{"cookie:", "cookie: needs a cookie name"},
		{"header:=x", "header: needs a header name"},
		{"body:", "body: needs the text"},
		{"stauts:404", `stauts:404: unknown term "stauts:"`},
		{"localhost:8080", `quote it: "localhost:8080"`},
		{`header:"X-A=b`, "unterminated quote"},
		{"-", `nothing to negate`},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %q, want an error containing %q", tt.in, q, tt.want)
			continue
		}
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) error %v does not wrap ErrSyntax", tt.in, err)
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) error is %T, want *SyntaxError", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func TestNeedsFlowAndBodies(t *testing.T) {
	tests := []struct {
		in                 string
		needsFlow, needsBd bool
	}{
		{"", false, false},
		{"login host:a status:2xx method:GET scheme:http has:finding has:error has:body severity:low id:1 kind:http replay:3 has:replay has:import", false, false},
		{"has:cookie", true, false},
		{"cookie:sid", true, false},
		{"header:X", true, false},
		{"-header:X", true, false},
		{"body:secret", true, true},
		{"-body:secret status:200", true, true},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := q.NeedsFlow(); got != tt.needsFlow {
			t.Errorf("Parse(%q).NeedsFlow() = %t, want %t", tt.in, got, tt.needsFlow)
		}
		if got := q.NeedsBodies(); got != tt.needsBd {
			t.Errorf("Parse(%q).NeedsBodies() = %t, want %t", tt.in, got, tt.needsBd)
		}
	}
}

func fuzzSeeds() []string {
	return []string{
		"", "login", `-"a b" host:*.x.test`, "status:4xx|404|500-599", `header:"X-A=b c"`,
		"id:1-9 kind:tunnel replay:3", `body:"x y" -cookie:sid`, `"unterminated`, "-", `a"b"c:d`,
		"has:cookie severity:high method:GET|POST scheme:https", "https://x/y?z=1",
	}
}

var update = flag.Bool("update", false, "rewrite the seed corpus in testdata/fuzz")

// TestWriteFuzzSeeds rewrites testdata/fuzz/FuzzParse with -update.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/fuzz/FuzzParse")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range fuzzSeeds() {
		content := "go test fuzz v1\nstring(" + strconv.Quote(s) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzParse: never panic; a parsed query prints as a query that parses
// back to the same text.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrSyntax", s, err)
			}
			return
		}
		canon := q.String()
		again, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q).String() = %q does not parse: %v", s, canon, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form unstable: %q → %q → %q", s, canon, again.String())
		}
		if again.NeedsFlow() != q.NeedsFlow() || again.NeedsBodies() != q.NeedsBodies() {
			t.Fatalf("canonical form %q needs different data than %q", canon, s)
		}
	})
}
