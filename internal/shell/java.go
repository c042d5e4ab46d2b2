package shell

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// This file reproduces the few pieces of Java behaviour that show in zkCli's
// output: how ZooKeeperMain splits a line, how Java decodes UTF-8, parses
// numbers, sorts strings, splits on "/", and prints a Date.

// argsPattern is ZooKeeperMain.MyCommandOptions.ARGS_PATTERN with Java's \s
// (which, unlike RE2's, includes \x0B) spelled out.
var argsPattern = regexp.MustCompile("[ \t\n\x0B\f\r]*([^\"'][^ \t\n\x0B\f\r]*|\"[^\"]*\"|'[^']*')[ \t\n\x0B\f\r]*")

// SplitLine breaks a command line into words exactly as zkCli does: words
// are separated by white space; a word that starts with a quote runs to the
// matching quote (and loses both quotes); an unmatched quote is skipped. It
// returns nil for a line with no words.
func SplitLine(line string) []string {
	var args []string
	for _, m := range argsPattern.FindAllStringSubmatch(line, -1) {
		v := m[1]
		// QUOTED_PATTERN ^(['"])(.*)(\1)$ ('.' matches no line terminator).
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] &&
			!strings.ContainsAny(v[1:len(v)-1], "\n\r\u0085\u2028\u2029") {
			v = v[1 : len(v)-1]
		}
		args = append(args, v)
	}
	return args
}

// JavaString returns b decoded the way Java's new String(b, UTF_8) does:
// each maximal ill-formed subsequence becomes one U+FFFD.
func JavaString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || n > 1 {
			sb.WriteRune(r)
			i += n
			continue
		}
		sb.WriteRune(utf8.RuneError)
		i += maximalSubpart(b[i:])
	}
	return sb.String()
}

// maximalSubpart returns the length (at least 1) of the longest prefix of b
// that starts a well-formed UTF-8 sequence without completing it.
func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(b); k++ {
		x := b[n]
		if k == 0 {
			if x < lo || x > hi {
				break
			}
		} else if x < 0x80 || x > 0xBF {
			break
		}
		n++
	}
	return n
}

// numberFormatError is Java's NumberFormatException: zkCli does not catch it
// in several commands, and the JVM then dies with its message.
type numberFormatError struct{ msg string }

func (e *numberFormatError) Error() string { return "java.lang.NumberFormatException: " + e.msg }

func forInputString(s string, radix int) error {
	msg := `For input string: "` + s + `"`
	if radix != 10 {
		msg += " under radix " + strconv.Itoa(radix)
	}
	return &numberFormatError{msg}
}

// parseJavaInt is Integer.parseInt / Long.parseLong (bits 32 or 64) with the
// given radix: an optional sign, then at least one digit, nothing else.
func parseJavaInt(s string, radix, bits int) (int64, error) {
	if s == "" {
		return 0, forInputString(s, radix)
	}
	digits := s
	if s[0] == '+' || s[0] == '-' {
		digits = s[1:]
	}
	if digits == "" {
		return 0, forInputString(s, radix)
	}
	for _, c := range digits {
		if c > 0x7f { // Java accepts other Unicode digits; keep it simple
			return 0, forInputString(s, radix)
		}
	}
	v, err := strconv.ParseInt(s, radix, bits)
	if err != nil || strings.ContainsRune(digits, '_') {
		return 0, forInputString(s, radix)
	}
	return v, nil
}

// javaDecode is Integer.decode: decimal, 0x/0X/# hexadecimal, 0 octal.
func javaDecode(nm string) (int64, error) {
	if nm == "" {
		return 0, &numberFormatError{"Zero length string"}
	}
	radix, index, negative := 10, 0, false
	switch nm[0] {
	case '-':
		negative, index = true, 1
	case '+':
		index = 1
	}
	rest := nm[index:]
	switch {
	case strings.HasPrefix(rest, "0x"), strings.HasPrefix(rest, "0X"):
		index, radix = index+2, 16
	case strings.HasPrefix(rest, "#"):
		index, radix = index+1, 16
	case strings.HasPrefix(rest, "0") && len(rest) > 1:
		index, radix = index+1, 8
	}
	if strings.HasPrefix(nm[index:], "-") || strings.HasPrefix(nm[index:], "+") {
		return 0, &numberFormatError{"Sign character in wrong position"}
	}
	constant := nm[index:]
	if negative {
		constant = "-" + constant
	}
	return parseJavaInt(constant, radix, 32)
}

// javaDouble reports whether Double.parseDouble accepts s (commons-cli uses
// it to let negative numbers through as option values).
var javaDoubleRE = regexp.MustCompile(`^[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+)[fFdD]?)$`)

func javaDouble(s string) bool {
	return javaDoubleRE.MatchString(strings.Trim(s, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
}

// javaLess is String.compareTo: UTF-16 code unit order.
func javaLess(a, b string) bool {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	for i := 0; i < len(ua) && i < len(ub); i++ {
		if ua[i] != ub[i] {
			return ua[i] < ub[i]
		}
	}
	return len(ua) < len(ub)
}

// javaSplit is s.split(sep) for a one-character, non-regex-special sep:
// trailing empty strings are removed.
func javaSplit(s, sep string) []string {
	if s == "" {
		return []string{""}
	}
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// javaDate is java.util.Date.toString() of ms since the epoch in zone loc
// (whose IANA name is zone): "EEE MMM dd HH:mm:ss zzz yyyy".
func javaDate(ms int64, loc *time.Location, zone string) string {
	t := time.UnixMilli(ms).In(loc)
	return t.Format("Mon Jan 02 15:04:05 ") + javaZoneName(t, zone) + " " + strconv.Itoa(t.Year())
}

// javaZoneName is the zone's name as Java prints it: the tz database's
// abbreviation, or for the zones where that is numeric ("+04") Java's own
// ("GST"), or "GMT+04:00".
func javaZoneName(t time.Time, zone string) string {
	name, offset := t.Zone()
	if name != "" && name[0] != '+' && name[0] != '-' {
		return name
	}
	if n, ok := javaZones[zone]; ok {
		if t.IsDST() {
			return n[1]
		}
		return n[0]
	}
	sign := '+'
	if offset < 0 {
		sign, offset = '-', -offset
	}
	if offset == 0 {
		return "GMT"
	}
	return fmt.Sprintf("GMT%c%02d:%02d", sign, offset/3600, offset%3600/60)
}

// hex is Long.toHexString.
func hex(v int64) string { return strconv.FormatUint(uint64(v), 16) }

// javaUpper is String.toUpperCase for the ASCII letters that matter here.
func javaUpper(s string) string { return strings.ToUpper(s) }

// javaHashCode is String.hashCode.
func javaHashCode(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// errIllegalArgument is a Java IllegalArgumentException: its message is
// what zkCli prints (as a MalformedPathException, for the path checks).
type errIllegalArgument struct{ msg string }

func (e *errIllegalArgument) Error() string { return e.msg }

func illegalArgument(format string, a ...any) error {
	return &errIllegalArgument{fmt.Sprintf(format, a...)}
}

func isIllegalArgument(err error) (string, bool) {
	var ia *errIllegalArgument
	if errors.As(err, &ia) {
		return ia.msg, true
	}
	return "", false
}

// ValidatePath is ZooKeeper's PathUtils.validatePath, with its messages.
func ValidatePath(path string) error {
	if path == "" {
		return illegalArgument("Path length must be > 0")
	}
	if path[0] != '/' {
		return illegalArgument("Path must start with / character")
	}
	if len(path) == 1 {
		return nil
	}
	if path[len(path)-1] == '/' {
		return illegalArgument("Path must not end with / character")
	}
	chars := utf16.Encode([]rune(path))
	reason := ""
	lastc := uint16('/')
	for i := 1; i < len(chars); lastc, i = chars[i], i+1 {
		c := chars[i]
		switch {
		case c == 0:
			reason = fmt.Sprintf("null character not allowed @%d", i)
		case c == '/' && lastc == '/':
			reason = fmt.Sprintf("empty node name specified @%d", i)
		case c == '.' && lastc == '.':
			if chars[i-2] == '/' && (i+1 == len(chars) || chars[i+1] == '/') {
				reason = fmt.Sprintf("relative paths not allowed @%d", i)
			}
		case c == '.':
			if chars[i-1] == '/' && (i+1 == len(chars) || chars[i+1] == '/') {
				reason = fmt.Sprintf("relative paths not allowed @%d", i)
			}
		case c > 0 && c <= 0x1f, c >= 0x7f && c <= 0x9f, c >= 0xd800 && c <= 0xf8ff, c >= 0xfff0:
			reason = fmt.Sprintf("invalid character @%d", i)
		}
		if reason != "" {
			break
		}
	}
	if reason != "" {
		return illegalArgument("Invalid path string \"%s\" caused by %s", path, reason)
	}
	return nil
}

// validateSeqPath is PathUtils.validatePath(path, isSequential).
func validateSeqPath(path string, sequential bool) error {
	if sequential {
		return ValidatePath(path + "1")
	}
	return ValidatePath(path)
}

// maxTTL is EphemeralType.TTL's largest TTL (40 bits of ms).
const maxTTL = 0xFFFFFFFFFF
