package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	// Every value maps into a bucket whose bounds contain it, indexes are
	// monotonic, and buckets are narrow.
	prev := -1
	for _, v := range []int64{0, 1, 127, 128, 255, 256, 257, 258, 511, 512, 1000, 1 << 20, 1<<20 + 1, 123456789, histMaxVal} {
		i := histIndex(v)
		if i < prev || i >= histBuckets {
			t.Fatalf("index(%d) = %d (previous %d, buckets %d)", v, i, prev, histBuckets)
		}
		prev = i
		lo, hi := histBounds(i)
		if v < lo || v > hi {
			t.Fatalf("value %d in bucket %d = [%d, %d]", v, i, lo, hi)
		}
		if float64(hi-lo) > float64(lo)/histSub {
			t.Fatalf("bucket %d = [%d, %d] too wide", i, lo, hi)
		}
	}
	// Consecutive buckets tile the value range.
	for i := 1; i < histBuckets; i++ {
		_, phi := histBounds(i - 1)
		lo, _ := histBounds(i)
		if lo != phi+1 {
			t.Fatalf("bucket %d starts at %d, previous ends at %d", i, lo, phi)
		}
	}
	if _, hi := histBounds(histBuckets - 1); hi != histMaxVal {
		t.Fatalf("last bucket ends at %d, want %d", hi, int64(histMaxVal))
	}
}

func TestHistogramQuantilesMatchSortedReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	gens := map[string]func() int64{
		"uniform-us":  func() int64 { return rng.Int64N(int64(time.Millisecond)) },
		"log-uniform": func() int64 { return int64(math.Exp(rng.Float64() * math.Log(1e10))) },
		"bimodal": func() int64 {
			if rng.IntN(100) == 0 {
				return int64(50*time.Millisecond) + rng.Int64N(int64(time.Millisecond))
			}
			return int64(200*time.Microsecond) + rng.Int64N(int64(20*time.Microsecond))
		},
		"small-exact": func() int64 { return rng.Int64N(200) },
	}
	for name, gen := range gens {
		for _, n := range []int{1, 7, 1000, 100000} {
			h := NewHistogram()
			parts := []*Histogram{NewHistogram(), NewHistogram(), NewHistogram()}
			ref := make([]int64, n)
			for i := range ref {
				ref[i] = gen()
				h.Record(time.Duration(ref[i]))
				parts[i%3].Record(time.Duration(ref[i]))
			}
			merged := NewHistogram()
			for _, p := range parts {
				merged.Merge(p)
			}
			slices.Sort(ref)
			for _, q := range []float64{0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 1} {
				rank := int(math.Ceil(q * float64(n)))
				want := ref[max(rank, 1)-1]
				for _, hh := range []*Histogram{h, merged} {
					got := int64(hh.Quantile(q))
					if got < want || float64(got-want) > float64(want)/histSub {
						t.Errorf("%s n=%d q=%v: got %d, sorted reference %d", name, n, q, got, want)
					}
				}
			}
			if h.Max() != time.Duration(ref[n-1]) || h.Min() != time.Duration(ref[0]) || h.Count() != uint64(n) {
				t.Errorf("%s n=%d: min/max/count %v/%v/%d, want %d/%d/%d", name, n, h.Min(), h.Max(), h.Count(), ref[0], ref[n-1], n)
			}
			if merged.Max() != h.Max() || merged.Min() != h.Min() || merged.Count() != h.Count() {
				t.Errorf("%s n=%d: merged histogram differs", name, n)
			}
		}
	}
}

func TestHistogramEdges(t *testing.T) {
	h := NewHistogram()
	if h.Quantile(0.5) != 0 || h.Max() != 0 || h.Min() != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram is not all zero")
	}
	h.Record(-5)
	h.Record(time.Duration(math.MaxInt64))
	if h.Min() != 0 || h.Max() != histMaxVal {
		t.Fatalf("clamping: min %d max %d", h.Min(), h.Max())
	}
	if q := h.Quantile(0.5); q != 0 {
		t.Fatalf("median of {0, max} = %d", q)
	}
}
