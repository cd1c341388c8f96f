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
