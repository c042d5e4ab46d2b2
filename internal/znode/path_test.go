package znode

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidatePath(t *testing.T) {
	tests := []struct {
		path  string
		valid bool
	}{
		// rule 1: non-empty, absolute
		{"", false},
		{"a", false},
		{"noslash", false},
		{"a/b", false},
		{" /a", false},
		// rule 2: root
		{"/", true},
		// rule 3: no trailing slash
		{"/a/", false},
		{"/a/b/", false},
		{"/r/", false},
		// rule 4: no empty component
		{"//", false},
		{"//a", false},
		{"/a//b", false},
		{"/bad//x", false},
		// rule 5: no . or .. component
		{"/.", false},
		{"/..", false},
		{"/a/.", false},
		{"/a/..", false},
		{"/a/./b", false},
		{"/a/../b", false},
		{"/r/.", false},
		{"/...", true},
		{"/.a", true},
		{"/a.", true},
		{"/..a", true},
		{"/a/.b/c..", true},
		// ordinary paths
		{"/a", true},
		{"/a/b/c", true},
		{"/zookeeper/config", true},
		{"/s-0000000001", true},
		{"/a/0000000004", true},
		{"/with space", true},
		{"/a-b_c:d@e", true},
		{"/" + strings.Repeat("x", 1000), true},
		// rule 6: forbidden characters
		{"/a\x00", false},
		{"/\x00a", false},
		{"/a\x01b", false},
		{"/a\x1f", false},
		{"/a\tb", false},
		{"/a\nb", false},
		{"/\x20", true},  // U+0020 space is fine
		{"/\x7e", true},  // ~
		{"/\x7f", false}, // DEL
		{"/\u0080", false},
		{"/\u009f", false},
		{"/\u00a0", true},
		{"/é", true},
		{"/日本", true},
		{"/\ud7ff", true},
		{"/\ue000", false}, // private use
		{"/\uf8ff", false},
		{"/\uf900", true},
		{"/\ufeff", true},
		{"/\uffef", true},
		{"/\ufff0", false},
		{"/\ufffd", false}, // replacement character
		{"/\uffff", false},
		{"/\U00010000", false}, // above U+FFFF: a surrogate pair in Java
		{"/\U0001F600", false},
		{"/\U0010FFFF", false},
		// invalid UTF-8 (Java decodes it to U+FFFD, which is rejected)
		{"/\xff", false},
		{"/\xc3", false},
		{"/a\xc3(", false},
		{"/\xed\xa0\x80", false}, // encoded surrogate U+D800
		{"/\xc0\xaf", false},     // overlong '/'
	}
	for _, tc := range tests {
		err := ValidatePath(tc.path)
		if (err == nil) != tc.valid {
			t.Errorf("ValidatePath(%q) = %v, want valid=%v", tc.path, err, tc.valid)
		}
		if err != nil && err != ErrBadPath {
			t.Errorf("ValidatePath(%q) returned %v, want ErrBadPath", tc.path, err)
		}
	}
}

// TestValidatePathRanges checks every BMP code point against rule 6.
func TestValidatePathRanges(t *testing.T) {
	forbidden := func(r rune) bool {
		return r <= 0x1f || (r >= 0x7f && r <= 0x9f) || (r >= 0xd800 && r <= 0xf8ff) || r >= 0xfff0
	}
	for r := rune(0); r <= 0xffff; r++ {
		if r == '/' || r == '.' {
			continue
		}
		p := "/x" + string(r)
		if r >= 0xd800 && r <= 0xdfff {
			// The 3-byte encoding of a surrogate is invalid UTF-8.
			p = "/x" + string([]byte{byte(0xe0 | r>>12), byte(0x80 | (r>>6)&0x3f), byte(0x80 | r&0x3f)})
		}
		want := !forbidden(r)
		if got := ValidatePath(p) == nil; got != want {
			t.Fatalf("U+%04X: valid=%v, want %v", r, got, want)
		}
	}
	if !utf8.ValidString("/\U00010000") || ValidatePath("/\U00010000") == nil {
		t.Fatal("supplementary code points must be rejected")
	}
}

func TestLightChecks(t *testing.T) {
	for _, tc := range []struct {
		path string
		ok   bool
	}{
		{"/", true}, {"/a", true}, {"/r/", true}, {"/bad//x", true}, {"/a/.", true},
		{"noslash", false}, {"", false}, {"/a\x00", false}, {"x/y", true},
	} {
		if got := HasSlashAndNoNUL(tc.path); got != tc.ok {
			t.Errorf("HasSlashAndNoNUL(%q) = %v", tc.path, got)
		}
	}
	for _, p := range []string{"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"} {
		if !IsSpecial(p) {
			t.Errorf("IsSpecial(%q) = false", p)
		}
	}
	for _, p := range []string{"", "/zookeeper/", "/zookeeper/x", "/zoo", "/zookeeper/quota/a", "/a"} {
		if IsSpecial(p) {
			t.Errorf("IsSpecial(%q) = true", p)
		}
	}
}

func TestSplitJoin(t *testing.T) {
	for _, tc := range []struct{ path, parent, name string }{
		{"/a", "/", "a"},
		{"/a/b", "/a", "b"},
		{"/a/b/c", "/a/b", "c"},
		{"/", "/", ""},
		{"/a/", "/a", ""},
		{"/zookeeper/config", "/zookeeper", "config"},
	} {
		p, n := Split(tc.path)
		if p != tc.parent || n != tc.name {
			t.Errorf("Split(%q) = %q, %q; want %q, %q", tc.path, p, n, tc.parent, tc.name)
		}
		if tc.name != "" && Join(p, n) != tc.path {
			t.Errorf("Join(%q, %q) = %q", p, n, Join(p, n))
		}
	}
}

// validatePathSpec is ValidatePath written as the rules read, in two passes
// (components, then decoded characters): the reference the one-pass
// ValidatePath is checked against.
func validatePathSpec(path string) bool {
	if len(path) == 0 || path[0] != '/' {
		return false
	}
	if path == "/" {
		return true
	}
	for _, c := range strings.Split(path[1:], "/") {
		if c == "" || c == "." || c == ".." {
			return false
		}
	}
	for i := 0; i < len(path); {
		r, size := utf8.DecodeRuneInString(path[i:])
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		if r <= 0x1f || (r >= 0x7f && r <= 0x9f) || (r >= 0xd800 && r <= 0xf8ff) || r >= 0xfff0 {
			return false
		}
		i += size
	}
	return true
}

// FuzzValidatePath: the one-pass ValidatePath agrees with the rules as
// written (validatePathSpec) on any string.
func FuzzValidatePath(f *testing.F) {
	for _, s := range []string{"/", "/a", "/a/b", "/a/", "//", "/a//b", "/.", "/..", "/a/./b", "/...", "/x\x7f",
		"/x\x1f", "/é", "/\u00a0", "/\uffef", "/\ufff0", "/\U00010000", "/\xff", "a/b", "", "/a/.."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		if got, want := ValidatePath(path) == nil, validatePathSpec(path); got != want {
			t.Fatalf("ValidatePath(%q) valid=%v, the rules say %v", path, got, want)
		}
	})
}
