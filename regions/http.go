package regions

import (
	"math"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/httpserver"
)

// regionJSON is one region in API responses. LatencyMs is present only when
// the request gave a location.
type regionJSON struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	City      string  `json:"city"`
	Country   string  `json:"country"`
	Continent string  `json:"continent"`
	Lat       float64 `json:"lat"`
	Lon       float64 `json:"lon"`
	LatencyMs *int64  `json:"latencyMs,omitempty"`
}

type listJSON struct {
	Regions []regionJSON `json:"regions"`
	Nearest string       `json:"nearest,omitempty"`
	Total   int          `json:"total"`
}

// ListHandler serves GET /api/regions. The query may locate the client by
// lat and lon, else by a region ID, else by a country code, as Locate does.
// With a location it sorts regions by estimated latency, adds latencyMs to
// each and names the nearest. An unknown but well-formed country code falls
// back to DefaultRegion. Without a location it sorts by ID and leaves
// latencyMs and nearest out. Invalid query values get 400 with the body
// {"error": "..."}.
//
// The handler checks no method and no path, which the router does.
func ListHandler(ctx *fasthttp.RequestCtx) {
	loc, located, aerr := parseLocation(ctx.QueryArgs())
	if aerr != nil {
		apierr.Write(ctx, aerr)
		return
	}

	resp := listJSON{Total: len(catalog)}
	if !located {
		resp.Regions = make([]regionJSON, len(catalog))
		for i, r := range catalog {
			resp.Regions[i] = toJSON(r, nil)
		}
		writeJSON(ctx, resp)
		return
	}

	ranked := Ranked(loc)
	resp.Nearest = ranked[0].ID
	resp.Regions = make([]regionJSON, len(ranked))
	for i, rl := range ranked {
		ms := rl.Latency.Milliseconds()
		resp.Regions[i] = toJSON(rl.Region, &ms)
	}
	writeJSON(ctx, resp)
}

// GetHandler serves GET /api/regions/{id}. It takes the ID from the "id"
// user value, which fasthttp/router sets for a {id} parameter, or else from
// the last path segment. The same location query as ListHandler adds
// latencyMs. An unknown ID gets 404 with the body {"error": "..."}.
func GetHandler(ctx *fasthttp.RequestCtx) {
	id, _ := ctx.UserValue("id").(string)
	if id == "" {
		path := string(ctx.Path())
		id = path[strings.LastIndexByte(path, '/')+1:]
	}
	ServeRegion(ctx, id)
}

// ServeRegion writes the region with the given ID as GetHandler does, for
// routers that extract the ID themselves.
func ServeRegion(ctx *fasthttp.RequestCtx, id string) {
	r, ok := Lookup(id)
	if !ok {
		apierr.Write(ctx, apierr.NotFound("region %q not found: list valid IDs with GET /api/regions", id))
		return
	}
	loc, located, aerr := parseLocation(ctx.QueryArgs())
	if aerr != nil {
		apierr.Write(ctx, aerr)
		return
	}
	if !located {
		writeJSON(ctx, toJSON(r, nil))
		return
	}
	ms := EstimateLatency(loc, r).Milliseconds()
	writeJSON(ctx, toJSON(r, &ms))
}

// parseLocation reads lat, lon, region and country from the query. located
// is false when none of them is present.
func parseLocation(args *fasthttp.Args) (loc Location, located bool, aerr *apierr.Error) {
	var hint Hint
	coords, aerr := parseCoords(args)
	if aerr != nil {
		return Location{}, false, aerr
	}
	hint.Coords = coords

	if args.Has("region") {
		hint.Region = string(args.Peek("region"))
		if _, ok := Lookup(hint.Region); !ok {
			return Location{}, false, apierr.Validation(
				"invalid region %q: must be a region ID from GET /api/regions such as %s", hint.Region, DefaultRegion)
		}
	}
	if args.Has("country") {
		hint.Country = string(args.Peek("country"))
		if !isCountryCode(hint.Country) {
			return Location{}, false, apierr.Validation(
				"invalid country %q: must be a two-letter ISO 3166-1 alpha-2 code such as DE", hint.Country)
		}
	}

	if hint.Coords == nil && hint.Region == "" && hint.Country == "" {
		return Location{}, false, nil
	}
	loc, _ = Locate(hint)
	return loc, true, nil
}

func parseCoords(args *fasthttp.Args) (*Location, *apierr.Error) {
	hasLat, hasLon := args.Has("lat"), args.Has("lon")
	if !hasLat && !hasLon {
		return nil, nil
	}
	if hasLat != hasLon {
		return nil, apierr.Validation("lat and lon must be given together")
	}
	lat, aerr := parseDegrees(args, "lat", 90)
	if aerr != nil {
		return nil, aerr
	}
	lon, aerr := parseDegrees(args, "lon", 180)
	if aerr != nil {
		return nil, aerr
	}
	return &Location{Lat: lat, Lon: lon}, nil
}

func parseDegrees(args *fasthttp.Args, name string, bound float64) (float64, *apierr.Error) {
	raw := string(args.Peek(name))
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(v) || v < -bound || v > bound {
		return 0, apierr.Validation("invalid %s %q: must be a number between %v and %v", name, raw, -bound, bound)
	}
	return v, nil
}

func isCountryCode(s string) bool {
	if len(s) != 2 {
		return false
	}
	for i := range len(s) {
		c := s[i] | 0x20 // ASCII lower case
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func toJSON(r Region, latencyMs *int64) regionJSON {
	return regionJSON{
		ID: r.ID, Name: r.Name, City: r.City, Country: r.Country,
		Continent: r.Continent, Lat: r.Lat, Lon: r.Lon, LatencyMs: latencyMs,
	}
}

// writeJSON sends v as a 200 JSON response.
func writeJSON(ctx *fasthttp.RequestCtx, v any) { httpserver.WriteJSON(ctx, fasthttp.StatusOK, v) }
