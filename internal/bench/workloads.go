package bench

import (
	"context"
	"fmt"
	"strconv"

	"github.com/warren-zk/warren/internal/proto"
)

// workload generates the requests of one kind of load.
type workload interface {
	// setup prepares the znodes the workload needs (unmeasured); every
	// session is connected (except for churn).
	setup(ctx context.Context, r *runner) error
	// next describes session s's next request. counted=false marks a
	// helper request (a bucket directory) that is not measured; ok=false
	// means the session has no more work. req is encoded before next is
	// called again, so it may point into s.
	next(r *runner, s *session) (op proto.OpCode, req proto.Record, counted, ok bool)
}

func workloadFor(cfg Config) workload {
	switch cfg.Workload {
	case "create":
		return &createLoad{flags: proto.ModePersistent, name: "n"}
	case "create-seq":
		return &createLoad{flags: proto.ModePersistentSequential, name: "n-"}
	case "delete":
		return &deleteLoad{}
	case "set", "get", "exists", "mixed":
		return &keyLoad{kind: cfg.Workload}
	case "children":
		return &childrenLoad{}
	case "multi":
		return &multiLoad{}
	case "load":
		return &bulkLoad{}
	case "watch":
		return &watchLoad{}
	case "churn":
		return churnLoad{}
	}
	panic("bench: no workload " + cfg.Workload)
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

// Key space layout: key i is dir/b<i/fanout>/k<i>.
func bucketPath(dir string, j int64) string { return dir + "/b" + itoa(j) }

func keyPath(dir string, i int64) string {
	return dir + "/b" + itoa(i/fanout) + "/k" + itoa(i)
}

// createBuckets creates the bucket directories for n keys.
func (r *runner) createBuckets(ctx context.Context, n int64) error {
	nb := (n + fanout - 1) / fanout
	return r.spread(ctx, int(nb), func(i int) (proto.OpCode, proto.Record) {
		return proto.OpCreate, &proto.CreateRequest{Path: bucketPath(r.dir, int64(i)), Acl: proto.OpenACLUnsafe}
	})
}

// createKeys creates the key space 0..n-1 with values of ValueSize bytes and
// remembers the paths in r.keys.
func (r *runner) createKeys(ctx context.Context, n int64) error {
	if err := r.createBuckets(ctx, n); err != nil {
		return err
	}
	r.keys = make([]string, n)
	for i := range r.keys {
		r.keys[i] = keyPath(r.dir, int64(i))
	}
	return r.spread(ctx, int(n), func(i int) (proto.OpCode, proto.Record) {
		return proto.OpCreate, &proto.CreateRequest{Path: r.keys[i], Data: r.value, Acl: proto.OpenACLUnsafe}
	})
}

// sessionDirs gives every session its own directory dir/s<idx>.
func (r *runner) sessionDirs(ctx context.Context) error {
	for _, s := range r.sess {
		s.dir = r.dir + "/s" + itoa(int64(s.idx))
	}
	return r.spread(ctx, len(r.sess), func(i int) (proto.OpCode, proto.Record) {
		return proto.OpCreate, &proto.CreateRequest{Path: r.sess[i].dir, Acl: proto.OpenACLUnsafe}
	})
}

// nextBucket returns the request creating the bucket directory that node
// number s.n goes into, if it does not exist yet.
func nextBucket(s *session) (proto.OpCode, proto.Record, bool) {
	j := s.n / fanout
	if j == s.bucket {
		return 0, nil, false
	}
	s.bucket = j
	s.bucketDir = bucketPath(s.dir, j)
	s.create = proto.CreateRequest{Path: s.bucketDir, Acl: proto.OpenACLUnsafe}
	return proto.OpCreate, &s.create, true
}

// childPath returns dir/name<n> (dir/name if n < 0) with one allocation.
func (s *session) childPath(dir, name string, n int64) string {
	b := append(s.pathBuf[:0], dir...)
	b = append(b, '/')
	b = append(b, name...)
	if n >= 0 {
		b = strconv.AppendInt(b, n, 10)
	}
	s.pathBuf = b
	return string(b)
}

// createLoad: every request creates a new znode of ValueSize bytes in the
// session's own directory, dir/s<session>/b<bucket>/<name><n> (the server
// appends the sequence number for create-seq).
type createLoad struct {
	flags int32
	name  string
}

func (w *createLoad) setup(ctx context.Context, r *runner) error { return r.sessionDirs(ctx) }

func (w *createLoad) next(r *runner, s *session) (proto.OpCode, proto.Record, bool, bool) {
	if op, req, ok := nextBucket(s); ok {
		return op, req, false, true
	}
	n := s.n
	if w.flags != proto.ModePersistent {
		n = -1 // the server appends the sequence number
	}
	s.create = proto.CreateRequest{
		Path: s.childPath(s.bucketDir, w.name, n), Data: r.value,
		Acl: proto.OpenACLUnsafe, Flags: w.flags,
	}
	s.n++
	return proto.OpCreate, &s.create, true, true
}

// deleteLoad pre-creates Ops (or, without an op bound, Keys) znodes and
// deletes them; session i deletes keys i, i+sessions, …
type deleteLoad struct{ n int64 }

func (w *deleteLoad) setup(ctx context.Context, r *runner) error {
	w.n = int64(r.cfg.Keys)
	if r.cfg.Ops > 0 {
		w.n = r.cfg.Ops
	}
	return r.createKeys(ctx, w.n)
}

func (w *deleteLoad) next(r *runner, s *session) (proto.OpCode, proto.Record, bool, bool) {
	i := int64(s.idx) + s.n*int64(len(r.sess))
	if i >= w.n {
		if r.cfg.Duration > 0 && !r.stop.Load() {
			r.setNote(fmt.Sprintf("all %d pre-created znodes were deleted before the time was up (raise -keys)", w.n))
		}
		return 0, nil, false, false
	}
	s.n++
	s.del = proto.DeleteRequest{Path: r.keys[i], Version: -1}
	return proto.OpDelete, &s.del, true, true
}

// keyLoad: set, get, exists or mixed on keys chosen uniformly from the
// pre-created key space.
type keyLoad struct{ kind string }

func (w *keyLoad) setup(ctx context.Context, r *runner) error {
	return r.createKeys(ctx, int64(r.cfg.Keys))
}

func (w *keyLoad) next(r *runner, s *session) (proto.OpCode, proto.Record, bool, bool) {
	p := r.keys[s.rng.IntN(len(r.keys))]
	kind := w.kind
	if kind == "mixed" {
		if s.rng.Float64() < r.cfg.ReadRatio {
			kind = "get"
		} else {
			kind = "set"
		}
	}
	switch kind {
	case "get":
		s.get = proto.GetDataRequest{Path: p}
		return proto.OpGetData, &s.get, true, true
	case "exists":
		s.exists = proto.ExistsRequest{Path: p}
		return proto.OpExists, &s.exists, true, true
	default:
		s.set = proto.SetDataRequest{Path: p, Data: r.value, Version: -1}
		return proto.OpSetData, &s.set, true, true
	}
}

// childrenLoad lists a node with Children children.
type childrenLoad struct{ parent string }

func (w *childrenLoad) setup(ctx context.Context, r *runner) error {
	w.parent = r.dir + "/c"
	if err := r.ctrl.Call(ctx, proto.OpCreate, &proto.CreateRequest{Path: w.parent, Acl: proto.OpenACLUnsafe}, nil); err != nil {
		return err
	}
	return r.spread(ctx, r.cfg.Children, func(i int) (proto.OpCode, proto.Record) {
		return proto.OpCreate, &proto.CreateRequest{Path: w.parent + "/c" + itoa(int64(i)), Acl: proto.OpenACLUnsafe}
	})
}

func (w *childrenLoad) next(r *runner, s *session) (proto.OpCode, proto.Record, bool, bool) {
	s.list = proto.GetChildrenRequest{Path: w.parent}
	return proto.OpGetChildren, &s.list, true, true
}

// multiLoad: each request is a multi of MultiOps creates (in the session's
// own directory, as createLoad) or setData on random keys.
type multiLoad struct{}

func (w *multiLoad) setup(ctx context.Context, r *runner) error {
	if r.cfg.MultiOp == "set" {
		return r.createKeys(ctx, int64(r.cfg.Keys))
	}
	return r.sessionDirs(ctx)
}

func (w *multiLoad) next(r *runner, s *session) (proto.OpCode, proto.Record, bool, bool) {
	m := r.cfg.MultiOps
	if s.multi.Ops == nil {
		s.multi.Ops = make([]proto.MultiOp, m)
		s.creates = make([]proto.CreateRequest, m)
		s.sets = make([]proto.SetDataRequest, m)
	}
	if r.cfg.MultiOp == "set" {
		for k := range m {
			s.sets[k] = proto.SetDataRequest{Path: r.keys[s.rng.IntN(len(r.keys))], Data: r.value, Version: -1}
			s.multi.Ops[k] = proto.MultiOp{Type: proto.OpSetData, Body: &s.sets[k]}
		}
		return proto.OpMulti, &s.multi, true, true
	}
	if s.n%fanout+int64(m) > fanout { // keep one multi's nodes in one bucket
		s.n = (s.n/fanout + 1) * fanout
	}
	if op, req, ok := nextBucket(s); ok {
		return op, req, false, true
	}
	for k := range m {
		s.creates[k] = proto.CreateRequest{Path: s.childPath(s.bucketDir, "m", s.n), Data: r.value, Acl: proto.OpenACLUnsafe}
		s.multi.Ops[k] = proto.MultiOp{Type: proto.OpCreate, Body: &s.creates[k]}
		s.n++
	}
	return proto.OpMulti, &s.multi, true, true
}

// bulkLoad creates Keys znodes of ValueSize bytes (the key space layout, so
// no directory has more than fanout children); session i creates keys i,
// i+sessions, …
type bulkLoad struct{}

func (w *bulkLoad) setup(ctx context.Context, r *runner) error {
	return r.createBuckets(ctx, int64(r.cfg.Keys))
}

func (w *bulkLoad) next(r *runner, s *session) (proto.OpCode, proto.Record, bool, bool) {
	i := int64(s.idx) + s.n*int64(len(r.sess))
	if i >= int64(r.cfg.Keys) {
		return 0, nil, false, false
	}
	s.n++
	if j := i / fanout; j != s.bucket {
		s.bucket, s.bucketDir = j, bucketPath(r.dir, j)
	}
	s.create = proto.CreateRequest{Path: s.childPath(s.bucketDir, "k", i), Data: r.value, Acl: proto.OpenACLUnsafe}
	return proto.OpCreate, &s.create, true, true
}

// watchLoad and churnLoad have their own loops (runWatch, runChurn).
type watchLoad struct{}

func (watchLoad) setup(ctx context.Context, r *runner) error {
	if err := r.ctrl.Call(ctx, proto.OpCreate, &proto.CreateRequest{Path: r.watchTarget, Data: r.value, Acl: proto.OpenACLUnsafe}, nil); err != nil {
		return err
	}
	// A watcher connected to another member of an ensemble may not have
	// the target yet (reads are only ordered within a session), and the
	// first round would fail with NoNode: every session syncs first.
	return r.spread(ctx, len(r.sess), func(int) (proto.OpCode, proto.Record) {
		return proto.OpSync, &proto.SyncRequest{Path: r.watchTarget}
	})
}

func (watchLoad) next(*runner, *session) (proto.OpCode, proto.Record, bool, bool) {
	return 0, nil, false, false
}

type churnLoad struct{}

func (churnLoad) setup(context.Context, *runner) error { return nil }

func (churnLoad) next(*runner, *session) (proto.OpCode, proto.Record, bool, bool) {
	return 0, nil, false, false
}
