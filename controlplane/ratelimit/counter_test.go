package ratelimit

import (
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock that tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var noon = time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)

// step is one action in a counter scenario: advance the clock, then send n
// requests and check the last decision.
type step struct {
	advance       time.Duration
	n             int
	wantAllowed   bool
	wantLimit     int64
	wantRemaining int64
	wantRetry     time.Duration // checked on rejections only
}

func TestCounterWindows(t *testing.T) {
	small := Limits{PerMinute: 3, PerDay: 5}
	tests := []struct {
		name   string
		start  time.Time
		limits Limits
		steps  []step
	}{
		{"minute limit", noon, FreeLimits, []step{
			{n: 1, wantAllowed: true, wantLimit: 60, wantRemaining: 59},
			{n: 59, wantAllowed: true, wantLimit: 60, wantRemaining: 0},
			{n: 1, wantAllowed: false, wantLimit: 60, wantRetry: 60 * time.Second},
		}},
		{"minute rollover", noon, FreeLimits, []step{
			{n: 60, wantAllowed: true, wantLimit: 60, wantRemaining: 0},
			{advance: 59*time.Second + 500*time.Millisecond, n: 1, wantAllowed: false, wantLimit: 60, wantRetry: time.Second},
			{advance: 500 * time.Millisecond, n: 1, wantAllowed: true, wantLimit: 60, wantRemaining: 59},
		}},
		{"rejections not counted", noon, small, []step{
			{n: 3, wantAllowed: true, wantLimit: 3, wantRemaining: 0},
			{n: 50, wantAllowed: false, wantLimit: 3, wantRetry: 60 * time.Second},
			{advance: time.Minute, n: 2, wantAllowed: true, wantLimit: 5, wantRemaining: 0},
		}},
		{"day limit binds", noon, small, []step{
			{n: 3, wantAllowed: true, wantLimit: 3, wantRemaining: 0},
			{advance: time.Minute, n: 2, wantAllowed: true, wantLimit: 5, wantRemaining: 0},
			{advance: time.Minute, n: 1, wantAllowed: false, wantLimit: 5, wantRetry: 12*time.Hour - 2*time.Minute},
		}},
		{"day rollover", time.Date(2025, 3, 4, 23, 58, 0, 0, time.UTC), small, []step{
			{n: 3, wantAllowed: true, wantLimit: 3, wantRemaining: 0},
			{advance: time.Minute, n: 2, wantAllowed: true, wantLimit: 5, wantRemaining: 0},
			{advance: 30 * time.Second, n: 1, wantAllowed: false, wantLimit: 5, wantRetry: 30 * time.Second},
			{advance: 30 * time.Second, n: 1, wantAllowed: true, wantLimit: 3, wantRemaining: 2},
		}},
		{"pro plan", noon, ProLimits, []step{
			{n: 300, wantAllowed: true, wantLimit: 300, wantRemaining: 0},
			{n: 1, wantAllowed: false, wantLimit: 300, wantRetry: time.Minute},
		}},
		{"no day limit", noon, Limits{PerMinute: 2}, []step{
			{n: 2, wantAllowed: true, wantLimit: 2, wantRemaining: 0},
			{advance: time.Minute, n: 2, wantAllowed: true, wantLimit: 2, wantRemaining: 0},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: tt.start}
			c := NewCounter(clock.Now, nil)
			for i, s := range tt.steps {
				clock.Advance(s.advance)
				var d Decision
				for range s.n {
					d = c.Take("k", tt.limits)
				}
				checkDecision(t, i, d, s)
			}
		})
	}
}

func checkDecision(t *testing.T, i int, d Decision, s step) {
	t.Helper()
	if d.Allowed != s.wantAllowed {
		t.Fatalf("step %d: allowed = %v, want %v (decision %+v)", i, d.Allowed, s.wantAllowed, d)
	}
	if d.Limit != s.wantLimit {
		t.Errorf("step %d: limit = %d, want %d", i, d.Limit, s.wantLimit)
	}
	if d.Allowed && d.Remaining != s.wantRemaining {
		t.Errorf("step %d: remaining = %d, want %d", i, d.Remaining, s.wantRemaining)
	}
	if !d.Allowed && d.RetryAfter != s.wantRetry {
		t.Errorf("step %d: retry after = %v, want %v", i, d.RetryAfter, s.wantRetry)
	}
}

func TestCounterKeysIndependent(t *testing.T) {
	c := NewCounter((&fakeClock{t: noon}).Now, nil)
	for range 60 {
		c.Take("a", FreeLimits)
	}
	if d := c.Take("b", FreeLimits); !d.Allowed || d.Remaining != 59 {
		t.Fatalf("first request of key b: %+v, want allowed with 59 remaining", d)
	}
}

func TestCounterResetHeader(t *testing.T) {
	clock := &fakeClock{t: noon}
	c := NewCounter(clock.Now, nil)
	d := c.Take("k", FreeLimits)
	if got, want := d.Reset.Unix(), noon.Add(time.Minute).Unix(); got != want {
		t.Errorf("reset = %d, want %d (one minute after the window's first request)", got, want)
	}
}

func TestCounterStartsFromBase(t *testing.T) {
	base := func(keyID, day string) int64 {
		if keyID == "k" && day == "2025-03-04" {
			return 998
		}
		return 0
	}
	c := NewCounter((&fakeClock{t: noon}).Now, base)
	if d := c.Take("k", FreeLimits); !d.Allowed || d.Limit != 1000 || d.Remaining != 1 {
		t.Fatalf("first request after 998 committed: %+v, want allowed, day limit, 1 remaining", d)
	}
	c.Take("k", FreeLimits)
	if d := c.Take("k", FreeLimits); d.Allowed {
		t.Fatalf("request 1001 of the day allowed: %+v", d)
	}
}

func TestCounterTakeDirty(t *testing.T) {
	c := NewCounter((&fakeClock{t: noon}).Now, nil)
	c.Take("a", FreeLimits)
	c.Take("a", FreeLimits)
	c.Take("b", FreeLimits)
	got := c.TakeDirty()
	if len(got) != 1 || got[0].Day != "2025-03-04" || got[0].Counts["a"] != 2 || got[0].Counts["b"] != 1 {
		t.Fatalf("TakeDirty = %+v, want one day with a=2 and b=1", got)
	}
	if again := c.TakeDirty(); len(again) != 0 {
		t.Fatalf("second TakeDirty = %+v, want nothing", again)
	}
}

func TestCounterRacing(t *testing.T) {
	c := NewCounter(time.Now, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 61 {
		wg.Go(func() {
			if c.Take("k", FreeLimits).Allowed {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if allowed != 60 {
		t.Fatalf("%d of 61 racing requests allowed, want 60", allowed)
	}
}
