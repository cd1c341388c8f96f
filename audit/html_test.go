package audit

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestScanHTMLTags(t *testing.T) {
	doc := `<!DOCTYPE html><html><!-- <img src=x> --><head><title><b>not a tag</b></title>
<script>var s = "<iframe src=bad>";</script ><STYLE>a{b:c}</style>
<link rel="stylesheet" href='a.css' /><body class=x data-x = "1 2">text < 3
<img src=unquoted alt="a>b"><input disabled type=password><br/></body>`
	var got []string
	scanHTMLTags([]byte(doc), func(tagKind) bool { return true }, func(_ tagKind, tag []byte, attrs []htmlAttr) {
		s := strings.ToLower(string(tag))
		for _, a := range attrs {
			s += " " + string(a.name) + "=" + string(a.value)
		}
		got = append(got, s)
	})
	want := []string{
		"html", "head", "title", "script", "style",
		"link rel=stylesheet href=a.css", "body class=x data-x=1 2",
		"img src=unquoted alt=a>b", "input disabled= type=password", "br",
	}
	if !slices.Equal(got, want) {
		t.Errorf("tags:\n got %q\nwant %q", got, want)
	}
}

func TestScanHTMLTagsTruncated(t *testing.T) {
	for _, doc := range []string{"<", "<a", "<a href", `<a href="x`, "<!--", "<script>", "<a =", "<!x"} {
		scanHTMLTags([]byte(doc), func(tagKind) bool { return true }, func(tagKind, []byte, []htmlAttr) {}) // must not panic
	}
}

// TestPreFiltersStayLinear feeds the pre-filters documents built to make
// naive searches quadratic (a 1 MiB page of lowercase p's without "P",
// "http:" in text 200000 times); a quadratic search would
// not finish within the test timeout.
func TestPreFiltersStayLinear(t *testing.T) {
	ps := []byte(strings.Repeat("p", 1<<20))
	if anyInTag(ps, newFoldFinder(ps, "password").index, isInput) {
		t.Errorf("found a password input in a page of p's")
	}
	colons := []byte(strings.Repeat("http:", 200000) + `<img src="http://x/">`)
	if !anyInTag(colons, func(from int) int { return indexHTTPColon(colons, from) }, loadsContent) {
		t.Errorf("pre-filter missed the image after 200000 matches in text")
	}
	text := []byte("<p>" + strings.Repeat("see http: here ", 100000))
	if anyInTag(text, func(from int) int { return indexHTTPColon(text, from) }, loadsContent) {
		t.Errorf("matches in <p> text reported as inside a loading tag")
	}
}

func TestFoldFinder(t *testing.T) {
	doc := []byte(`pass <input TYPE=PassWord> password`)
	f := newFoldFinder(doc, "password")
	var got []int
	for i := f.index(0); i >= 0; i = f.index(i + 1) {
		got = append(got, i)
	}
	if want := []int{17, 27}; !slices.Equal(got, want) {
		t.Errorf("matches at %v, want %v", got, want)
	}
}

// FuzzScanHTMLTags: the tag scanner and the pre-filters never panic, and
// the pre-filter never says "no" when the full scan finds a loading tag
// with an http: attribute, unless an attribute value holds a '<' (the
// documented blind spot of the pre-filter).
func FuzzScanHTMLTags(f *testing.F) {
	for _, s := range []string{
		`<script src="http://x/"></script>`,
		`<!-- <img src=http:x> --><p>http:</p><IMG SRC='HTTP://y'>`,
		`<a href="x<img src=http://z>">`,
		`<img alt="a<b" src="http://x/">`,
		`<input type=password name=pw><textarea><input type=password></textarea>`,
		"<", "<a =", "<script>", "<!x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		doc := []byte(s)
		found := false
		scanHTMLTags(doc, loadsContent, func(kind tagKind, _ []byte, attrs []htmlAttr) {
			if attr, _ := mixedContentAttr(kind, attrs); attr != "" {
				found = true
			}
		})
		maybe := anyInTag(doc, func(from int) int { return indexHTTPColon(doc, from) }, loadsContent)
		ltInValue := false
		scanHTMLTags(doc, func(tagKind) bool { return true }, func(_ tagKind, _ []byte, attrs []htmlAttr) {
			for _, a := range attrs {
				ltInValue = ltInValue || bytes.IndexByte(a.value, '<') >= 0 || bytes.IndexByte(a.name, '<') >= 0
			}
		})
		if found && !maybe && !ltInValue {
			t.Fatalf("pre-filter said no, full scan found mixed content in %q", s)
		}
		newFoldFinder(doc, "password").index(0)
	})
}
