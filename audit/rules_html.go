package audit

import (
	"bytes"

	"onpath/flow"
)

// htmlRules are TX06 (an https page loading http: content) and TX07 (an
// https page with a form posting to http:, or an http page with a
// password input). They scan at most MaxScanBytes of the decoded body.
//
// Reading: TX06 lists "action" among the attributes, but a form action is
// a submission target, not loaded content, and TX07 names exactly that
// case; so forms are reported under TX07 only. Links (<a href>) are
// navigation, not mixed content, and are not reported.
func (r *run) htmlRules() {
	if r.url == nil || !r.answered || !isHTML(headerValue(r.f.Response.Header, "Content-Type")) {
		return
	}
	doc := decodedBody(r.f.Response.Header, r.f.Response.Body)
	if len(doc) == 0 {
		return
	}
	mixed, passwordSeen := 0, false
	scanHTMLTags(doc, func(tag []byte, attrs []htmlAttr) {
		if r.https {
			if attr, sev := mixedContentAttr(tag, attrs); attr != "" && mixed < maxHTMLFindings {
				mixed++
				v, _ := attrValue(attrs, attr)
				r.add(RuleMixedContent, sev,
					"https page loads "+string(bytes.ToLower(tag))+" content over http: an attacker can rewrite it",
					tagEvidence(tag, attr, v), "load it from https:// (or a protocol-relative //host URL)")
			}
			if attr := insecureFormAttr(tag, attrs); attr != "" {
				v, _ := attrValue(attrs, attr)
				r.add(RuleInsecureForm, flow.SeverityMedium,
					"https page with a form that submits to http: the data crosses the network in clear",
					tagEvidence(tag, attr, v), "make the form submit to https://")
			}
			return
		}
		if !passwordSeen && equalFoldASCII(string(tag), "input") {
			if t, _ := attrValue(attrs, "type"); equalFoldASCII(string(bytes.TrimSpace(t)), "password") {
				passwordSeen = true
				name, _ := attrValue(attrs, "name")
				r.add(RuleInsecureForm, flow.SeverityMedium,
					"password field on a plain-http page: the form and what is typed are exposed",
					`<input type="password" name="`+string(name)+`">`,
					"serve the login page and its form target over https only")
			}
		}
	})
}

// mixedContentAttr says which attribute of a tag loads http: content and
// how bad it is: medium for active content (scripts, frames, plugins,
// stylesheets, and <base>, which redirects every relative URL), low for
// passive media.
func mixedContentAttr(tag []byte, attrs []htmlAttr) (string, flow.Severity) {
	t := string(tag) // compared only; the compiler keeps short conversions off the heap
	insecure := func(attr string) bool {
		v, ok := attrValue(attrs, attr)
		return ok && isInsecureURL(v)
	}
	switch {
	case equalFoldASCII(t, "script"), equalFoldASCII(t, "iframe"), equalFoldASCII(t, "frame"), equalFoldASCII(t, "embed"):
		if insecure("src") {
			return "src", flow.SeverityMedium
		}
	case equalFoldASCII(t, "object"):
		if insecure("data") {
			return "data", flow.SeverityMedium
		}
	case equalFoldASCII(t, "base"):
		if insecure("href") {
			return "href", flow.SeverityMedium
		}
	case equalFoldASCII(t, "link"):
		if !insecure("href") {
			return "", 0
		}
		rel, _ := attrValue(attrs, "rel")
		switch {
		case containsFold(string(rel), "stylesheet"), containsFold(string(rel), "modulepreload"):
			return "href", flow.SeverityMedium
		case containsFold(string(rel), "icon"), containsFold(string(rel), "preload"), containsFold(string(rel), "manifest"):
			return "href", flow.SeverityLow
		}
	case equalFoldASCII(t, "img"), equalFoldASCII(t, "audio"), equalFoldASCII(t, "video"),
		equalFoldASCII(t, "source"), equalFoldASCII(t, "track"), equalFoldASCII(t, "input"):
		if insecure("src") {
			return "src", flow.SeverityLow
		}
		if v, ok := attrValue(attrs, "srcset"); ok && containsFold(string(v), "http:") {
			return "srcset", flow.SeverityLow
		}
		if equalFoldASCII(t, "video") && insecure("poster") {
			return "poster", flow.SeverityLow
		}
	}
	return "", 0
}

// insecureFormAttr: a form action, or a button/input formaction, to http:.
func insecureFormAttr(tag []byte, attrs []htmlAttr) string {
	t := string(tag)
	var attr string
	switch {
	case equalFoldASCII(t, "form"):
		attr = "action"
	case equalFoldASCII(t, "button"), equalFoldASCII(t, "input"):
		attr = "formaction"
	default:
		return ""
	}
	if v, ok := attrValue(attrs, attr); ok && isInsecureURL(v) {
		return attr
	}
	return ""
}

// tagEvidence renders `<tag attr="value">`, the value cut at 200 bytes.
func tagEvidence(tag []byte, attr string, value []byte) string {
	value = bytes.TrimSpace(value)
	if len(value) > 200 {
		value = append(value[:200:200], "…"...)
	}
	return "<" + string(bytes.ToLower(tag)) + " " + attr + `="` + string(value) + `">`
}
