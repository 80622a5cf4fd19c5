package regions

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Location is a point on the Earth in decimal degrees (WGS 84).
type Location struct {
	Lat float64
	Lon float64
}

// Validate checks that the coordinates are finite and within range.
func (l Location) Validate() error {
	if math.IsNaN(l.Lat) || l.Lat < -90 || l.Lat > 90 {
		return fmt.Errorf("invalid latitude %v: must be between -90 and 90", l.Lat)
	}
	if math.IsNaN(l.Lon) || l.Lon < -180 || l.Lon > 180 {
		return fmt.Errorf("invalid longitude %v: must be between -180 and 180", l.Lon)
	}
	return nil
}

// earthRadiusKm is the mean Earth radius (IUGG), which keeps the haversine
// error under about 0.5% against the ellipsoid.
const earthRadiusKm = 6371.0088

// DistanceKm returns the great-circle distance between a and b by the
// haversine formula on a spherical Earth.
func DistanceKm(a, b Location) float64 {
	lat1, lat2 := radians(a.Lat), radians(b.Lat)
	dLat := lat2 - lat1
	dLon := radians(b.Lon - a.Lon)

	h := sq(math.Sin(dLat/2)) + math.Cos(lat1)*math.Cos(lat2)*sq(math.Sin(dLon/2))
	// Rounding can push h a hair above 1 for antipodal points.
	h = math.Min(h, 1)
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(h))
}

func radians(deg float64) float64 { return deg * math.Pi / 180 }

func sq(x float64) float64 { return x * x }

// Constants of the latency model in EstimateLatency.
const (
	// RouteFactor is how much longer a fibre route is than the great-circle
	// line between its ends. NOTE: 1.6 is an assumed value inside the 1.5 to
	// 2 range commonly quoted for internet paths, not a measurement.
	RouteFactor = 1.6

	// FibreKmPerMs is the signal speed in optical fibre: light at c divided
	// by a refractive index of about 1.47, so roughly 200 km per millisecond.
	FibreKmPerMs = 200.0

	// BaseRTT is the fixed part of every round trip: the client's access
	// network, queueing and the load balancer in front of the region.
	BaseRTT = 5 * time.Millisecond
)

// EstimateLatency returns an estimate of the network round-trip time from a
// client at from to region r:
//
//	BaseRTT + 2 × DistanceKm × RouteFactor / FibreKmPerMs
//
// It is an estimate from distance alone, never a measurement. Real paths
// differ with peering, undersea cable routes and congestion, so use it to
// rank regions, not to promise a latency. The result grows strictly with
// distance, so ranking by it equals ranking by distance.
func EstimateLatency(from Location, r Region) time.Duration {
	km := DistanceKm(from, r.Location())
	oneWayMs := km * RouteFactor / FibreKmPerMs
	return BaseRTT + time.Duration(2*oneWayMs*float64(time.Millisecond))
}

// RegionLatency is a region with its estimated latency from a client.
type RegionLatency struct {
	Region
	DistanceKm float64
	Latency    time.Duration
}

// ErrUnknownRegion is returned, wrapped, for a region ID that is not in the
// catalog.
var ErrUnknownRegion = errors.New("unknown region")

// Nearest returns the region among candidates with the lowest estimated
// latency from from. An empty candidates list means every region. Ties go to
// the smaller ID, so the result is deterministic.
func Nearest(from Location, candidates []string) (Region, error) {
	if err := from.Validate(); err != nil {
		return Region{}, err
	}
	if len(candidates) == 0 {
		return Ranked(from)[0].Region, nil
	}

	var best RegionLatency
	for i, id := range candidates {
		r, ok := Lookup(id)
		if !ok {
			return Region{}, fmt.Errorf("candidate %q: %w", id, ErrUnknownRegion)
		}
		rl := rank(from, r)
		if i == 0 || lessLatency(rl, best) {
			best = rl
		}
	}
	return best.Region, nil
}

// Ranked returns every region sorted by estimated latency from from, nearest
// first, ties broken by ID. The slice is the caller's.
func Ranked(from Location) []RegionLatency {
	out := make([]RegionLatency, len(catalog))
	for i, r := range catalog {
		out[i] = rank(from, r)
	}
	slices.SortFunc(out, func(a, b RegionLatency) int {
		if lessLatency(a, b) {
			return -1
		}
		if lessLatency(b, a) {
			return 1
		}
		return 0
	})
	return out
}

func rank(from Location, r Region) RegionLatency {
	return RegionLatency{
		Region:     r,
		DistanceKm: DistanceKm(from, r.Location()),
		Latency:    EstimateLatency(from, r),
	}
}

// lessLatency compares by distance rather than by the rounded Duration, so
// two regions a few metres apart still order by distance, then by ID.
func lessLatency(a, b RegionLatency) bool {
	if a.DistanceKm != b.DistanceKm {
		return a.DistanceKm < b.DistanceKm
	}
	return strings.Compare(a.ID, b.ID) < 0
}
