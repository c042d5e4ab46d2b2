package zkoracle

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOracle starts one server and checks the harness against it: four-letter words, options
// reaching zoo.cfg and the JVM, a raw ConnectRequest, and Stop.
func TestOracle(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := Start(t, &Options{
		TickTime:    1000,
		ExtraConfig: map[string]string{"maxClientCnxns": "17"},
		JVMProps:    map[string]string{"zookeeper.warren.oracletest": "yes"},
		JVMArgs:     []string{"-Xss1m"},
	})
	t.Logf("ZooKeeper serving on %s after %v (pid %d)", s.Addr, time.Since(start).Round(time.Millisecond), s.PID())

	if !strings.HasPrefix(s.Addr, "127.0.0.1:") || s.Port <= 0 {
		t.Fatalf("Addr = %q, Port = %d", s.Addr, s.Port)
	}

	t.Run("ruok", func(t *testing.T) {
		got, err := s.FourLetter("ruok")
		if err != nil || got != "imok" {
			t.Fatalf("ruok = %q, %v; want imok", got, err)
		}
	})

	t.Run("srvr", func(t *testing.T) {
		got, err := s.FourLetter("srvr")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Zookeeper version: 3.8.0", "Mode: standalone\n", "Node count: "} {
			if !strings.Contains(got, want) {
				t.Errorf("srvr lacks %q:\n%s", want, got)
			}
		}
	})

	t.Run("conf", func(t *testing.T) {
		got, err := s.FourLetter("conf")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"tickTime=1000\n",
			"maxClientCnxns=17\n",
			"dataDir=" + s.DataDir + "/version-2\n",
			"clientPort=" + itoa(s.Port) + "\n",
			"maxSessionTimeout=20000\n", // 20 × tickTime
		} {
			if !strings.Contains(got, want) {
				t.Errorf("conf lacks %q:\n%s", want, got)
			}
		}
	})

	t.Run("jvm-props", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("reads /proc")
		}
		cmdline, err := os.ReadFile("/proc/" + itoa(s.PID()) + "/cmdline")
		if err != nil {
			t.Fatal(err)
		}
		args := strings.Split(string(cmdline), "\x00")
		for _, want := range []string{"-Xmx256m", "-Dzookeeper.warren.oracletest=yes", "-Xss1m", MainClass, s.ConfigFile} {
			found := false
			for _, a := range args {
				found = found || a == want
			}
			if !found {
				t.Errorf("JVM command line lacks %q: %q", want, args)
			}
		}
	})

	t.Run("log-file", func(t *testing.T) {
		b, err := os.ReadFile(s.LogFile)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte("binding to port")) && !bytes.Contains(b, []byte("clientPortAddress")) {
			t.Errorf("%s does not look like a ZooKeeper log:\n%s", s.LogFile, tail(s.LogFile, 20))
		}
	})

	t.Run("loopback-only", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("reads /proc")
		}
		checkListeners(t, s.PID(), s.Port)
	})

	t.Run("raw-connect", func(t *testing.T) {
		// tickTime 1000 → maxSessionTimeout 20000: the requested 30000 is clamped.
		rawConnect(t, s.Addr, 20000)
	})

	t.Run("stop", func(t *testing.T) {
		s.Stop()
		s.Stop() // idempotent
		if _, err := s.FourLetter("ruok"); err == nil {
			t.Fatal("server still answers after Stop")
		}
		// The port is free again.
		l, err := net.Listen("tcp", s.Addr)
		if err != nil {
			t.Fatalf("port not released after Stop: %v", err)
		}
		l.Close()
	})
}

// TestStartRetriesWhenPortTaken hands Start a port that is in use first: ZooKeeper fails to bind
// and exits, and Start must try again with another port. It also covers nil Options.
// Not parallel: it replaces pickPort.
func TestStartRetriesWhenPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	calls := 0
	pickPort = func() (int, error) {
		calls++
		if calls == 1 {
			return taken, nil
		}
		return freePort()
	}
	defer func() { pickPort = freePort }()

	s := Start(t, nil)
	if calls < 2 || s.Port == taken {
		t.Fatalf("Start used port %d after %d picks; %d was taken", s.Port, calls, taken)
	}
	if got, err := s.FourLetter("ruok"); err != nil || got != "imok" {
		t.Fatalf("ruok = %q, %v", got, err)
	}
	conf, err := s.FourLetter("conf")
	if err != nil || !strings.Contains(conf, "tickTime=2000\n") {
		t.Errorf("default tickTime not 2000: %q, %v", conf, err)
	}
}

// rawConnect sends a 45-byte ConnectRequest body (with the readOnly byte) and checks the 37-byte
// ConnectResponse (zk-protocol.md §4.1, §4.2), then closes the session.
func rawConnect(t *testing.T, addr string, wantTimeout int32) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}

	req := make([]byte, 0, 4+45)
	req = binary.BigEndian.AppendUint32(req, 45)    // frame length
	req = binary.BigEndian.AppendUint32(req, 0)     // protocolVersion
	req = binary.BigEndian.AppendUint64(req, 0)     // lastZxidSeen
	req = binary.BigEndian.AppendUint32(req, 30000) // timeOut
	req = binary.BigEndian.AppendUint64(req, 0)     // sessionId
	req = binary.BigEndian.AppendUint32(req, 16)    // passwd length
	req = append(req, make([]byte, 16)...)          // passwd
	req = append(req, 0)                            // readOnly
	if len(req) != 4+45 {
		t.Fatalf("request is %d bytes", len(req))
	}
	if _, err := c.Write(req); err != nil {
		t.Fatal(err)
	}

	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatalf("reading ConnectResponse length: %v", err)
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n != 37 {
		t.Fatalf("ConnectResponse body is %d bytes, want 37", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatalf("reading ConnectResponse: %v", err)
	}
	protocolVersion := int32(binary.BigEndian.Uint32(body[0:]))
	timeout := int32(binary.BigEndian.Uint32(body[4:]))
	sessionID := binary.BigEndian.Uint64(body[8:])
	passwdLen := int32(binary.BigEndian.Uint32(body[16:]))
	readOnly := body[36]
	t.Logf("ConnectResponse: protocolVersion=%d timeOut=%d sessionId=0x%x passwdLen=%d readOnly=%d",
		protocolVersion, timeout, sessionID, passwdLen, readOnly)
	if protocolVersion != 0 || timeout != wantTimeout || sessionID == 0 || passwdLen != 16 || readOnly != 0 {
		t.Errorf("unexpected ConnectResponse % x", body)
	}
	if bytes.Equal(body[20:36], make([]byte, 16)) {
		t.Errorf("session password is all zero")
	}

	// Close the session politely: RequestHeader{xid 1, type closeSession (-11)}.
	closeReq := binary.BigEndian.AppendUint32(nil, 8)
	closeReq = binary.BigEndian.AppendUint32(closeReq, 1)
	closeReq = binary.BigEndian.AppendUint32(closeReq, uint32(0xFFFFFFF5)) // -11
	if _, err := c.Write(closeReq); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		t.Fatalf("reading closeSession reply: %v", err)
	}
	reply := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(c, reply); err != nil || len(reply) < 16 {
		t.Fatalf("closeSession reply % x: %v", reply, err)
	}
	if xid, errCode := int32(binary.BigEndian.Uint32(reply[0:])), int32(binary.BigEndian.Uint32(reply[12:])); xid != 1 || errCode != 0 {
		t.Errorf("closeSession reply xid=%d err=%d", xid, errCode)
	}
}

// checkListeners verifies that the JVM's only listening TCP sockets are on 127.0.0.1:port.
func checkListeners(t *testing.T, pid, port int) {
	t.Helper()
	inodes := map[string]bool{}
	fds, err := os.ReadDir("/proc/" + itoa(pid) + "/fd")
	if err != nil {
		t.Skipf("cannot read the JVM's fds: %v", err)
	}
	for _, fd := range fds {
		link, err := os.Readlink("/proc/" + itoa(pid) + "/fd/" + fd.Name())
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	want := fmt.Sprintf("0100007F:%04X", port) // 127.0.0.1:port as /proc/net/tcp prints it
	listeners := 0
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] { // 0A = LISTEN
				continue
			}
			listeners++
			if fields[1] != want {
				t.Errorf("JVM listens on %s in %s; want only %s (127.0.0.1:%d)", fields[1], f, want, port)
			}
		}
	}
	if listeners != 1 {
		t.Errorf("JVM has %d listening TCP sockets, want 1", listeners)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
