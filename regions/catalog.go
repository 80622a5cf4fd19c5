// Package regions is the catalog of regions where dedicated inference
// endpoints run, with great-circle distances, estimated network latency from
// a client location, nearest-region choice and the fasthttp handlers behind
// GET /api/regions.
//
// It is not a measurement tool: latencies are estimates from a fixed model
// (see EstimateLatency), never pings, and client locations come from
// coordinates, a region hint or a country centroid, never from IP
// geolocation.
//
// The catalog is fixed at build time and never modified, so every function
// and handler is safe for concurrent use. Functions that return slices return
// fresh copies the caller owns.
package regions

// DefaultRegion is the region used when a client's location is unknown.
const DefaultRegion = "us-central1"

// Continents used in Region.Continent.
const (
	NorthAmerica = "North America"
	SouthAmerica = "South America"
	Europe       = "Europe"
	MiddleEast   = "Middle East"
	Africa       = "Africa"
	Asia         = "Asia"
	Oceania      = "Oceania"
)

// Region is one location where dedicated endpoints can be deployed. ID uses
// the Google Cloud region naming. Lat and Lon are the coordinates of City in
// decimal degrees (WGS 84), rounded to four places.
type Region struct {
	ID        string
	Name      string
	City      string
	Country   string // ISO 3166-1 alpha-2
	Continent string
	Lat       float64
	Lon       float64
}

// Location returns the region's coordinates.
func (r Region) Location() Location {
	return Location{Lat: r.Lat, Lon: r.Lon}
}

// catalog is sorted by ID, and init checks that order and that IDs are unique.
var catalog = []Region{
	{"africa-south1", "Johannesburg", "Johannesburg", "ZA", Africa, -26.2041, 28.0473},
	{"asia-east1", "Taiwan", "Changhua County", "TW", Asia, 24.0518, 120.5161},
	{"asia-east2", "Hong Kong", "Hong Kong", "HK", Asia, 22.3193, 114.1694},
	{"asia-northeast1", "Tokyo", "Tokyo", "JP", Asia, 35.6762, 139.6503},
	{"asia-northeast2", "Osaka", "Osaka", "JP", Asia, 34.6937, 135.5023},
	{"asia-northeast3", "Seoul", "Seoul", "KR", Asia, 37.5665, 126.9780},
	{"asia-south1", "Mumbai", "Mumbai", "IN", Asia, 19.0760, 72.8777},
	{"asia-south2", "Delhi", "Delhi", "IN", Asia, 28.6139, 77.2090},
	{"asia-southeast1", "Singapore", "Jurong West", "SG", Asia, 1.3404, 103.7090},
	{"asia-southeast2", "Jakarta", "Jakarta", "ID", Asia, -6.2088, 106.8456},
	{"asia-southeast3", "Bangkok", "Bangkok", "TH", Asia, 13.7563, 100.5018},
	{"australia-southeast1", "Sydney", "Sydney", "AU", Oceania, -33.8688, 151.2093},
	{"australia-southeast2", "Melbourne", "Melbourne", "AU", Oceania, -37.8136, 144.9631},
	{"europe-central2", "Warsaw", "Warsaw", "PL", Europe, 52.2297, 21.0122},
	{"europe-north1", "Finland", "Hamina", "FI", Europe, 60.5693, 27.1878},
	{"europe-north2", "Stockholm", "Stockholm", "SE", Europe, 59.3293, 18.0686},
	{"europe-southwest1", "Madrid", "Madrid", "ES", Europe, 40.4168, -3.7038},
	{"europe-west1", "Belgium", "St. Ghislain", "BE", Europe, 50.4490, 3.8183},
	{"europe-west10", "Berlin", "Berlin", "DE", Europe, 52.5200, 13.4050},
	{"europe-west12", "Turin", "Turin", "IT", Europe, 45.0703, 7.6869},
	{"europe-west2", "London", "London", "GB", Europe, 51.5074, -0.1278},
	{"europe-west3", "Frankfurt", "Frankfurt", "DE", Europe, 50.1109, 8.6821},
	{"europe-west4", "Netherlands", "Eemshaven", "NL", Europe, 53.4386, 6.8355},
	{"europe-west6", "Zurich", "Zurich", "CH", Europe, 47.3769, 8.5417},
	{"europe-west8", "Milan", "Milan", "IT", Europe, 45.4642, 9.1900},
	{"europe-west9", "Paris", "Paris", "FR", Europe, 48.8566, 2.3522},
	{"me-central1", "Doha", "Doha", "QA", MiddleEast, 25.2854, 51.5310},
	{"me-central2", "Dammam", "Dammam", "SA", MiddleEast, 26.4207, 50.0888},
	{"me-west1", "Tel Aviv", "Tel Aviv", "IL", MiddleEast, 32.0853, 34.7818},
	{"northamerica-northeast1", "Montréal", "Montréal", "CA", NorthAmerica, 45.5017, -73.5673},
	{"northamerica-northeast2", "Toronto", "Toronto", "CA", NorthAmerica, 43.6532, -79.3832},
	{"northamerica-south1", "Querétaro", "Querétaro", "MX", NorthAmerica, 20.5888, -100.3899},
	{"southamerica-east1", "São Paulo", "Osasco", "BR", SouthAmerica, -23.5325, -46.7917},
	{"southamerica-west1", "Santiago", "Santiago", "CL", SouthAmerica, -33.4489, -70.6693},
	{"us-central1", "Iowa", "Council Bluffs", "US", NorthAmerica, 41.2619, -95.8608},
	{"us-east1", "South Carolina", "Moncks Corner", "US", NorthAmerica, 33.1960, -80.0131},
	{"us-east4", "Northern Virginia", "Ashburn", "US", NorthAmerica, 39.0438, -77.4874},
	{"us-east5", "Columbus", "Columbus", "US", NorthAmerica, 39.9612, -82.9988},
	{"us-south1", "Dallas", "Dallas", "US", NorthAmerica, 32.7767, -96.7970},
	{"us-west1", "Oregon", "The Dalles", "US", NorthAmerica, 45.5946, -121.1787},
	{"us-west2", "Los Angeles", "Los Angeles", "US", NorthAmerica, 34.0522, -118.2437},
	{"us-west3", "Salt Lake City", "Salt Lake City", "US", NorthAmerica, 40.7608, -111.8910},
	{"us-west4", "Las Vegas", "Las Vegas", "US", NorthAmerica, 36.1699, -115.1398},
}

var byID = make(map[string]int, len(catalog))

func init() {
	for i, r := range catalog {
		if _, dup := byID[r.ID]; dup {
			panic("BUG: duplicate region ID " + r.ID)
		}
		if i > 0 && catalog[i-1].ID >= r.ID {
			panic("BUG: region catalog not sorted by ID at " + r.ID)
		}
		byID[r.ID] = i
	}
	if _, ok := byID[DefaultRegion]; !ok {
		panic("BUG: default region " + DefaultRegion + " missing from the catalog")
	}
}

// All returns every region sorted by ID. The slice is a copy.
func All() []Region {
	out := make([]Region, len(catalog))
	copy(out, catalog)
	return out
}

// Lookup returns the region with the given ID.
func Lookup(id string) (Region, bool) {
	i, ok := byID[id]
	if !ok {
		return Region{}, false
	}
	return catalog[i], true
}

// IDs returns every region ID in sorted order.
func IDs() []string {
	out := make([]string, len(catalog))
	for i, r := range catalog {
		out[i] = r.ID
	}
	return out
}
