package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/warren-zk/warren/internal/proto"
)

// Result is the outcome of one workload run. Only successful operations are
// counted in Ops and in the latency figures; failed ones are in Errors.
type Result struct {
	Workload    string
	Server      string // the server list, comma-separated
	Sessions    int
	Outstanding int
	ValueSize   int
	Ops         int64
	Seconds     float64 // measured wall time (after the warmup)
	OpsPerSec   float64
	P50, P90    time.Duration
	P99, P999   time.Duration
	Max         time.Duration
	Mean        time.Duration
	Errors      map[proto.Err]int64
	// ClientCPUPerOp is the whole process's CPU time (user+system) during
	// the measurement divided by Ops. With an in-process server (tests) it
	// includes the server.
	ClientCPUPerOp time.Duration
	Latency        *Histogram
	// Dir is the directory the run worked in (removed unless Config.Keep).
	Dir string
	// Note is a remark about the run (for example an exhausted key space).
	Note string
}

// ErrorCount is the total number of failed operations.
func (r Result) ErrorCount() int64 {
	var n int64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

func (r *Result) fill(h *Histogram) {
	r.Latency = h
	r.Ops = int64(h.Count())
	if r.Seconds > 0 {
		r.OpsPerSec = float64(r.Ops) / r.Seconds
	}
	r.P50, r.P90 = h.Quantile(0.50), h.Quantile(0.90)
	r.P99, r.P999 = h.Quantile(0.99), h.Quantile(0.999)
	r.Max, r.Mean = h.Max(), h.Mean()
}

type jsonResult struct {
	Workload       string            `json:"workload"`
	Server         string            `json:"server"`
	Sessions       int               `json:"sessions"`
	Ops            int64             `json:"ops"`
	Seconds        float64           `json:"seconds"`
	OpsPerSec      float64           `json:"ops_per_sec"`
	P50            float64           `json:"p50_ms"`
	P90            float64           `json:"p90_ms"`
	P99            float64           `json:"p99_ms"`
	P999           float64           `json:"p999_ms"`
	Max            float64           `json:"max_ms"`
	Errors         int64             `json:"errors"`
	ClientCPU      float64           `json:"client_cpu_us_per_op"`
	ErrorsByCode   map[string]int64  `json:"errors_by_code,omitempty"`
	Outstanding    int               `json:"outstanding"`
	ValueSize      int               `json:"value_size"`
	Mean           float64           `json:"mean_ms"`
	Note           string            `json:"note,omitempty"`
	ErrorCodeNames map[string]string `json:"error_names,omitempty"`
}

func ms(d time.Duration) float64 { return round3(float64(d) / 1e6) }

func round3(f float64) float64 {
	s := strconv.FormatFloat(f, 'f', 3, 64)
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// MarshalJSON writes the result as one flat object: workload, server,
// sessions, ops, seconds, ops_per_sec, p50_ms, p90_ms, p99_ms, p999_ms,
// max_ms, errors (total), client_cpu_us_per_op, then errors_by_code (code →
// count), error_names (code → name), outstanding, value_size, mean_ms, note.
func (r Result) MarshalJSON() ([]byte, error) {
	j := jsonResult{
		Workload: r.Workload, Server: r.Server, Sessions: r.Sessions, Ops: r.Ops,
		Seconds: round3(r.Seconds), OpsPerSec: round3(r.OpsPerSec),
		P50: ms(r.P50), P90: ms(r.P90), P99: ms(r.P99), P999: ms(r.P999), Max: ms(r.Max),
		Errors:      r.ErrorCount(),
		ClientCPU:   round3(float64(r.ClientCPUPerOp) / 1e3),
		Outstanding: r.Outstanding, ValueSize: r.ValueSize, Mean: ms(r.Mean), Note: r.Note,
	}
	if len(r.Errors) > 0 {
		j.ErrorsByCode = map[string]int64{}
		j.ErrorCodeNames = map[string]string{}
		for code, n := range r.Errors {
			k := strconv.Itoa(int(code))
			j.ErrorsByCode[k] = n
			j.ErrorCodeNames[k] = code.Message()
		}
	}
	return json.Marshal(j)
}

// ErrorsString formats the errors as "NoNode(-101)=3 …", most negative code
// first; "" if none.
func (r Result) ErrorsString() string {
	codes := slices.Sorted(maps.Keys(r.Errors))
	parts := make([]string, 0, len(codes))
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%s(%d)=%d", c.Message(), int32(c), r.Errors[c]))
	}
	return strings.Join(parts, " ")
}

// WriteTable prints results as an aligned table for people, followed by one
// line per result that had errors or a note.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tserver\tsessions\tout\tops\tsecs\tops/s\tp50 ms\tp90 ms\tp99 ms\tp99.9 ms\tmax ms\terrors\tcpu µs/op\t")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.2f\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%.1f\t\n",
			r.Workload, r.Server, r.Sessions, r.Outstanding, r.Ops, r.Seconds, r.OpsPerSec,
			ms(r.P50), ms(r.P90), ms(r.P99), ms(r.P999), ms(r.Max), r.ErrorCount(),
			float64(r.ClientCPUPerOp)/1e3)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if len(r.Errors) > 0 {
			fmt.Fprintf(w, "%s errors: %s\n", r.Workload, r.ErrorsString())
		}
		if r.Note != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Workload, r.Note)
		}
	}
	return nil
}
