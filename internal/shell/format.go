package shell

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/warren-zk/warren/zk"
)

// formatStat is zkCli's StatPrinter.
func formatStat(st zk.Stat, loc *time.Location, zone string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cZxid = 0x%s\n", hex(st.Czxid))
	fmt.Fprintf(&b, "ctime = %s\n", javaDate(st.Ctime, loc, zone))
	fmt.Fprintf(&b, "mZxid = 0x%s\n", hex(st.Mzxid))
	fmt.Fprintf(&b, "mtime = %s\n", javaDate(st.Mtime, loc, zone))
	fmt.Fprintf(&b, "pZxid = 0x%s\n", hex(st.Pzxid))
	fmt.Fprintf(&b, "cversion = %d\n", st.Cversion)
	fmt.Fprintf(&b, "dataVersion = %d\n", st.Version)
	fmt.Fprintf(&b, "aclVersion = %d\n", st.Aversion)
	fmt.Fprintf(&b, "ephemeralOwner = 0x%s\n", hex(st.EphemeralOwner))
	fmt.Fprintf(&b, "dataLength = %d\n", st.DataLength)
	fmt.Fprintf(&b, "numChildren = %d\n", st.NumChildren)
	return b.String()
}

// juteString is jute's ToStringOutputArchive escaping of a ustring.
func juteString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, c := range s {
		switch c {
		case 0:
			b.WriteString("%00")
		case '\n':
			b.WriteString("%0A")
		case '\r':
			b.WriteString("%0D")
		case ',':
			b.WriteString("%2C")
		case '}':
			b.WriteString("%7D")
		case '%':
			b.WriteString("%25")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

// formatACL is one line pair of getAcl: the jute toString of the Id (which
// ends in a newline), ": ", the permissions.
func formatACL(a zk.ACL) string {
	return juteString(a.Scheme) + "," + juteString(a.ID) + "\n: " + permString(a.Perms) + "\n"
}

// permString is ZKUtil.getPermString.
func permString(p zk.Perm) string { return p.String() }

// parseACL is zkCli's AclParser.parse; problems are reported on warn (stderr).
func parseACL(s string, warn func(string)) []zk.ACL {
	acl := []zk.ACL{}
	for _, a := range javaSplit(s, ",") {
		first, last := strings.IndexByte(a, ':'), strings.LastIndexByte(a, ':')
		if first == -1 || first == last {
			warn(a + " does not have the form scheme:id:perm")
			continue
		}
		var perm zk.Perm
		for _, c := range utf16Units(a[last+1:]) {
			switch c {
			case "r":
				perm |= zk.PermRead
			case "w":
				perm |= zk.PermWrite
			case "c":
				perm |= zk.PermCreate
			case "d":
				perm |= zk.PermDelete
			case "a":
				perm |= zk.PermAdmin
			default:
				warn("Unknown perm type: " + c)
			}
		}
		acl = append(acl, zk.ACL{Scheme: a[:first], ID: a[first+1 : last], Perms: perm})
	}
	return acl
}

// utf16Units splits s into its Java chars (a supplementary character
// yields its two surrogates, printed as U+FFFD each, as Java's encoder would).
func utf16Units(s string) []string {
	var out []string
	for _, r := range s {
		if r > 0xFFFF {
			out = append(out, "?", "?")
			continue
		}
		out = append(out, string(r))
	}
	return out
}

// openACL is ZooDefs.Ids.OPEN_ACL_UNSAFE.
var openACL = zk.WorldACL(zk.PermAll)

// statsTrack is org.apache.zookeeper.StatsTrack: the text of a quota's
// zookeeper_limits and zookeeper_stats nodes.
type statsTrack map[string]int64

func parseStatsTrack(s string) (statsTrack, error) {
	st := statsTrack{}
	if s == "" {
		return st, nil
	}
	for _, kv := range splitPairs(s) {
		parts := javaSplit(kv, "=")
		if len(parts) < 2 {
			return nil, fmt.Errorf("java.lang.ArrayIndexOutOfBoundsException: Index 1 out of bounds for length %d", len(parts))
		}
		v := parts[1]
		if v == "" {
			v = "-1"
		}
		n, err := parseJavaInt(v, 10, 64)
		if err != nil {
			return nil, err
		}
		st[parts[0]] = n
	}
	return st, nil
}

// splitPairs is StatsTrack's split on [,;]+.
func splitPairs(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' })
	// Pattern.split keeps a leading empty string when s starts with a separator.
	if len(s) > 0 && (s[0] == ',' || s[0] == ';') {
		f = append([]string{""}, f...)
	}
	return f
}

func (st statsTrack) get(k string) int64 {
	if v, ok := st[k]; ok {
		return v
	}
	return -1
}

func (st statsTrack) String() string {
	var b strings.Builder
	b.WriteString("count=" + strconv.FormatInt(st.get("count"), 10) + ",bytes=" + strconv.FormatInt(st.get("bytes"), 10))
	var keys []string
	for k := range st {
		if k != "count" && k != "bytes" {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		b.WriteString("=")
		sort.Slice(keys, func(i, j int) bool { return javaLess(keys[i], keys[j]) })
		for _, k := range keys {
			b.WriteString(";" + k + "=" + strconv.FormatInt(st[k], 10))
		}
	}
	return b.String()
}

// hexDump is netty's ByteBufUtil.prettyHexDump (zkCli 3.9's get -x).
func hexDump(data []byte) string {
	if len(data) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("         +-------------------------------------------------+\n" +
		"         |  0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f |\n" +
		"+--------+-------------------------------------------------+----------------+")
	for row := 0; row*16 < len(data); row++ {
		line := data[row*16 : min(len(data), row*16+16)]
		fmt.Fprintf(&b, "\n|%08x|", row*16)
		for _, c := range line {
			fmt.Fprintf(&b, " %02x", c)
		}
		b.WriteString(strings.Repeat("   ", 16-len(line)))
		b.WriteString(" |")
		for _, c := range line {
			if c <= 0x1f || c >= 0x7f {
				c = '.'
			}
			b.WriteByte(c)
		}
		b.WriteString(strings.Repeat(" ", 16-len(line)))
		b.WriteString("|")
	}
	b.WriteString("\n+--------+-------------------------------------------------+----------------+")
	return b.String()
}

// clientConfigString is ConfigUtils.getClientConfigStr: the config
// version and the client addresses of the server.N lines of a dynamic
// configuration, in the order Java's Properties (a ConcurrentHashMap of 16
// bins) iterates them.
func clientConfigString(config string) string {
	type entry struct {
		key, value string
		hash       int32
	}
	var entries []entry
	for _, line := range strings.FieldsFunc(config, func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.TrimLeft(line, " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		k, v := line, ""
		if i >= 0 {
			k, v = line[:i], strings.TrimLeft(line[i+1:], " \t\f")
		}
		k = strings.TrimRight(k, " \t\f")
		h := javaHashCode(k)
		replaced := false
		for j := range entries {
			if entries[j].key == k {
				entries[j].value, replaced = v, true
			}
		}
		if !replaced {
			entries = append(entries, entry{k, v, h})
		}
	}
	bins := 16
	for len(entries) >= bins*3/4 {
		bins *= 2
	}
	spread := func(h int32) int { return int((uint32(h) ^ uint32(h)>>16) & 0x7fffffff) }
	sort.SliceStable(entries, func(i, j int) bool {
		return spread(entries[i].hash)&(bins-1) < spread(entries[j].hash)&(bins-1)
	})
	version := ""
	var addrs []string
	for _, e := range entries {
		key, value := strings.TrimSpace(e.key), strings.TrimSpace(e.value)
		if key == "version" {
			version = value
		}
		if !strings.HasPrefix(key, "server.") {
			continue
		}
		addr := ""
		if i := strings.LastIndexByte(value, ';'); i >= 0 {
			client := value[i+1:]
			host, port := "0.0.0.0", client
			if j := strings.LastIndexByte(client, ':'); j >= 0 {
				host, port = client[:j], client[j+1:]
			}
			addr = host + ":" + port
		}
		addrs = append(addrs, addr)
	}
	return version + " " + strings.Join(addrs, ",")
}
