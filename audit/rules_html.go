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
	// Cheap pre-filters first: most pages have no "http:" inside a tag that
	// loads content, or no "password" inside an input tag, and skip the scan.
	if r.https {
		if anyInTag(doc, func(from int) int { return indexHTTPColon(doc, from) }, loadsContent) {
			r.httpsPageRules(doc)
		}
		return
	}
	if anyInTag(doc, newFoldFinder(doc, "password").index, isInput) {
		r.httpPageRules(doc)
	}
}

func loadsContent(k tagKind) bool { return k != tagOther && k != tagRawText }

func isInput(k tagKind) bool { return k == tagInput }

func (r *run) httpsPageRules(doc []byte) {
	mixed, forms := 0, 0
	scanHTMLTags(doc, loadsContent,
		func(kind tagKind, tag []byte, attrs []htmlAttr) {
			if attr, sev := mixedContentAttr(kind, attrs); attr != "" && mixed < maxHTMLFindings {
				mixed++
				v, _ := attrValue(attrs, attr)
				r.add(RuleMixedContent, sev,
					"https page loads "+string(bytes.ToLower(tag))+" content over http: an attacker can rewrite it",
					tagEvidence(tag, attr, v), "load it from https:// (or a protocol-relative //host URL)")
			}
			if attr := insecureFormAttr(kind, attrs); attr != "" && forms < maxHTMLFindings {
				forms++
				v, _ := attrValue(attrs, attr)
				r.add(RuleInsecureForm, flow.SeverityMedium,
					"https page with a form that submits to http: the data crosses the network in clear",
					tagEvidence(tag, attr, v), "make the form submit to https://")
			}
		})
}

func (r *run) httpPageRules(doc []byte) {
	passwordSeen := false
	scanHTMLTags(doc, func(k tagKind) bool { return k == tagInput && !passwordSeen },
		func(_ tagKind, _ []byte, attrs []htmlAttr) {
			t, _ := attrValue(attrs, "type")
			if !equalFoldBytesString(bytes.TrimSpace(t), "password") {
				return
			}
			passwordSeen = true
			name, _ := attrValue(attrs, "name")
			r.add(RuleInsecureForm, flow.SeverityMedium,
				"password field on a plain-http page: the form and what is typed are exposed",
				`<input type="password" name="`+string(name)+`">`,
				"serve the login page and its form target over https only")
		})
}

// mixedContentAttr says which attribute of a tag loads http: content and
// how bad it is: medium for active content (scripts, frames, plugins,
// stylesheets, and <base>, which redirects every relative URL), low for
// passive media.
func mixedContentAttr(kind tagKind, attrs []htmlAttr) (string, flow.Severity) {
	insecure := func(attr string) bool {
		v, ok := attrValue(attrs, attr)
		return ok && isInsecureURL(v)
	}
	switch kind {
	case tagScript, tagIframe, tagFrame, tagEmbed:
		if insecure("src") {
			return "src", flow.SeverityMedium
		}
	case tagObject:
		if insecure("data") {
			return "data", flow.SeverityMedium
		}
	case tagBase:
		if insecure("href") {
			return "href", flow.SeverityMedium
		}
	case tagLink:
		if !insecure("href") {
			return "", 0
		}
		rel, _ := attrValue(attrs, "rel")
		switch {
		case containsFoldBytes(rel, "stylesheet"), containsFoldBytes(rel, "modulepreload"):
			return "href", flow.SeverityMedium
		case containsFoldBytes(rel, "icon"), containsFoldBytes(rel, "preload"), containsFoldBytes(rel, "manifest"):
			return "href", flow.SeverityLow
		}
	case tagImg, tagAudio, tagVideo, tagSource, tagTrack, tagInput:
		if insecure("src") {
			return "src", flow.SeverityLow
		}
		if v, ok := attrValue(attrs, "srcset"); ok && containsHTTPColon(v) {
			return "srcset", flow.SeverityLow
		}
		if kind == tagVideo && insecure("poster") {
			return "poster", flow.SeverityLow
		}
	}
	return "", 0
}

// insecureFormAttr: a form action, or a button/input formaction, to http:.
func insecureFormAttr(kind tagKind, attrs []htmlAttr) string {
	var attr string
	switch kind {
	case tagForm:
		attr = "action"
	case tagButton, tagInput:
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
