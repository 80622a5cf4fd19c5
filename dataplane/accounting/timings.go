package accounting

import (
	"strconv"
	"time"
)

// Stage is one step of the predict pipeline, in the order a request passes
// through them.
type Stage int

const (
	Decode Stage = iota
	Preprocess
	Queue
	Inference
	Postprocess

	numStages
)

// stageNames are the Server-Timing metric names and the Prometheus stage label
// values. They are part of the public output, so renaming one breaks
// dashboards.
var stageNames = [numStages]string{"decode", "preprocess", "queue", "inference", "postprocess"}

// totalName is the Server-Timing name and stage label for the whole request.
const totalName = "total"

// String returns the stage's lowercase name, or "stage(N)" for a value outside
// the defined stages.
func (s Stage) String() string {
	if s.valid() {
		return stageNames[s]
	}
	return "stage(" + strconv.Itoa(int(s)) + ")"
}

func (s Stage) valid() bool { return s >= 0 && s < numStages }

// Timings holds the stage durations of one request. The zero value is ready
// to use, and a Timings is a plain value that is copied without allocation.
//
// A stage counts as recorded once Set or Add has been called for it. Stages
// that were never recorded, for example inference after a request failed to
// decode, are left out of the Server-Timing header and of the histograms, so
// that they do not pull the stage's distribution towards zero.
type Timings struct {
	d        [numStages]time.Duration
	recorded uint8 // bit s is set when stage s has been recorded

	// Total is the wall-clock time of the whole request. It is usually more
	// than the sum of the stages because it includes reading the body and
	// writing the response.
	Total time.Duration
}

// Set records d as the duration of stage s. It panics when s is not one of
// the defined stages, because that is a programming error in the caller.
func (t *Timings) Set(s Stage, d time.Duration) {
	mustValid(s)
	t.d[s] = d
	t.recorded |= 1 << s
}

// Add adds d to the duration of stage s, for stages that run in several
// pieces. It panics when s is not one of the defined stages.
func (t *Timings) Add(s Stage, d time.Duration) {
	mustValid(s)
	t.d[s] += d
	t.recorded |= 1 << s
}

// Get returns the duration of stage s, or 0 when it was not recorded or s is
// not a defined stage.
func (t *Timings) Get(s Stage) time.Duration {
	if !s.valid() {
		return 0
	}
	return t.d[s]
}

// Recorded reports whether Set or Add has been called for stage s.
func (t *Timings) Recorded(s Stage) bool {
	return s.valid() && t.recorded&(1<<s) != 0
}

func mustValid(s Stage) {
	if !s.valid() {
		panic("BUG: accounting: invalid stage " + s.String())
	}
}

// AppendServerTiming appends a Server-Timing header value to dst and returns
// the extended slice, for example
//
//	decode;dur=1.234, preprocess;dur=0.456, queue;dur=0.010, inference;dur=8.000, postprocess;dur=0.300, total;dur=10.100
//
// Durations are in milliseconds with three decimals, as the Server-Timing
// specification uses milliseconds. Unrecorded stages are left out, and total
// is always written. It allocates only when dst lacks capacity.
func (t *Timings) AppendServerTiming(dst []byte) []byte {
	for s := range numStages {
		if !t.Recorded(s) {
			continue
		}
		dst = appendMetric(dst, stageNames[s], t.d[s])
		dst = append(dst, ", "...)
	}
	return appendMetric(dst, totalName, t.Total)
}

func appendMetric(dst []byte, name string, d time.Duration) []byte {
	dst = append(dst, name...)
	dst = append(dst, ";dur="...)
	return appendMillis(dst, d)
}

// appendMillis writes d in milliseconds with exactly three decimals, rounded
// to the nearest microsecond. Negative durations come only from a caller's
// bug and are written as 0, because Server-Timing has no negative durations.
func appendMillis(dst []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	us := (d + time.Microsecond/2) / time.Microsecond
	dst = strconv.AppendInt(dst, int64(us/1000), 10)
	frac := int64(us % 1000)
	return append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}
