package regions

import (
	"errors"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var idPattern = regexp.MustCompile(`^[a-z]+(-[a-z]+)*[0-9]+$`)

func TestCatalogShape(t *testing.T) {
	all := All()
	if len(all) != 43 {
		t.Fatalf("len(All()) = %d, want 43", len(all))
	}
	continents := map[string]bool{
		NorthAmerica: true, SouthAmerica: true, Europe: true, MiddleEast: true,
		Africa: true, Asia: true, Oceania: true,
	}
	seen := map[string]bool{}
	for _, r := range all {
		if !idPattern.MatchString(r.ID) {
			t.Errorf("ID %q does not match %s", r.ID, idPattern)
		}
		if seen[r.ID] {
			t.Errorf("duplicate ID %q", r.ID)
		}
		seen[r.ID] = true
		if err := r.Location().Validate(); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
		if r.Lat == 0 && r.Lon == 0 {
			t.Errorf("%s: coordinates are zero", r.ID)
		}
		if !continents[r.Continent] {
			t.Errorf("%s: unknown continent %q", r.ID, r.Continent)
		}
		if len(r.Country) != 2 || r.Name == "" || r.City == "" {
			t.Errorf("%s: incomplete record %+v", r.ID, r)
		}
	}
	if !slices.IsSortedFunc(all, func(a, b Region) int { return strings.Compare(a.ID, b.ID) }) {
		t.Error("All() is not sorted by ID")
	}
}

func TestAllReturnsCopy(t *testing.T) {
	all := All()
	all[0].ID = "changed"
	if got := All()[0].ID; got == "changed" {
		t.Fatal("modifying the result of All() changed the catalog")
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		id       string
		wantOK   bool
		wantCity string
	}{
		{"us-central1", true, "Council Bluffs"},
		{"europe-west3", true, "Frankfurt"},
		{"asia-southeast3", true, "Bangkok"},
		{"US-CENTRAL1", false, ""},
		{"", false, ""},
		{"mars-north1", false, ""},
	}
	for _, tt := range tests {
		r, ok := Lookup(tt.id)
		if ok != tt.wantOK || r.City != tt.wantCity {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.id, r.City, ok, tt.wantCity, tt.wantOK)
		}
	}
	if _, ok := Lookup(DefaultRegion); !ok {
		t.Errorf("DefaultRegion %q is not in the catalog", DefaultRegion)
	}
}

var (
	london    = Location{51.5074, -0.1278}
	paris     = Location{48.8566, 2.3522}
	newYork   = Location{40.7128, -74.0060}
	frankfurt = Location{50.1109, 8.6821}
	tokyo     = Location{35.6762, 139.6503}
	desMoines = Location{41.5868, -93.6250}
	saoPaulo  = Location{-23.5505, -46.6333}
	sydney    = Location{-33.8688, 151.2093}
	mumbai    = Location{19.0760, 72.8777}
	capeTown  = Location{-33.9249, 18.4241}
)

func TestDistanceKm(t *testing.T) {
	tests := []struct {
		name        string
		a, b        Location
		wantKm      float64
		toleranceKm float64
	}{
		{"london paris", london, paris, 344, 5},
		{"new york london", newYork, london, 5570, 20},
		{"sydney tokyo", sydney, tokyo, 7820, 30},
		{"same point", tokyo, tokyo, 0, 1e-9},
		{"quarter meridian", Location{0, 0}, Location{90, 0}, 10008, 2},
		{"antipodes", Location{0, 0}, Location{0, 180}, 20015, 2},
		{"across antimeridian", Location{0, 179.5}, Location{0, -179.5}, 111.2, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DistanceKm(tt.a, tt.b)
			if math.Abs(got-tt.wantKm) > tt.toleranceKm {
				t.Errorf("DistanceKm = %.1f km, want %.1f ± %.1f", got, tt.wantKm, tt.toleranceKm)
			}
			if back := DistanceKm(tt.b, tt.a); math.Abs(back-got) > 1e-6 {
				t.Errorf("distance is not symmetric: %.6f and %.6f", got, back)
			}
		})
	}
}

func TestNearestCities(t *testing.T) {
	tests := []struct {
		name string
		from Location
		want string
	}{
		{"frankfurt", frankfurt, "europe-west3"},
		{"tokyo", tokyo, "asia-northeast1"},
		{"iowa", desMoines, "us-central1"},
		{"sao paulo", saoPaulo, "southamerica-east1"},
		{"london", london, "europe-west2"},
		{"sydney", sydney, "australia-southeast1"},
		{"mumbai", mumbai, "asia-south1"},
		{"cape town", capeTown, "africa-south1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Nearest(tt.from, nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != tt.want {
				t.Errorf("Nearest = %s, want %s", r.ID, tt.want)
			}
		})
	}
}

func TestNearestCandidates(t *testing.T) {
	tests := []struct {
		name       string
		from       Location
		candidates []string
		want       string
		wantErr    error
	}{
		{"subset", frankfurt, []string{"us-central1", "asia-northeast1", "europe-west2"}, "europe-west2", nil},
		{"single", tokyo, []string{"us-east1"}, "us-east1", nil},
		{"unknown candidate", tokyo, []string{"us-east1", "nowhere1"}, "", ErrUnknownRegion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Nearest(tt.from, tt.candidates)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if r.ID != tt.want {
				t.Errorf("Nearest = %q, want %q", r.ID, tt.want)
			}
		})
	}
}

func TestNearestInvalidLocation(t *testing.T) {
	for _, loc := range []Location{{91, 0}, {0, -181}, {math.NaN(), 0}} {
		if _, err := Nearest(loc, nil); err == nil {
			t.Errorf("Nearest(%v) returned no error", loc)
		}
	}
}

func TestRankedOrder(t *testing.T) {
	ranked := Ranked(frankfurt)
	if len(ranked) != len(catalog) {
		t.Fatalf("len(Ranked) = %d, want %d", len(ranked), len(catalog))
	}
	if ranked[0].ID != "europe-west3" {
		t.Errorf("first = %s, want europe-west3", ranked[0].ID)
	}
	for i := 1; i < len(ranked); i++ {
		if ranked[i].Latency < ranked[i-1].Latency {
			t.Errorf("latency decreases at %d: %s %v after %s %v",
				i, ranked[i].ID, ranked[i].Latency, ranked[i-1].ID, ranked[i-1].Latency)
		}
	}
}

func TestEstimateLatencyMonotonic(t *testing.T) {
	origin := Location{0, 0}
	prev := time.Duration(-1)
	for lon := 0.0; lon <= 180; lon += 0.5 {
		r := Region{Lat: 0, Lon: lon}
		got := EstimateLatency(origin, r)
		if got < prev {
			t.Fatalf("latency at lon %v = %v, below %v at the previous step", lon, got, prev)
		}
		prev = got
	}
}

func TestEstimateLatencyValues(t *testing.T) {
	frankfurtRegion, _ := Lookup("europe-west3")
	if got := EstimateLatency(frankfurt, frankfurtRegion); got != BaseRTT {
		t.Errorf("latency at zero distance = %v, want BaseRTT %v", got, BaseRTT)
	}
	// London to Ashburn is about 5,900 km, which the model turns into
	// 5 ms + 2 × 5900 × 1.6 / 200 ms, about 99 ms.
	ashburn, _ := Lookup("us-east4")
	got := EstimateLatency(london, ashburn)
	if got < 90*time.Millisecond || got > 110*time.Millisecond {
		t.Errorf("London to us-east4 = %v, want 90ms..110ms", got)
	}
}

func TestLocateCountry(t *testing.T) {
	tests := []struct {
		code   string
		wantOK bool
		near   string
	}{
		{"DE", true, "europe-west3"},
		{"de", true, "europe-west3"},
		{"JP", true, "asia-northeast1"},
		{"BR", true, "southamerica-east1"},
		{"SG", true, "asia-southeast1"},
		{"ZZ", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		loc, ok := LocateCountry(tt.code)
		if ok != tt.wantOK {
			t.Errorf("LocateCountry(%q) ok = %v, want %v", tt.code, ok, tt.wantOK)
			continue
		}
		if !ok {
			continue
		}
		r, err := Nearest(loc, nil)
		if err != nil || r.ID != tt.near {
			t.Errorf("nearest to %s = %s, %v; want %s", tt.code, r.ID, err, tt.near)
		}
	}
}

func TestCountryTable(t *testing.T) {
	if n := len(countryPoints); n < 60 {
		t.Errorf("country table has %d entries, want at least 60", n)
	}
	for code, loc := range countryPoints {
		if !isCountryCode(code) || code[0] > 'Z' || code[1] > 'Z' {
			t.Errorf("key %q is not an upper-case alpha-2 code", code)
		}
		if err := loc.Validate(); err != nil {
			t.Errorf("%s: %v", code, err)
		}
	}
}

func TestLocateOrder(t *testing.T) {
	coords := Location{1, 2}
	tokyoRegion, _ := Lookup("asia-northeast1")
	defaultRegion, _ := Lookup(DefaultRegion)
	de, _ := LocateCountry("DE")
	tests := []struct {
		name    string
		hint    Hint
		want    Location
		wantSrc Source
	}{
		{"coords first", Hint{Coords: &coords, Region: "asia-northeast1", Country: "DE"}, coords, FromCoords},
		{"region before country", Hint{Region: "asia-northeast1", Country: "DE"}, tokyoRegion.Location(), FromRegion},
		{"unknown region falls to country", Hint{Region: "nowhere1", Country: "DE"}, de, FromCountry},
		{"unknown country falls to default", Hint{Country: "ZZ"}, defaultRegion.Location(), FromDefault},
		{"empty", Hint{}, defaultRegion.Location(), FromDefault},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, src := Locate(tt.hint)
			if got != tt.want || src != tt.wantSrc {
				t.Errorf("Locate = %v, %s; want %v, %s", got, src, tt.want, tt.wantSrc)
			}
		})
	}
}
