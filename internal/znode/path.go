package znode

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ErrBadPath reports a path that ZooKeeper's PathUtils.validatePath rejects.
var ErrBadPath = errors.New("invalid path")

// ValidatePath applies ZooKeeper's full path validation: absolute, no trailing
// slash (except "/"), no empty, "." or ".." components, no control,
// surrogate/private-use or U+FFF0..U+FFFF characters, valid UTF-8, and no code
// point above U+FFFF (Java sees those as surrogate pairs).
func ValidatePath(path string) error {
	if len(path) == 0 || path[0] != '/' {
		return ErrBadPath
	}
	if path == "/" {
		return nil
	}
	// One pass: components at each '/', characters in between (ASCII,
	// nearly every path, without decoding).
	start := 1
	for i := 1; i < len(path); {
		b := path[i]
		switch {
		case b == '/':
			if !validComponent(path[start:i]) {
				return ErrBadPath
			}
			i++
			start = i
			continue
		case b < utf8.RuneSelf:
			if b <= 0x1f || b == 0x7f {
				return ErrBadPath
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(path[i:])
		if r == utf8.RuneError && size <= 1 {
			return ErrBadPath
		}
		switch {
		case r <= 0x1f, r >= 0x7f && r <= 0x9f,
			r >= 0xd800 && r <= 0xf8ff, r >= 0xfff0:
			return ErrBadPath
		}
		i += size
	}
	// The last component ("" for a trailing slash).
	if !validComponent(path[start:]) {
		return ErrBadPath
	}
	return nil
}

// validComponent reports whether c may be a path component: not empty, "."
// or "..".
func validComponent(c string) bool { return c != "" && c != "." && c != ".." }

// HasSlashAndNoNUL is the light check ZooKeeper applies before delete and
// create: the path contains a '/' and no NUL byte.
func HasSlashAndNoNUL(path string) bool {
	return strings.IndexByte(path, '/') >= 0 && strings.IndexByte(path, 0) < 0
}

// IsSpecial reports whether path is one of the nodes that can never be deleted.
func IsSpecial(path string) bool {
	switch path {
	case "/", ZooKeeperPath, QuotaPath, ConfigPath:
		return true
	}
	return false
}
