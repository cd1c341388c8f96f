package audit

import "errors"

// ErrVoidCookie means a Set-Cookie line is void as a whole: a browser
// ignores it before looking at any attribute (a control character, or
// neither name nor value).
var ErrVoidCookie = errors.New("void Set-Cookie line")
