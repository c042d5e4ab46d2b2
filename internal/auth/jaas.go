package auth

import (
	"fmt"
	"os"
	"strings"
)

// LoginModule is one entry of a JAAS section.
type LoginModule struct {
	Class   string
	Flag    string // required, requisite, sufficient or optional
	Options map[string]string
}

// JAAS is a parsed JAAS login configuration: sections by name.
type JAAS map[string][]LoginModule

// LoadJAAS reads a JAAS login configuration file.
func LoadJAAS(path string) (JAAS, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	j, err := ParseJAAS(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return j, nil
}

// ParseJAAS parses the syntax of Java's ConfigFile:
//
//	Name { module.Class flag key="value" key2=value2; other.Module flag; };
//
// with //, /* */ and # comments. Quoted values may use backslash escapes.
func ParseJAAS(src string) (JAAS, error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	j := JAAS{}
	i := 0
	next := func() (token, bool) {
		if i >= len(toks) {
			return token{}, false
		}
		i++
		return toks[i-1], true
	}
	expect := func(what string) error {
		t, ok := next()
		if !ok || t.quoted || t.s != what {
			return fmt.Errorf("line %d: expected %q", t.line, what)
		}
		return nil
	}
	for i < len(toks) {
		name, _ := next()
		if name.quoted || isPunct(name.s) {
			return nil, fmt.Errorf("line %d: expected a section name, got %q", name.line, name.s)
		}
		if err := expect("{"); err != nil {
			return nil, err
		}
		var mods []LoginModule
		for {
			t, ok := next()
			if !ok {
				return nil, fmt.Errorf("section %s is not closed", name.s)
			}
			if !t.quoted && t.s == "}" {
				break
			}
			if t.quoted || isPunct(t.s) {
				return nil, fmt.Errorf("line %d: expected a login module class, got %q", t.line, t.s)
			}
			flag, ok := next()
			if !ok {
				return nil, fmt.Errorf("line %d: login module %s has no control flag", t.line, t.s)
			}
			switch strings.ToLower(flag.s) {
			case "required", "requisite", "sufficient", "optional":
			default:
				return nil, fmt.Errorf("line %d: invalid control flag %q", flag.line, flag.s)
			}
			m := LoginModule{Class: t.s, Flag: strings.ToLower(flag.s), Options: map[string]string{}}
			for {
				k, ok := next()
				if !ok {
					return nil, fmt.Errorf("line %d: login module %s is not terminated by ';'", t.line, t.s)
				}
				if !k.quoted && k.s == ";" {
					break
				}
				if k.quoted || isPunct(k.s) {
					return nil, fmt.Errorf("line %d: expected an option name, got %q", k.line, k.s)
				}
				if err := expect("="); err != nil {
					return nil, err
				}
				v, ok := next()
				if !ok || (!v.quoted && isPunct(v.s)) {
					return nil, fmt.Errorf("line %d: option %s has no value", k.line, k.s)
				}
				m.Options[k.s] = v.s
			}
			mods = append(mods, m)
		}
		if err := expect(";"); err != nil {
			return nil, err
		}
		j[name.s] = append(j[name.s], mods...)
	}
	return j, nil
}

type token struct {
	s      string
	quoted bool
	line   int
}

func isPunct(s string) bool { return s == "{" || s == "}" || s == ";" || s == "=" }

func tokenize(src string) ([]token, error) {
	var toks []token
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f':
			i++
		case c == '#' || (c == '/' && i+1 < len(src) && src[i+1] == '/'):
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated comment", line)
			}
			line += strings.Count(src[i:i+2+end], "\n")
			i += end + 4
		case c == '{' || c == '}' || c == ';' || c == '=':
			toks = append(toks, token{s: string(c), line: line})
			i++
		case c == '"':
			var b strings.Builder
			start := line
			i++
			for {
				if i >= len(src) {
					return nil, fmt.Errorf("line %d: unterminated string", start)
				}
				if src[i] == '"' {
					i++
					break
				}
				if src[i] == '\\' && i+1 < len(src) {
					i++
					switch src[i] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					default:
						b.WriteByte(src[i])
					}
					i++
					continue
				}
				if src[i] == '\n' {
					line++
				}
				b.WriteByte(src[i])
				i++
			}
			toks = append(toks, token{s: b.String(), quoted: true, line: start})
		default:
			start := i
			for i < len(src) && !strings.ContainsRune(" \t\r\n\f{};=\"", rune(src[i])) {
				i++
			}
			toks = append(toks, token{s: src[start:i], line: line})
		}
	}
	return toks, nil
}

// DigestUsers returns the DIGEST-MD5 users of section: every option named user_<name> of
// any of its login modules, as ZooKeeper's SaslServerCallbackHandler collects them.
func (j JAAS) DigestUsers(section string) (map[string]string, error) {
	mods, ok := j[section]
	if !ok {
		return nil, fmt.Errorf("no JAAS configuration section named %q was found", section)
	}
	users := map[string]string{}
	for _, m := range mods {
		for k, v := range m.Options {
			if name, ok := strings.CutPrefix(k, "user_"); ok {
				users[name] = v
			}
		}
	}
	return users, nil
}

// JVMProps returns the -Dkey=value system properties in a JVM command line such as
// SERVER_JVMFLAGS (split on spaces; quotes are honoured).
func JVMProps(flags string) map[string]string {
	out := map[string]string{}
	for _, f := range splitShell(flags) {
		if kv, ok := strings.CutPrefix(f, "-D"); ok {
			k, v, _ := strings.Cut(kv, "=")
			if k != "" {
				out[k] = v
			}
		}
	}
	return out
}

func splitShell(s string) []string {
	var out []string
	var b strings.Builder
	in, q := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '"' || c == '\''):
			q, in = c, true
		case q == 0 && (c == ' ' || c == '\t' || c == '\n'):
			if in {
				out = append(out, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, b.String())
	}
	return out
}
