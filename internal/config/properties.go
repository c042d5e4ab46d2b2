package config

import (
	"strconv"
	"strings"
	"unicode/utf16"
)

// entry is one key/value pair of a Java properties file, with the 1-based
// line its logical line started on.
type entry struct {
	key, value string
	line       int
	err        string // non-empty if the line could not be decoded
}

// readProperties splits data into entries following java.util.Properties.load:
// natural lines end at \n, \r or \r\n; leading blanks (space, tab, form feed)
// are skipped; lines starting with # or ! are comments; a line ending in an odd
// number of backslashes continues on the next line (whose leading blanks are
// skipped); the key ends at the first unescaped '=', ':' or blank; escapes are
// \t \n \r \f \uXXXX and \x for any other x. Keys and values are returned
// trimmed, as ZooKeeper trims them.
func readProperties(data string) []entry {
	var out []entry
	var buf strings.Builder
	start, cont := 0, false
	emit := func() {
		if buf.Len() > 0 {
			out = append(out, splitKeyValue(buf.String(), start))
		}
		buf.Reset()
		cont = false
	}
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		i := strings.IndexAny(data, "\r\n")
		var natural string
		if i < 0 {
			natural, data = data, ""
		} else {
			natural = data[:i]
			if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			data = data[i+1:]
		}
		s := strings.TrimLeft(natural, " \t\f")
		if !cont {
			if s == "" || s[0] == '#' || s[0] == '!' {
				continue
			}
			start = lineNo
		}
		n := 0 // trailing backslashes
		for n < len(s) && s[len(s)-1-n] == '\\' {
			n++
		}
		if n%2 == 1 {
			buf.WriteString(s[:len(s)-1])
			cont = true
			continue
		}
		buf.WriteString(s)
		emit()
	}
	emit()
	return out
}

// splitKeyValue splits one logical line into its key and value.
func splitKeyValue(line string, lineNo int) entry {
	keyEnd, valStart, hasSep, esc := len(line), len(line), false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		if !esc && (c == '=' || c == ':') {
			keyEnd, valStart, hasSep = i, i+1, true
			break
		}
		if !esc && (c == ' ' || c == '\t' || c == '\f') {
			keyEnd, valStart = i, i+1
			break
		}
		esc = c == '\\' && !esc
	}
	for valStart < len(line) {
		c := line[valStart]
		if c != ' ' && c != '\t' && c != '\f' {
			if hasSep || (c != '=' && c != ':') {
				break
			}
			hasSep = true
		}
		valStart++
	}
	e := entry{line: lineNo}
	var err1, err2 string
	e.key, err1 = unescape(line[:keyEnd])
	e.value, err2 = unescape(line[valStart:])
	e.key, e.value = javaTrim(e.key), javaTrim(e.value)
	if err1 != "" {
		e.err = err1
	} else {
		e.err = err2
	}
	return e
}

// unescape decodes Properties escapes. A malformed \uXXXX is reported, as
// Java rejects the whole file for it.
func unescape(s string) (string, string) {
	if !strings.Contains(s, `\`) {
		return s, ""
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			break // a lone trailing backslash is dropped
		}
		switch c = s[i]; c {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			r, ok := hex4(s, i+1)
			if !ok {
				return s, `malformed \uxxxx encoding`
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(s, i+3); ok && i+2 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != '\uFFFD' {
						r = d
						i += 6
					}
				}
			}
			b.WriteRune(r) // a lone surrogate becomes U+FFFD
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), ""
}

func hex4(s string, at int) (rune, bool) {
	if at < 0 || at+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[at:at+4], 16, 16)
	if err != nil {
		return 0, false
	}
	return rune(v), true
}

// javaTrim is Java's String.trim: it strips every char <= ' ' at both ends.
func javaTrim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
}
