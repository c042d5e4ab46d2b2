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
	if path[len(path)-1] == '/' {
		return ErrBadPath
	}
	start := 1
	for i := 1; i <= len(path); i++ {
		if i == len(path) || path[i] == '/' {
			c := path[start:i]
			if c == "" || c == "." || c == ".." {
				return ErrBadPath
			}
			start = i + 1
		}
	}
	for i := 0; i < len(path); {
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
	return nil
}

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
