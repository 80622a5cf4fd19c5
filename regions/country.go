package regions

import "strings"

// countryPoints maps ISO 3166-1 alpha-2 codes to one representative point
// per country, rounded to about 0.1 degree. The point sits near where most of
// the country's people live rather than at its geometric centroid, because
// for countries such as Canada, Russia or Australia the centroid lies far
// from the users and would pick the wrong region.
//
// NOTE: one point per country cannot represent countries that span
// continents (US, RU, BR, AU). Clients there get better results by sending
// coordinates.
var countryPoints = map[string]Location{
	// North and Central America, Caribbean
	"US": {37.4, -92.2}, "CA": {45.0, -77.5}, "MX": {20.5, -100.0},
	"GT": {14.6, -90.5}, "CR": {9.9, -84.1}, "PA": {9.0, -79.5},
	"CU": {22.0, -79.5}, "DO": {18.7, -70.2}, "PR": {18.2, -66.5},
	"JM": {18.1, -77.3},
	// South America
	"BR": {-19.5, -46.0}, "AR": {-34.0, -60.5}, "CL": {-33.5, -70.7},
	"CO": {5.0, -74.5}, "PE": {-11.5, -76.5}, "VE": {9.5, -67.0},
	"EC": {-1.5, -78.5}, "UY": {-34.5, -56.2}, "BO": {-17.0, -65.0},
	"PY": {-25.3, -57.5},
	// Europe
	"GB": {52.5, -1.5}, "IE": {53.3, -7.5}, "FR": {46.8, 2.4},
	"DE": {51.0, 9.8}, "NL": {52.2, 5.3}, "BE": {50.8, 4.4},
	"LU": {49.6, 6.1}, "CH": {47.1, 8.1}, "AT": {47.8, 14.5},
	"IT": {42.8, 12.3}, "ES": {40.2, -3.7}, "PT": {39.6, -8.5},
	"DK": {55.9, 10.5}, "NO": {60.5, 9.5}, "SE": {59.5, 16.0},
	"FI": {61.5, 25.0}, "IS": {64.1, -21.8}, "PL": {52.0, 19.4},
	"CZ": {49.8, 15.5}, "SK": {48.7, 19.7}, "HU": {47.3, 19.3},
	"RO": {45.5, 25.5}, "BG": {42.7, 25.3}, "GR": {38.8, 23.0},
	"HR": {45.5, 16.0}, "SI": {46.1, 14.8}, "RS": {44.3, 20.7},
	"EE": {59.0, 25.5}, "LV": {56.9, 24.6}, "LT": {55.2, 24.0},
	"UA": {49.2, 31.0}, "BY": {53.7, 28.0}, "RU": {55.5, 40.0},
	"TR": {39.5, 32.0}, "CY": {35.0, 33.2}, "MT": {35.9, 14.4},
	// Middle East
	"IL": {32.0, 34.9}, "AE": {24.8, 55.0}, "SA": {24.5, 45.5},
	"QA": {25.3, 51.3}, "KW": {29.3, 47.9}, "BH": {26.1, 50.5},
	"OM": {23.0, 57.5}, "JO": {31.7, 36.0}, "LB": {33.9, 35.7},
	"IQ": {33.0, 44.0}, "IR": {34.0, 51.5},
	// Africa
	"ZA": {-27.5, 27.5}, "NG": {8.5, 7.0}, "EG": {29.5, 31.2},
	"KE": {-0.8, 37.0}, "MA": {33.2, -6.8}, "DZ": {35.5, 3.5},
	"TN": {35.8, 10.0}, "GH": {6.5, -1.0}, "ET": {9.0, 39.0},
	"TZ": {-6.5, 35.5}, "UG": {0.8, 32.5}, "SN": {14.7, -16.5},
	"CI": {6.5, -5.0},
	// Asia
	"IN": {23.0, 79.0}, "PK": {29.5, 71.0}, "BD": {23.7, 90.3},
	"LK": {7.3, 80.6}, "NP": {27.8, 84.5}, "CN": {32.0, 114.0},
	"HK": {22.3, 114.2}, "TW": {24.0, 121.0}, "JP": {35.8, 138.0},
	"KR": {36.8, 127.5}, "SG": {1.35, 103.8}, "MY": {3.5, 102.0},
	"ID": {-6.5, 108.0}, "TH": {14.5, 100.8}, "VN": {16.0, 106.5},
	"PH": {13.5, 122.0}, "MM": {19.5, 96.0}, "KH": {12.0, 105.0},
	"KZ": {47.0, 70.0}, "UZ": {41.0, 67.0}, "MN": {47.9, 106.9},
	// Oceania
	"AU": {-33.5, 148.0}, "NZ": {-39.0, 175.5},
}

// LocateCountry returns the representative point of a country given by its
// ISO 3166-1 alpha-2 code, in either case. It returns false for codes that
// are not in the table, and callers then fall back to DefaultRegion as Locate
// does.
func LocateCountry(code string) (Location, bool) {
	loc, ok := countryPoints[strings.ToUpper(code)]
	return loc, ok
}

// Hint is a client's own description of its location. Any field may be empty.
type Hint struct {
	Coords  *Location // explicit coordinates, already validated by the caller
	Region  string    // a region ID the client is near, such as its data region
	Country string    // ISO 3166-1 alpha-2 code
}

// Source names which part of a Hint located the client.
type Source string

// Sources returned by Locate, in the order Locate tries them.
const (
	FromCoords  Source = "coordinates"
	FromRegion  Source = "region"
	FromCountry Source = "country"
	FromDefault Source = "default"
)

// Locate returns where a client is from the first usable field of h:
// coordinates, then a known region ID, then a known country code. When none
// is usable it returns the location of DefaultRegion and FromDefault, so an
// unknown country ranks regions as a client in DefaultRegion would.
func Locate(h Hint) (Location, Source) {
	if h.Coords != nil {
		return *h.Coords, FromCoords
	}
	if r, ok := Lookup(h.Region); ok {
		return r.Location(), FromRegion
	}
	if loc, ok := LocateCountry(h.Country); ok {
		return loc, FromCountry
	}
	r, _ := Lookup(DefaultRegion)
	return r.Location(), FromDefault
}
