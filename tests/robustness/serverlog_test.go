package robustness

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// serverEvent is something a member logged that explains a session expiry: that it expired a
// session, or that it started leading.
type serverEvent struct {
	member int
	at     time.Time
	lead   bool  // started leading
	snap   bool  // installed a snapshot from the leader
	sid    int64 // expired this session (when !lead && !snap)
}

var (
	// Warren (log/slog text): time=2026-11-21T13:03:29.261Z level=INFO msg="session expired" session=0x2a1fe344f0c0004
	warrenTime    = regexp.MustCompile(`^time=(\S+) `)
	warrenExpired = regexp.MustCompile(`msg="session expired" session=0x([0-9a-f]+)`)
	warrenLeader  = regexp.MustCompile(`msg="became leader"`)
	warrenSnap    = regexp.MustCompile(`msg="installed snapshot from the leader"`)
	// ZooKeeper (log4j): 2026-11-21 13:04:50,805 - INFO  [SessionTracker:ZooKeeperServer@632] - Expiring session 0x200003ec6ab0001, timeout of 2960ms exceeded
	zkExpired = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .* Expiring session 0x([0-9a-f]+), timeout`)
	zkLeader  = regexp.MustCompile(`^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .* LEADING - LEADER ELECTION TOOK`)
)

func scanLines(path string, each func(line string)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		each(sc.Text())
	}
}

func (c *warrenCluster) serverEvents() []serverEvent {
	var out []serverEvent
	for i, m := range c.members {
		scanLines(m.logPath, func(line string) {
			tm := warrenTime.FindStringSubmatch(line)
			if tm == nil {
				return
			}
			at, err := time.Parse(time.RFC3339Nano, tm[1])
			if err != nil {
				return
			}
			if e := warrenExpired.FindStringSubmatch(line); e != nil {
				sid, _ := strconv.ParseUint(e[1], 16, 64)
				out = append(out, serverEvent{member: i, at: at, sid: int64(sid)})
			} else if warrenLeader.MatchString(line) {
				out = append(out, serverEvent{member: i, at: at, lead: true})
			} else if warrenSnap.MatchString(line) {
				out = append(out, serverEvent{member: i, at: at, snap: true})
			}
		})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].at.Before(out[b].at) })
	return out
}

func (c *zkCluster) serverEvents() []serverEvent {
	var out []serverEvent
	parse := func(s string) (time.Time, error) { return time.Parse("2006-01-02 15:04:05,000", s) }
	for i, m := range c.members {
		scanLines(filepath.Join(m.dir, "zookeeper.log"), func(line string) {
			if e := zkExpired.FindStringSubmatch(line); e != nil {
				if at, err := parse(e[1]); err == nil {
					sid, _ := strconv.ParseUint(e[2], 16, 64)
					out = append(out, serverEvent{member: i, at: at, sid: int64(sid)})
				}
			} else if l := zkLeader.FindStringSubmatch(line); l != nil {
				if at, err := parse(l[1]); err == nil {
					out = append(out, serverEvent{member: i, at: at, lead: true})
				}
			}
		})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].at.Before(out[b].at) })
	return out
}

// expiryCause names why a server expired session sid, when its logs and the nemesis history
// match a known pattern:
//
//   - "new-leader-before-extension": the server expired it in the moments before it noted
//     (and acted on) its own election, i.e. before giving every session a full timeout;
//
//   - "stale-leader-after-pause": the server had been SIGSTOPped while it led and expired it
//     within moments of SIGCONT, before it learnt that another member now led (every deadline
//     had lapsed while it was stopped; its closeSession cannot commit, but it answers the
//     session's reconnect with "expired").
//
//   - "one-way-partition": while a member could hear the others but not reach them (its
//     outgoing connections silenced), another member (the leader) expired it, during that
//     fault or within a session timeout (plus a little) after it: the silenced member kept
//     serving the session's client, but its session touches never reached the leader (bug
//     R6, fixed: no longer a known issue, so such an expiry fails a Warren run).
//
// It returns "" when no expiry of the session matches. maxTimeout bounds the sessions'
// timeouts.
func expiryCause(sid int64, events []serverEvent, pauses, oneWays []pauseRecord, maxTimeout time.Duration) (string, string) {
	for _, e := range events {
		if e.lead || e.snap || e.sid != sid {
			continue
		}
		for _, o := range oneWays {
			if o.member == e.member || o.to.IsZero() {
				continue
			}
			if !e.at.Before(o.from) && e.at.Before(o.to.Add(maxTimeout+2*time.Second)) {
				return "one-way-partition", fmt.Sprintf("member %d expired it at %s; member %d's outgoing peer connections were silenced from %s to %s",
					e.member+1, e.at.Format("15:04:05.000"), o.member+1, o.from.Format("15:04:05.000"), o.to.Format("15:04:05.000"))
			}
		}
		for _, p := range pauses {
			if p.member != e.member || !p.wasLeading || p.to.IsZero() {
				continue
			}
			if d := e.at.Sub(p.to); d >= -200*time.Millisecond && d <= time.Second {
				led := false
				for _, l := range events {
					if l.lead && l.member == e.member && l.at.After(p.to) && l.at.Before(e.at) {
						led = true
					}
				}
				if !led {
					return "stale-leader-after-pause", fmt.Sprintf("member %d, SIGSTOPped while leading from %s to %s, expired it %v after SIGCONT",
						e.member+1, p.from.Format("15:04:05.000"), p.to.Format("15:04:05.000"), d.Round(time.Millisecond))
				}
			}
		}
		for _, l := range events {
			if l.lead && l.member == e.member && !l.at.Before(e.at.Add(-5*time.Millisecond)) && l.at.Sub(e.at) <= 500*time.Millisecond {
				return "new-leader-before-extension", fmt.Sprintf("member %d expired it at %s and logged that it became leader %v later",
					e.member+1, e.at.Format("15:04:05.000"), l.at.Sub(e.at).Round(time.Millisecond))
			}
		}
	}
	return "", ""
}

// describeExpiries lists what the servers logged about a session, for a report.
func describeExpiries(sid int64, events []serverEvent) string {
	var parts []string
	for _, e := range events {
		if !e.lead && !e.snap && e.sid == sid {
			parts = append(parts, fmt.Sprintf("member %d at %s", e.member+1, e.at.Format("15:04:05.000")))
		}
	}
	if len(parts) == 0 {
		return "no server logged its expiry"
	}
	return "expired by " + strings.Join(parts, ", ")
}

// watchGapCause names why a watcher's stable connection to member missed changes, when the
// member's log shows a known cause during the connection: "snapshot-install-while-serving"
// (it caught up by installing the leader's snapshot, which fires no watch for the changes it
// skips, while it kept the connection).
func watchGapCause(member int, from, to time.Time, events []serverEvent) (string, string) {
	for _, e := range events {
		if e.snap && e.member == member && !e.at.Before(from) && !e.at.After(to) {
			return "snapshot-install-while-serving", fmt.Sprintf("member %d installed a snapshot from the leader at %s, during the connection (%s to %s)",
				member+1, e.at.Format("15:04:05.000"), from.Format("15:04:05.000"), to.Format("15:04:05.000"))
		}
	}
	return "", ""
}
