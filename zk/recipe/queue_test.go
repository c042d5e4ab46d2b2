package recipe_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/warren-zk/warren/zk/recipe"
)

// TestQueueFIFO: one consumer takes items in the order they were put.
func TestQueueFIFO(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 20*time.Second)
	cs := conns(t, srv.Addr(), 2)
	prod, cons := recipe.NewQueue(cs[0], "/queues/fifo"), recipe.NewQueue(cs[1], "/queues/fifo")
	if _, ok, err := cons.Poll(ctx); ok || err != nil {
		t.Fatalf("Poll of an empty queue: %v %v", ok, err)
	}
	const n = 50
	for i := range n {
		if _, err := prod.Put(ctx, []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	if l, err := cons.Len(ctx); err != nil || l != n {
		t.Fatalf("Len %d %v", l, err)
	}
	for i := range n {
		data, err := cons.Take(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != strconv.Itoa(i) {
			t.Fatalf("item %d is %q", i, data)
		}
	}
	// Take waits for the next item.
	got := make(chan string, 1)
	go func() {
		data, err := cons.Take(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- string(data)
	}()
	time.Sleep(100 * time.Millisecond)
	select {
	case d := <-got:
		t.Fatalf("Take of an empty queue returned %q", d)
	default:
	}
	prod.Put(ctx, []byte("late"))
	if d := <-got; d != "late" {
		t.Fatalf("waiting Take got %q", d)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := cons.Take(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Take with a short deadline: %v", err)
	}
}

// TestQueueConcurrent: 3 producers and 4 consumers in separate sessions;
// every item is delivered exactly once, and each consumer sees each
// producer's items in the order they were put.
func TestQueueConcurrent(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 30*time.Second)
	const producers, consumers, perProducer = 3, 4, 40
	cs := conns(t, srv.Addr(), producers+consumers)
	var pwg, cwg sync.WaitGroup
	for p := range producers {
		q := recipe.NewQueue(cs[p], "/queues/many")
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			for i := range perProducer {
				if _, err := q.Put(ctx, []byte(fmt.Sprintf("%d/%03d", p, i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	results := make([][]string, consumers)
	for c := range consumers {
		q := recipe.NewQueue(cs[producers+c], "/queues/many")
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for {
				data, err := q.Take(cctx)
				if err != nil {
					if cctx.Err() == nil {
						t.Error(err)
					}
					return
				}
				results[c] = append(results[c], string(data))
			}
		}()
	}
	pwg.Wait()
	if !eventually(15*time.Second, func() bool {
		l, err := recipe.NewQueue(cs[0], "/queues/many").Len(ctx)
		return err == nil && l == 0
	}) {
		t.Fatal("queue not drained")
	}
	time.Sleep(50 * time.Millisecond) // let the last Takes return their items
	stop()
	cwg.Wait()
	var all []string
	for c, r := range results {
		last := map[string]string{}
		for _, item := range r {
			p := item[:1]
			if item < last[p] {
				t.Errorf("consumer %d got %s after %s", c, item, last[p])
			}
			last[p] = item
		}
		all = append(all, r...)
	}
	sort.Strings(all)
	if len(all) != producers*perProducer {
		t.Fatalf("%d items delivered, want %d", len(all), producers*perProducer)
	}
	for i := 1; i < len(all); i++ {
		if all[i] == all[i-1] {
			t.Fatalf("%s delivered twice", all[i])
		}
	}
	t.Logf("items per consumer: %d %d %d %d", len(results[0]), len(results[1]), len(results[2]), len(results[3]))
}

// TestPriorityQueue: lower priority numbers first, FIFO among equals.
func TestPriorityQueue(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testCtx(t, 20*time.Second)
	q := recipe.NewPriorityQueue(connect(t, srv.Addr()), "/queues/prio")
	for _, it := range []struct {
		data string
		prio int
	}{{"c1", 500}, {"a1", 1}, {"b1", 100}, {"a2", 1}, {"c2", 500}, {"b2", 100}, {"z", 999}, {"top", 0}} {
		if _, err := q.Put(ctx, []byte(it.data), it.prio); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := q.Put(ctx, nil, 1000); err == nil {
		t.Fatal("priority 1000 accepted")
	}
	var got []string
	for {
		data, ok, err := q.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		got = append(got, string(data))
	}
	if fmt.Sprint(got) != "[top a1 a2 b1 b2 c1 c2 z]" {
		t.Fatalf("order %v", got)
	}
}
