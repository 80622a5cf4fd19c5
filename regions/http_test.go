package regions

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/shared/apierr"
)

func serve(t *testing.T, h fasthttp.RequestHandler, uri string) *fasthttp.RequestCtx {
	t.Helper()
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.SetMethod(fasthttp.MethodGet)
	ctx.Request.SetRequestURI(uri)
	h(&ctx)
	return &ctx
}

func decodeList(t *testing.T, ctx *fasthttp.RequestCtx) listJSON {
	t.Helper()
	if got := ctx.Response.StatusCode(); got != fasthttp.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", got, ctx.Response.Body())
	}
	if ct := string(ctx.Response.Header.ContentType()); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var resp listJSON
	if err := json.Unmarshal(ctx.Response.Body(), &resp); err != nil {
		t.Fatalf("decode body: %v", err)
	}
	return resp
}

func TestListWithoutLocation(t *testing.T) {
	resp := decodeList(t, serve(t, ListHandler, "/api/regions"))
	if resp.Total != 43 || len(resp.Regions) != 43 {
		t.Fatalf("total = %d, len = %d; want 43", resp.Total, len(resp.Regions))
	}
	if resp.Nearest != "" {
		t.Errorf("nearest = %q, want it absent", resp.Nearest)
	}
	ids := make([]string, len(resp.Regions))
	for i, r := range resp.Regions {
		ids[i] = r.ID
		if r.LatencyMs != nil {
			t.Errorf("%s: latencyMs present without a location", r.ID)
		}
	}
	if !slices.IsSorted(ids) {
		t.Errorf("regions not sorted by ID: %v", ids)
	}
}

func TestListKeys(t *testing.T) {
	ctx := serve(t, ListHandler, "/api/regions?lat=50.11&lon=8.68")
	var raw struct {
		Regions []map[string]any `json:"regions"`
		Nearest string           `json:"nearest"`
		Total   int              `json:"total"`
	}
	if err := json.Unmarshal(ctx.Response.Body(), &raw); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range raw.Regions[0] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"city", "continent", "country", "id", "lat", "latencyMs", "lon", "name"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("region keys (-want +got):\n%s", diff)
	}
	if raw.Nearest != "europe-west3" || raw.Total != 43 {
		t.Errorf("nearest = %q, total = %d; want europe-west3, 43", raw.Nearest, raw.Total)
	}
}

func TestListWithLocation(t *testing.T) {
	tests := []struct {
		name        string
		query       string
		wantNearest string
	}{
		{"coordinates", "lat=50.11&lon=8.68", "europe-west3"},
		{"country", "country=DE", "europe-west3"},
		{"country lower case", "country=jp", "asia-northeast1"},
		{"region hint", "region=asia-south1", "asia-south1"},
		{"coordinates win over country", "lat=-23.55&lon=-46.63&country=DE", "southamerica-east1"},
		{"unknown country uses default", "country=ZZ", DefaultRegion},
		{"bounds inclusive", "lat=-90&lon=180", "australia-southeast2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := decodeList(t, serve(t, ListHandler, "/api/regions?"+tt.query))
			if resp.Nearest != tt.wantNearest {
				t.Errorf("nearest = %q, want %q", resp.Nearest, tt.wantNearest)
			}
			if len(resp.Regions) != 43 || resp.Regions[0].ID != tt.wantNearest {
				t.Fatalf("first region = %+v, want %s of 43", resp.Regions[0], tt.wantNearest)
			}
			for i, r := range resp.Regions {
				if r.LatencyMs == nil {
					t.Fatalf("%s: latencyMs missing", r.ID)
				}
				if i > 0 && *r.LatencyMs < *resp.Regions[i-1].LatencyMs {
					t.Errorf("latency decreases at %s", r.ID)
				}
			}
		})
	}
}

func TestListErrors(t *testing.T) {
	tests := []struct {
		name     string
		query    string
		wantText []string
	}{
		{"lat too high", "lat=90.5&lon=0", []string{"lat", "-90", "90"}},
		{"lon too low", "lat=0&lon=-180.01", []string{"lon", "-180", "180"}},
		{"lat not a number", "lat=north&lon=0", []string{"lat", `"north"`}},
		{"lat NaN", "lat=NaN&lon=0", []string{"lat"}},
		{"lon infinite", "lat=0&lon=Inf", []string{"lon"}},
		{"lat alone", "lat=10", []string{"lat and lon"}},
		{"lon alone", "lon=10", []string{"lat and lon"}},
		{"country three letters", "country=DEU", []string{"country", `"DEU"`, "two-letter"}},
		{"country digits", "country=D1", []string{"country"}},
		{"country empty", "country=", []string{"country"}},
		{"unknown region hint", "region=mars1", []string{"region", `"mars1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := serve(t, ListHandler, "/api/regions?"+tt.query)
			checkError(t, ctx, fasthttp.StatusBadRequest, apierr.CodeValidation, tt.wantText)
		})
	}
}

// checkError asserts an error response whose body is exactly
// {"error": message}.
func checkError(t *testing.T, ctx *fasthttp.RequestCtx, status int, code string, wantText []string) {
	t.Helper()
	if got := ctx.Response.StatusCode(); got != status {
		t.Errorf("status = %d, want %d", got, status)
	}
	if got := string(ctx.Response.Header.Peek(apierr.HeaderCode)); got != code {
		t.Errorf("%s = %q, want %q", apierr.HeaderCode, got, code)
	}
	var body map[string]string
	if err := json.Unmarshal(ctx.Response.Body(), &body); err != nil {
		t.Fatalf("decode error body %s: %v", ctx.Response.Body(), err)
	}
	if len(body) != 1 || body["error"] == "" {
		t.Fatalf("body = %s, want only a non-empty error key", ctx.Response.Body())
	}
	for _, s := range wantText {
		if !strings.Contains(body["error"], s) {
			t.Errorf("error %q does not mention %s", body["error"], s)
		}
	}
}

func TestGetHandler(t *testing.T) {
	ctx := serve(t, GetHandler, "/api/regions/europe-west3")
	if got := ctx.Response.StatusCode(); got != fasthttp.StatusOK {
		t.Fatalf("status = %d, want 200", got)
	}
	var got regionJSON
	if err := json.Unmarshal(ctx.Response.Body(), &got); err != nil {
		t.Fatal(err)
	}
	r, _ := Lookup("europe-west3")
	if diff := cmp.Diff(toJSON(r, nil), got); diff != "" {
		t.Errorf("region (-want +got):\n%s", diff)
	}
}

func TestGetHandlerUserValue(t *testing.T) {
	var ctx fasthttp.RequestCtx
	ctx.Request.SetRequestURI("/somewhere/else?country=JP")
	ctx.SetUserValue("id", "asia-northeast1")
	GetHandler(&ctx)

	var got regionJSON
	if err := json.Unmarshal(ctx.Response.Body(), &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != "asia-northeast1" || got.LatencyMs == nil {
		t.Errorf("got %+v, want asia-northeast1 with latencyMs", got)
	}
}

func TestGetHandlerErrors(t *testing.T) {
	tests := []struct {
		name     string
		uri      string
		status   int
		code     string
		wantText []string
	}{
		{"unknown", "/api/regions/mars-north1", fasthttp.StatusNotFound, apierr.CodeNotFound, []string{`"mars-north1"`}},
		{"empty", "/api/regions/", fasthttp.StatusNotFound, apierr.CodeNotFound, []string{`""`}},
		{"bad lat", "/api/regions/us-east1?lat=100&lon=0", fasthttp.StatusBadRequest, apierr.CodeValidation, []string{"lat"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, serve(t, GetHandler, tt.uri), tt.status, tt.code, tt.wantText)
		})
	}
}
