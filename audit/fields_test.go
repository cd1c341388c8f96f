package audit

import (
	"slices"
	"strings"
	"testing"
)

func TestScanFields(t *testing.T) {
	tests := []struct {
		in   string
		want []string // "name=value"
	}{
		{"a=1&b=2", []string{"a=1", "b=2"}},
		{"a=1&&b", []string{"a=1", "b="}},
		{"pass%77ord=hunter+2&x=%zz", []string{"password=hunter 2", "x=%zz"}},
		{"a=1;b=2", []string{"a=1;b=2"}},
		{"=v&k=", []string{"=v", "k="}},
		{"", nil},
	}
	for _, tc := range tests {
		var got []string
		ScanFields(tc.in, func(name, value string) bool {
			got = append(got, name+"="+value)
			return true
		})
		if !slices.Equal(got, tc.want) {
			t.Errorf("ScanFields(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	n := 0
	ScanFields("a=1&b=2&c=3", func(string, string) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("ScanFields kept going after false: %d calls", n)
	}
}

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "PASSWD": true, "pwd": true, "client_secret": true, "access_token": true,
		"ticket": true, "session": true, "sid": true, "Authorization": true, "apiKey": true, "api-key": true,
		"api_key": true, "id_jwt": true, "user": false, "q": false, "page": false, "email": false,
	} {
		if got := isSecretName(name); got != want {
			t.Errorf("isSecretName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestJSONFields(t *testing.T) {
	var got []string
	jsonFields([]byte(`{"user":{"name":"bob","password":"x"},"tags":["a",1,true,null],"n":2.5,"deep":[{"token":"t"}]}`),
		func(name, value string) bool {
			got = append(got, name+"="+value)
			return true
		})
	want := []string{"name=bob", "password=x", "tags=a", "tags=1", "n=2.5", "token=t"}
	if !slices.Equal(got, want) {
		t.Errorf("jsonFields = %q, want %q", got, want)
	}
}

func FuzzScanFields(f *testing.F) {
	for _, s := range []string{"a=1&b=2", "pass%77ord=hunter+2&x=%zz", "&&=&", "%", "a=%E2%82%AC"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		calls := 0
		ScanFields(s, func(name, value string) bool {
			calls++
			return true
		})
		if calls > strings.Count(s, "&")+1 {
			t.Fatalf("%d fields from %q", calls, s)
		}
		// The JSON walker shares the field callback shape; it must not panic either.
		jsonFields([]byte(s), func(string, string) bool { return true })
	})
}
