package accounting

import (
	"testing"
	"time"
)

func fullTimings() Timings {
	var t Timings
	t.Set(Decode, 1234*time.Microsecond)
	t.Set(Preprocess, 456*time.Microsecond)
	t.Set(Queue, 10*time.Microsecond)
	t.Set(Inference, 8*time.Millisecond)
	t.Set(Postprocess, 300*time.Microsecond)
	t.Total = 10100 * time.Microsecond
	return t
}

func TestStageString(t *testing.T) {
	want := map[Stage]string{
		Decode:      "decode",
		Preprocess:  "preprocess",
		Queue:       "queue",
		Inference:   "inference",
		Postprocess: "postprocess",
		Stage(9):    "stage(9)",
		Stage(-1):   "stage(-1)",
	}
	for s, name := range want {
		if got := s.String(); got != name {
			t.Errorf("Stage(%d).String() = %q, want %q", int(s), got, name)
		}
	}
}

func TestServerTimingAllStages(t *testing.T) {
	tm := fullTimings()
	got := string(tm.AppendServerTiming(nil))
	want := "decode;dur=1.234, preprocess;dur=0.456, queue;dur=0.010, inference;dur=8.000, postprocess;dur=0.300, total;dur=10.100"
	if got != want {
		t.Errorf("AppendServerTiming:\n got %s\nwant %s", got, want)
	}
}

func TestServerTimingSkipsUnrecorded(t *testing.T) {
	var tm Timings
	tm.Set(Decode, 2*time.Millisecond)
	tm.Total = 3 * time.Millisecond
	got := string(tm.AppendServerTiming([]byte("x=1, ")))
	want := "x=1, decode;dur=2.000, total;dur=3.000"
	if got != want {
		t.Errorf("AppendServerTiming:\n got %s\nwant %s", got, want)
	}
}

func TestAppendMillisRounding(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.000"},
		{499 * time.Nanosecond, "0.000"},
		{500 * time.Nanosecond, "0.001"},
		{999_499 * time.Nanosecond, "0.999"},
		{999_500 * time.Nanosecond, "1.000"},
		{12*time.Second + 345678*time.Microsecond, "12345.678"},
		{-time.Millisecond, "0.000"},
	}
	for _, c := range cases {
		if got := string(appendMillis(nil, c.d)); got != c.want {
			t.Errorf("appendMillis(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestTimingsAddAndGet(t *testing.T) {
	var tm Timings
	if tm.Recorded(Queue) {
		t.Fatal("zero Timings reports queue as recorded")
	}
	tm.Add(Queue, time.Millisecond)
	tm.Add(Queue, 2*time.Millisecond)
	if got := tm.Get(Queue); got != 3*time.Millisecond {
		t.Errorf("Get(Queue) = %v, want 3ms", got)
	}
	if !tm.Recorded(Queue) {
		t.Error("Recorded(Queue) = false after Add")
	}
	if tm.Recorded(Inference) {
		t.Error("Recorded(Inference) = true, never set")
	}
	if got := tm.Get(Stage(42)); got != 0 {
		t.Errorf("Get(Stage(42)) = %v, want 0", got)
	}
}

func TestTimingsSetInvalidPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Set(Stage(5)) did not panic")
		}
	}()
	var tm Timings
	tm.Set(numStages, time.Millisecond)
}

func TestServerTimingAllocs(t *testing.T) {
	tm := fullTimings()
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		buf = tm.AppendServerTiming(buf[:0])
	})
	if allocs != 0 {
		t.Errorf("AppendServerTiming allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkAppendServerTiming(b *testing.B) {
	tm := fullTimings()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = tm.AppendServerTiming(buf[:0])
	}
}
