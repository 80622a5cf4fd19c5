package ratelimit

import (
	"sync"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/state"
)

// Limits is a request allowance. A zero field means no limit on that window.
type Limits struct {
	PerMinute int64 `json:"m"`
	PerDay    int64 `json:"d"`
}

// Plan allowances of the Ultralytics Platform. Enterprise limits are set per
// deployment in Config.Enterprise.
var (
	FreeLimits = Limits{PerMinute: 60, PerDay: 1_000}
	ProLimits  = Limits{PerMinute: 300, PerDay: 50_000}
)

// Decision is the outcome of one request against a key's limits. Limit,
// Remaining and Reset describe the window that binds first: the day window
// when fewer requests remain in it than in the minute window, else the
// minute window.
type Decision struct {
	Allowed   bool
	Limit     int64
	Remaining int64
	// Reset is when the reported window ends, on the wall clock.
	Reset time.Time
	// RetryAfter is how long a rejected request must wait until a request
	// would succeed. It is zero for an allowed request.
	RetryAfter time.Duration
}

// Counter counts requests per key in fixed windows: a minute that starts
// with the key's first request after the previous minute ended, measured on
// the monotonic clock, and the UTC calendar day. It is the leader's state.
type Counter struct {
	now  func() time.Time
	base func(keyID, day string) int64

	mu    sync.Mutex
	keys  map[string]*window
	dirty map[string]string // key ID → day of a count not yet flushed
}

type window struct {
	minuteStart time.Time
	minuteCount int64
	day         string
	dayEnd      time.Time
	dayCount    int64
}

// NewCounter returns a Counter that reads the time from now and starts each
// key's day count from base, the total committed for that key and day. A
// nil base starts every day at zero.
func NewCounter(now func() time.Time, base func(keyID, day string) int64) *Counter {
	if base == nil {
		base = func(string, string) int64 { return 0 }
	}
	return &Counter{now: now, base: base, keys: map[string]*window{}, dirty: map[string]string{}}
}

// Take counts one request of keyID against l when both windows have room,
// and returns the decision. A rejected request is not counted.
func (c *Counter) Take(keyID string, l Limits) Decision {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.window(keyID, now)
	minuteLeft := remaining(l.PerMinute, w.minuteCount)
	dayLeft := remaining(l.PerDay, w.dayCount)
	minuteEnd := w.minuteStart.Add(time.Minute)
	if minuteLeft <= 0 || dayLeft <= 0 {
		return rejected(now, l, minuteLeft, dayLeft, minuteEnd, w.dayEnd)
	}
	w.minuteCount++
	w.dayCount++
	c.dirty[keyID] = w.day
	if dayLeft-1 < minuteLeft-1 {
		return Decision{Allowed: true, Limit: l.PerDay, Remaining: dayLeft - 1, Reset: w.dayEnd}
	}
	return Decision{Allowed: true, Limit: l.PerMinute, Remaining: minuteLeft - 1, Reset: minuteEnd}
}

// unlimited is the room in a window without a limit.
const unlimited = int64(1) << 62

func remaining(limit, used int64) int64 {
	if limit <= 0 {
		return unlimited
	}
	return limit - used
}

// rejected reports the window a request waits for: the later one to end
// when both are full, because a request needs room in both.
func rejected(now time.Time, l Limits, minuteLeft, dayLeft int64, minuteEnd, dayEnd time.Time) Decision {
	d := Decision{Limit: l.PerMinute, Reset: minuteEnd}
	if dayLeft <= 0 && (minuteLeft > 0 || dayEnd.After(minuteEnd)) {
		d.Limit, d.Reset = l.PerDay, dayEnd
	}
	// Whole seconds, rounded up, so that a client that waits RetryAfter is
	// never early.
	secs := (d.Reset.Sub(now) + time.Second - 1) / time.Second
	d.RetryAfter = max(secs, 1) * time.Second
	return d
}

// window returns keyID's window, rolled over to now.
func (c *Counter) window(keyID string, now time.Time) *window {
	w, ok := c.keys[keyID]
	if !ok {
		w = &window{minuteStart: now}
		c.keys[keyID] = w
	}
	if now.Sub(w.minuteStart) >= time.Minute {
		w.minuteStart, w.minuteCount = now, 0
	}
	// Comparing with dayEnd first keeps the date formatting, which
	// allocates, off the path of every request.
	if day := w.day; day == "" || !now.Before(w.dayEnd) {
		day = state.DayKey(now)
		w.day, w.dayCount = day, c.base(keyID, day)
		y, m, d := now.UTC().Date()
		w.dayEnd = time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
	}
	return w
}

// TakeDirty returns the day totals counted since the last call, grouped by
// day in ascending order, and forgets that they were counted.
func (c *Counter) TakeDirty() []state.RecordUsage {
	c.mu.Lock()
	defer c.mu.Unlock()
	byDay := map[string]map[string]int64{}
	for id, day := range c.dirty {
		w := c.keys[id]
		if w.day != day {
			// The day rolled over after the count: the old total is lost
			// with the window, and the new day's count is not dirty.
			continue
		}
		if byDay[day] == nil {
			byDay[day] = map[string]int64{}
		}
		byDay[day][id] = w.dayCount
	}
	clear(c.dirty)
	out := make([]state.RecordUsage, 0, len(byDay))
	for day, counts := range byDay {
		out = append(out, state.RecordUsage{Day: day, Counts: counts})
	}
	sortByDay(out)
	return out
}
