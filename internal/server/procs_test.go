package server

import "testing"

func TestTunedProcs(t *testing.T) {
	for _, tc := range []struct {
		cur  int
		env  string
		want int
	}{
		{cur: 1, want: 2},           // one CPU: a second P for blocking system calls
		{cur: 2, want: 2},           // enough already
		{cur: 8, want: 8},           // never lowered
		{cur: 1, env: "1", want: 1}, // the operator chose
		{cur: 3, env: "3", want: 3},
	} {
		if got := tunedProcs(tc.cur, tc.env); got != tc.want {
			t.Errorf("tunedProcs(%d, %q) = %d, want %d", tc.cur, tc.env, got, tc.want)
		}
	}
}
