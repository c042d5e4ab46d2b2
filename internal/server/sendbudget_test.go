package server

import (
	"testing"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

func TestAppendBudget(t *testing.T) {
	app := func(to uint64, sizes ...int) *raftpb.Message {
		m := &raftpb.Message{Type: raftpb.MessageType_MsgApp.Enum(), To: proto.Uint64(to)}
		for _, n := range sizes {
			m.Entries = append(m.Entries, &raftpb.Entry{Data: make([]byte, n)})
		}
		return m
	}
	heartbeat := func(to uint64) *raftpb.Message {
		return &raftpb.Message{Type: raftpb.MessageType_MsgHeartbeat.Enum(), To: proto.Uint64(to)}
	}
	const mib = 1 << 20
	tests := []struct {
		name string
		msgs []*raftpb.Message
		want []bool
	}{
		{"small appends all pass", []*raftpb.Message{app(2, 100), app(2, 100), app(3, 100)}, []bool{true, true, true}},
		{"a probe storm to one peer is cut at the budget",
			[]*raftpb.Message{app(2, mib), app(2, mib), app(2, mib), app(2, mib), app(2, mib), app(2, mib)},
			[]bool{true, true, true, true, false, false}},
		{"each peer has its own budget",
			[]*raftpb.Message{app(2, 3*mib), app(3, 3*mib), app(2, 2*mib), app(3, mib)},
			[]bool{true, true, false, true}},
		{"one message over the budget alone still goes", []*raftpb.Message{app(2, 5*mib)}, []bool{true}},
		{"heartbeats and empty appends are never cut",
			[]*raftpb.Message{app(2, 5*mib), heartbeat(2), app(2), app(2, 10)},
			[]bool{true, true, true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b appendBudget
			for i, m := range tc.msgs {
				if got := b.allow(m); got != tc.want[i] {
					t.Errorf("message %d: allow = %v, want %v", i, got, tc.want[i])
				}
			}
		})
	}
}
