package audit

import (
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
