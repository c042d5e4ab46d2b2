package shell

import (
	"strings"
)

// This file reproduces Apache commons-cli 1.5's DefaultParser, which every
// zkCli command uses, including the messages of its exceptions (zkCli prints
// them as "org.apache.commons.cli.<Exception>: <message>").

// optSpec is one option of a command.
type optSpec struct {
	name   string // the "short" name, which may have several letters (reconfig's -file)
	hasArg bool
	desc   string
}

// optSet is a command's options; at most one OptionGroup (setquota,
// delquota), optionally required.
type optSet struct {
	opts          []optSpec
	group         []string // names in the group, in order
	groupRequired bool
}

func (s *optSet) get(name string) *optSpec {
	for i := range s.opts {
		if s.opts[i].name == name {
			return &s.opts[i]
		}
	}
	return nil
}

func (s *optSet) inGroup(name string) bool {
	for _, g := range s.group {
		if g == name {
			return true
		}
	}
	return false
}

// cmdLine is a parsed command line (commons-cli's CommandLine).
type cmdLine struct {
	args   []string            // the arguments that are not options, the command name first
	values map[string][]string // option → its values (an entry for every option given)
}

func (c *cmdLine) has(name string) bool { _, ok := c.values[name]; return ok }

func (c *cmdLine) value(name string) string {
	if v := c.values[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// parseError is a commons-cli ParseException; zkCli prints its toString().
type parseError struct{ class, msg string }

func (e *parseError) Error() string { return "org.apache.commons.cli." + e.class + ": " + e.msg }

type optParser struct {
	set      *optSet
	cl       *cmdLine
	current  *optSpec // option waiting for its value
	curHas   bool     // current has got its value
	skip     bool     // after "--"
	selected string   // the group's selected option
}

// parseOpts parses tokens (the command name first) as DefaultParser.parse
// does with stopAtNonOption=false.
func parseOpts(set *optSet, tokens []string) (*cmdLine, error) {
	p := &optParser{set: set, cl: &cmdLine{values: map[string][]string{}}}
	for _, t := range tokens {
		if err := p.token(t); err != nil {
			return nil, err
		}
	}
	if err := p.checkRequiredArgs(); err != nil {
		return nil, err
	}
	if set.groupRequired && p.selected == "" {
		var parts []string
		for _, g := range set.group {
			o := set.get(g)
			parts = append(parts, "-"+o.name+" "+o.desc)
		}
		return nil, &parseError{"MissingOptionException", "Missing required option: [" + strings.Join(parts, ", ") + "]"}
	}
	return p.cl, nil
}

func (p *optParser) acceptsArg() bool { return p.current != nil && p.current.hasArg && !p.curHas }

func (p *optParser) token(t string) error {
	switch {
	case p.skip:
		p.cl.args = append(p.cl.args, t)
	case t == "--":
		p.skip = true
	case p.acceptsArg() && p.isArgument(t):
		p.addValue(t)
	case strings.HasPrefix(t, "--"):
		// No command has long options.
		return p.unknown(t)
	case strings.HasPrefix(t, "-") && t != "-":
		if err := p.shortOption(t); err != nil {
			return err
		}
	default:
		if err := p.unknown(t); err != nil {
			return err
		}
	}
	if p.current != nil && !p.acceptsArg() {
		p.current = nil
	}
	return nil
}

func (p *optParser) addValue(v string) {
	p.cl.values[p.current.name] = append(p.cl.values[p.current.name], v)
	p.curHas = true
}

func (p *optParser) isArgument(t string) bool { return !p.isShortOption(t) || javaDouble(t) }

func (p *optParser) isShortOption(t string) bool {
	if !strings.HasPrefix(t, "-") || len(t) == 1 {
		return false
	}
	name := t[1:]
	if i := strings.IndexByte(name, '='); i >= 0 {
		name = name[:i]
	}
	if p.set.get(name) != nil {
		return true
	}
	return name != "" && p.set.get(name[:1]) != nil
}

func (p *optParser) unknown(t string) error {
	if strings.HasPrefix(t, "-") && len(t) > 1 {
		return &parseError{"UnrecognizedOptionException", "Unrecognized option: " + t}
	}
	p.cl.args = append(p.cl.args, t)
	return nil
}

func (p *optParser) shortOption(token string) error {
	t := strings.TrimPrefix(token, "-")
	pos := strings.IndexByte(t, '=')
	switch {
	case len(t) == 1:
		if o := p.set.get(t); o != nil {
			return p.handle(o)
		}
		return p.unknown(token)
	case pos < 0:
		if o := p.set.get(t); o != nil {
			return p.handle(o)
		}
		return p.concatenated(token)
	default:
		name, value := t[:pos], t[pos+1:]
		if len(name) == 1 {
			if o := p.set.get(name); o != nil && o.hasArg {
				if err := p.handle(o); err != nil {
					return err
				}
				p.addValue(value)
				p.current = nil
				return nil
			}
		}
		return p.unknown(token)
	}
}

func (p *optParser) concatenated(token string) error {
	for i := 1; i < len(token); i++ {
		o := p.set.get(token[i : i+1])
		if o == nil {
			return p.unknown(token)
		}
		if err := p.handle(o); err != nil {
			return err
		}
		if p.current != nil && len(token) != i+1 {
			p.addValue(token[i+1:])
			break
		}
	}
	return nil
}

func (p *optParser) checkRequiredArgs() error {
	if p.current != nil && p.current.hasArg && !p.curHas {
		return &parseError{"MissingArgumentException", "Missing argument for option: " + p.current.name}
	}
	return nil
}

func (p *optParser) handle(o *optSpec) error {
	if err := p.checkRequiredArgs(); err != nil {
		return err
	}
	if p.set.inGroup(o.name) {
		if p.selected != "" && p.selected != o.name {
			return &parseError{"AlreadySelectedException", "The option '" + o.name +
				"' was specified but an option from this group has already been selected: '" + p.selected + "'"}
		}
		p.selected = o.name
	}
	if _, ok := p.cl.values[o.name]; !ok {
		p.cl.values[o.name] = nil
	}
	p.current, p.curHas = nil, false
	if o.hasArg {
		p.current = o
	}
	return nil
}
