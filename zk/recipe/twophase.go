package recipe

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/warren-zk/warren/zk"
)

// Two-phase commit, after the recipe in ZooKeeper's documentation: a
// Coordinator proposes a transaction to a set of cohorts, each Cohort votes
// to commit or abort it, and the coordinator decides — commit if every
// cohort voted commit, abort as soon as one votes abort or the votes do not
// all arrive in time — and publishes the decision, which every cohort then
// reads. The layout under the coordinator's path:
//
//	<path>/<txid>                  the proposal's data
//	<path>/<txid>/cohorts/<name>   one per cohort asked to vote (created with the transaction, atomically)
//	<path>/<txid>/votes/<name>     a cohort's vote: "commit" or "abort"
//	<path>/<txid>/decision         the outcome: "commit" or "abort"
//
// Every node is persistent, so a cohort that restarts can still vote and
// read the outcome; Coordinator.Forget removes a finished transaction.
const (
	voteCommit = "commit"
	voteAbort  = "abort"
)

// Coordinator proposes transactions to cohorts and decides their outcome.
type Coordinator struct {
	c    *zk.Conn
	path string
	o    options
}

// NewCoordinator returns a coordinator whose transactions live under path.
// Options: WithACL.
func NewCoordinator(c *zk.Conn, path string, opts ...Option) *Coordinator {
	return &Coordinator{c: c, path: path, o: buildOptions(opts)}
}

// Outcome is the result of a transaction.
type Outcome struct {
	TxID      string
	Committed bool
	Votes     map[string]bool // the votes received: cohort → commit?
}

// Commit proposes a transaction with data to cohorts (names, at least one)
// and waits for their votes and decides: Committed if every cohort voted to
// commit. If a cohort votes abort, the transaction is aborted at once. If
// ctx ends before every vote is in, the transaction is aborted and Commit
// returns the Outcome with ctx's error; the decision is published in every
// case where the server can be reached (within the session timeout).
func (co *Coordinator) Commit(ctx context.Context, data []byte, cohorts []string) (Outcome, error) {
	if len(cohorts) == 0 {
		return Outcome{}, errors.New("recipe: a transaction needs at least one cohort")
	}
	txid := fmt.Sprintf("tx-%020d-%s", time.Now().UnixNano(), newUUID()[:8])
	tx := join(co.path, txid)
	ops := []zk.Op{
		zk.CreateOp{Path: tx, Data: data, ACL: co.o.acl},
		zk.CreateOp{Path: join(tx, "cohorts"), ACL: co.o.acl},
		zk.CreateOp{Path: join(tx, "votes"), ACL: co.o.acl},
	}
	seen := map[string]bool{}
	for _, n := range cohorts {
		if seen[n] {
			continue
		}
		seen[n] = true
		ops = append(ops, zk.CreateOp{Path: join(join(tx, "cohorts"), n), ACL: co.o.acl})
	}
	out := Outcome{TxID: txid, Votes: map[string]bool{}}
	for {
		_, err := co.c.Multi(ctx, ops...)
		if err == nil {
			break
		}
		if errors.Is(err, zk.ErrNoNode) {
			if err = ensurePath(ctx, co.c, co.path, co.o.acl, zk.ModePersistent); err == nil {
				continue
			}
		}
		if isConnLoss(err) {
			// Did it get through? The transaction node says.
			var ok bool
			if rerr := retry(ctx, func() error {
				var err error
				ok, _, err = co.c.Exists(ctx, tx)
				return err
			}); rerr == nil {
				if ok {
					break
				}
				continue
			}
		}
		return out, err
	}
	votes := join(tx, "votes")
	for {
		var (
			names []string
			ch    <-chan zk.Event
		)
		err := retry(ctx, func() error {
			var err error
			names, _, ch, err = co.c.ChildrenW(ctx, votes)
			return err
		})
		if err != nil {
			return co.decide(ctx, out, false, err)
		}
		abort := false
		for _, n := range names {
			if _, ok := out.Votes[n]; ok || !seen[n] {
				continue
			}
			var v []byte
			if err := retry(ctx, func() error {
				var err error
				v, _, err = co.c.Get(ctx, join(votes, n))
				return err
			}); err != nil {
				return co.decide(ctx, out, false, err)
			}
			out.Votes[n] = string(v) == voteCommit
			abort = abort || string(v) != voteCommit
		}
		if abort {
			return co.decide(ctx, out, false, nil)
		}
		if len(out.Votes) == len(seen) {
			return co.decide(ctx, out, true, nil)
		}
		select {
		case ev := <-ch:
			if ev.Type == zk.EventNotWatching {
				return out, ev.Err
			}
		case <-ctx.Done():
			return co.decide(ctx, out, false, ctx.Err())
		}
	}
}

// decide publishes the decision (also after ctx ended: within the session
// timeout) and returns the outcome with cause.
func (co *Coordinator) decide(ctx context.Context, out Outcome, commit bool, cause error) (Outcome, error) {
	if isDead(cause) {
		return out, cause
	}
	dctx, cancel := cleanupContext(ctx, co.c)
	defer cancel()
	v := voteAbort
	if commit {
		v = voteCommit
	}
	err := retry(dctx, func() error {
		_, err := co.c.Create(dctx, join(join(co.path, out.TxID), "decision"), []byte(v), co.o.acl, zk.ModePersistent)
		return err
	})
	if errors.Is(err, zk.ErrNodeExists) { // ours, from a retry
		err = nil
	}
	if err != nil {
		return out, errors.Join(cause, fmt.Errorf("recipe: publishing the decision: %w", err))
	}
	out.Committed = commit
	return out, cause
}

// Forget deletes a finished transaction's nodes. Cohorts that have not
// read the outcome yet get ErrNodeGone from Proposal.Outcome.
func (co *Coordinator) Forget(ctx context.Context, txid string) error {
	return deleteTree(ctx, co.c, join(co.path, txid))
}

// deleteTree deletes path and everything below it.
func deleteTree(ctx context.Context, c *zk.Conn, path string) error {
	var children []string
	err := retry(ctx, func() error {
		var err error
		children, err = c.Children(ctx, path)
		return err
	})
	if errors.Is(err, zk.ErrNoNode) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, ch := range children {
		if err := deleteTree(ctx, c, join(path, ch)); err != nil {
			return err
		}
	}
	err = deleteNode(ctx, c, path)
	if errors.Is(err, zk.ErrNotEmpty) {
		return deleteTree(ctx, c, path) // a child appeared meanwhile
	}
	return err
}

// Cohort is a participant of two-phase commits: it receives the
// transactions that name it, votes, and learns their outcome.
type Cohort struct {
	c    *zk.Conn
	path string
	name string
	o    options

	mu   sync.Mutex
	seen map[string]bool // transactions handed out by Next
}

// NewCohort returns the cohort called name of the coordinator at path.
// Options: WithACL.
func NewCohort(c *zk.Conn, path, name string, opts ...Option) *Cohort {
	return &Cohort{c: c, path: path, name: name, o: buildOptions(opts), seen: map[string]bool{}}
}

// Proposal is a transaction proposed to a Cohort.
type Proposal struct {
	TxID string
	Data []byte

	co *Cohort
}

// Next waits for a transaction that names this cohort, on which it has not
// voted and that is not decided, and that Next has not returned before
// (oldest first), or until ctx ends.
func (co *Cohort) Next(ctx context.Context) (*Proposal, error) {
	for {
		var (
			txs []string
			ch  <-chan zk.Event
		)
		err := retry(ctx, func() error {
			var err error
			txs, _, ch, err = co.c.ChildrenW(ctx, co.path)
			if errors.Is(err, zk.ErrNoNode) {
				// Nothing proposed yet: create the path, to watch it.
				if err = ensurePath(ctx, co.c, co.path, co.o.acl, zk.ModePersistent); err == nil {
					txs, _, ch, err = co.c.ChildrenW(ctx, co.path)
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(txs)
		for _, tx := range txs {
			co.mu.Lock()
			seen := co.seen[tx]
			co.mu.Unlock()
			if seen {
				continue
			}
			p, err := co.pending(ctx, tx)
			if err != nil {
				return nil, err
			}
			co.mu.Lock()
			co.seen[tx] = true
			co.mu.Unlock()
			if p != nil {
				return p, nil
			}
		}
		select {
		case ev := <-ch:
			if ev.Type == zk.EventNotWatching {
				return nil, ev.Err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// pending returns tx as a Proposal if it waits for this cohort's vote.
func (co *Cohort) pending(ctx context.Context, txid string) (*Proposal, error) {
	tx := join(co.path, txid)
	var res []zk.ReadResult
	err := retry(ctx, func() error {
		var err error
		res, err = co.c.MultiRead(ctx, zk.GetDataOp{Path: tx}, zk.GetDataOp{Path: join(join(tx, "cohorts"), co.name)},
			zk.GetDataOp{Path: join(join(tx, "votes"), co.name)}, zk.GetDataOp{Path: join(tx, "decision")})
		return err
	})
	if err != nil {
		return nil, err
	}
	if res[0].Err != nil || res[1].Err != nil || res[2].Err == nil || res[3].Err == nil {
		return nil, nil // gone, not for us, voted, or decided
	}
	return &Proposal{TxID: txid, Data: res[0].Data, co: co}, nil
}

// Vote casts this cohort's vote. A cohort votes once: a second vote fails
// with zk.ErrNodeExists.
func (p *Proposal) Vote(ctx context.Context, commit bool) error {
	v := voteAbort
	if commit {
		v = voteCommit
	}
	tx := join(p.co.path, p.TxID)
	path := join(join(tx, "votes"), p.co.name)
	retried := false
	err := retry(ctx, func() error {
		_, err := p.co.c.Create(ctx, path, []byte(v), p.co.o.acl, zk.ModePersistent)
		if isConnLoss(err) {
			retried = true
		}
		return err
	})
	if errors.Is(err, zk.ErrNodeExists) && retried {
		return nil // our own vote, whose reply was lost
	}
	if errors.Is(err, zk.ErrNoNode) {
		return ErrNodeGone // the transaction was forgotten
	}
	return err
}

// Outcome waits for the coordinator's decision and reports whether the
// transaction committed. It returns ErrNodeGone if the transaction was
// forgotten before the decision could be read.
func (p *Proposal) Outcome(ctx context.Context) (bool, error) {
	c := p.co.c
	tx := join(p.co.path, p.TxID)
	decision := join(tx, "decision")
	for {
		var (
			data []byte
			err  error
		)
		err = retry(ctx, func() error {
			data, _, err = c.Get(ctx, decision)
			return err
		})
		if err == nil {
			return string(data) == voteCommit, nil
		}
		if !errors.Is(err, zk.ErrNoNode) {
			return false, err
		}
		// Not decided yet: watch for the decision, and for the
		// transaction's deletion.
		var (
			ok         bool
			dch, txch  <-chan zk.Event
			txGone     bool
			decidedNow bool
		)
		err = retry(ctx, func() error {
			var err error
			ok, _, dch, err = c.ExistsW(ctx, decision)
			if err != nil || ok {
				return err
			}
			_, _, txch, err = c.GetW(ctx, tx)
			return err
		})
		switch {
		case errors.Is(err, zk.ErrNoNode):
			txGone = true
		case err != nil:
			return false, err
		case ok:
			decidedNow = true
		}
		if txGone {
			return false, ErrNodeGone
		}
		if decidedNow {
			continue
		}
		select {
		case ev := <-dch:
			if ev.Type == zk.EventNotWatching {
				return false, ev.Err
			}
		case ev := <-txch:
			if ev.Type == zk.EventNotWatching {
				return false, ev.Err
			}
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}
