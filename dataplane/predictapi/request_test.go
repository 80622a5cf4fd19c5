package predictapi

import (
	"bytes"
	"encoding/base64"
	"errors"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/yoloplane/yoloplane/shared/apierr"
)

// multipartForm builds a multipart body with an optional file part and text fields.
func multipartForm(t testing.TB, file []byte, fields ...string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := w.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		part, err := w.CreateFormFile("file", "image.jpg")
		if err != nil {
			t.Fatal(err)
		}
		part.Write(file)
	}
	w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func TestParseDefaults(t *testing.T) {
	ct, body := multipartForm(t, []byte("image"))
	req, err := Parse(ct, body, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if string(req.Image) != "image" {
		t.Errorf("image = %q, want the file part", req.Image)
	}
	if req.Params.Conf != 0.25 || req.Params.IoU != 0.7 || req.Params.MaxDet != 300 {
		t.Errorf("params = %+v, want conf 0.25, iou 0.7, max 300", req.Params)
	}
	if req.Decimals != -1 || req.Normalize {
		t.Errorf("decimals %d normalize %v, want -1 and false", req.Decimals, req.Normalize)
	}
}

func TestParseFields(t *testing.T) {
	ct, body := multipartForm(t, []byte("x"), "conf", "0.5", "iou", "0.45", "imgsz", "320", "decimals", "3", "normalize", "true")
	req, err := Parse(ct, body, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if req.Params.Conf != 0.5 || req.Params.IoU != 0.45 || req.Params.ImgSz != 320 {
		t.Errorf("params = %+v", req.Params)
	}
	if req.Decimals != 3 || !req.Normalize {
		t.Errorf("decimals %d normalize %v, want 3 and true", req.Decimals, req.Normalize)
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		name   string
		fields []string
		file   []byte
		want   string
	}{
		{"conf high", []string{"conf", "1.01"}, []byte("x"), "conf"},
		{"conf nan", []string{"conf", "NaN"}, []byte("x"), "conf"},
		{"iou high", []string{"iou", "0.96"}, []byte("x"), "iou"},
		{"iou negative", []string{"iou", "-0.1"}, []byte("x"), "iou"},
		{"imgsz float", []string{"imgsz", "320.5"}, []byte("x"), "imgsz"},
		{"imgsz large", []string{"imgsz", "1281"}, []byte("x"), "imgsz"},
		{"decimals negative", []string{"decimals", "-1"}, []byte("x"), "decimals"},
		{"normalize word", []string{"normalize", "sometimes"}, []byte("x"), "normalize"},
		{"duplicate field", []string{"conf", "0.3", "conf", "0.4"}, []byte("x"), "more than once"},
		{"long field", []string{"conf", strings.Repeat("1", 100)}, []byte("x"), "longer than"},
		{"no image", nil, nil, "missing image"},
		{"file and source", []string{"source", "aGk="}, []byte("x"), "only one"},
		{"bad base64", []string{"source", "!!!"}, nil, "base64"},
		{"url source", []string{"source", "http://127.0.0.1/a.jpg"}, nil, "disabled"},
		{"source too long", []string{"source", strings.Repeat("A", MaxSourceLen+4)}, nil, "longer than"},
	}
	for _, c := range cases {
		ct, body := multipartForm(t, c.file, c.fields...)
		_, err := Parse(ct, body, Options{})
		var e *apierr.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: error %v, want an API error", c.name, err)
			continue
		}
		if e.Status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", c.name, e.Status)
		}
		if !strings.Contains(e.Message, c.want) {
			t.Errorf("%s: message %q does not mention %q", c.name, e.Message, c.want)
		}
	}
}

func TestParseContentType(t *testing.T) {
	cases := []struct {
		contentType string
		opts        Options
		status      int
	}{
		{"application/json", Options{}, http.StatusUnsupportedMediaType},
		{"", Options{}, http.StatusUnsupportedMediaType},
		{"application/json", Options{StatusUnsupportedMedia: http.StatusBadRequest}, http.StatusBadRequest},
		{"multipart/form-data", Options{}, http.StatusBadRequest},
		{"multipart/form-data; boundary=", Options{}, http.StatusBadRequest},
	}
	for _, c := range cases {
		_, err := Parse(c.contentType, []byte("{}"), c.opts)
		var e *apierr.Error
		if !errors.As(err, &e) || e.Status != c.status {
			t.Errorf("Content-Type %q: error %v, want status %d", c.contentType, err, c.status)
		}
	}
}

func TestParseBase64Source(t *testing.T) {
	payload := []byte("\x89PNG fake")
	for _, src := range []string{
		base64.StdEncoding.EncodeToString(payload),
		base64.RawURLEncoding.EncodeToString(payload),
		"data:image/png;base64," + base64.StdEncoding.EncodeToString(payload),
	} {
		ct, body := multipartForm(t, nil, "source", src)
		req, err := Parse(ct, body, Options{})
		if err != nil {
			t.Errorf("source %q: %v", src, err)
			continue
		}
		if !bytes.Equal(req.Image, payload) {
			t.Errorf("source %q decoded to %q", src, req.Image)
		}
	}
}

func TestParseMalformedMultipart(t *testing.T) {
	_, err := Parse("multipart/form-data; boundary=abc", []byte("--abc\r\nbroken"), Options{})
	var e *apierr.Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
		t.Errorf("malformed body: error %v, want 400", err)
	}
}

func FuzzParse(f *testing.F) {
	ct, body := multipartForm(f, []byte("image"), "conf", "0.5")
	f.Add(ct, body)
	f.Add("multipart/form-data; boundary=abc", []byte("--abc\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n--abc--\r\n"))
	f.Add("multipart/form-data; boundary=abc", []byte("--abc--"))
	f.Add("text/plain", []byte("hi"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req, err := Parse(contentType, body, Options{})
		if err != nil {
			var e *apierr.Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 {
				t.Fatalf("error %v is not a 4xx API error", err)
			}
			return
		}
		if req.Image == nil {
			t.Fatal("accepted a request without an image")
		}
	})
}

func TestParseUnknownFields(t *testing.T) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, _ := w.CreateFormFile("image", "bus.jpg")
	part.Write([]byte("x"))
	w.Close()
	_, err := Parse(w.FormDataContentType(), buf.Bytes(), Options{})
	var e *apierr.Error
	if !errors.As(err, &e) || !strings.Contains(e.Message, "field named file") {
		t.Errorf("file under another name: error %v, want a message naming the file field", err)
	}

	ct, body := multipartForm(t, []byte("x"), "comment", strings.Repeat("y", 200), "bits", "8")
	if _, err := Parse(ct, body, Options{}); err != nil {
		t.Errorf("unknown text field: %v, want it ignored", err)
	}
}

func TestParseRejectsNonDecimal(t *testing.T) {
	for _, v := range []string{"0x1p-2", "1_0", "inf", "Infinity"} {
		ct, body := multipartForm(t, []byte("x"), "conf", v)
		if _, err := Parse(ct, body, Options{}); err == nil {
			t.Errorf("conf %q accepted, want a 400", v)
		}
	}
}

func TestParseSourceTooLongNamesFile(t *testing.T) {
	ct, body := multipartForm(t, nil, "source", strings.Repeat("A", MaxSourceLen+1))
	_, err := Parse(ct, body, Options{})
	if err == nil || !strings.Contains(err.Error(), "field file") {
		t.Errorf("long source: error %v, want a pointer to the file field", err)
	}
}

func TestParseURLSource(t *testing.T) {
	image := []byte("\x89PNG served")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/bus.png" {
			http.NotFound(w, r)
			return
		}
		w.Write(image)
	}))
	defer srv.Close()

	allowed := Options{Fetcher: NewURLFetcher(1<<20, 5*time.Second, true)}
	ct, body := multipartForm(t, nil, "source", srv.URL+"/bus.png")
	req, err := Parse(ct, body, allowed)
	if err != nil {
		t.Fatalf("URL source: %v", err)
	}
	if !bytes.Equal(req.Image, image) {
		t.Errorf("fetched %q, want %q", req.Image, image)
	}

	ct, body = multipartForm(t, nil, "source", srv.URL+"/missing.png")
	if _, err := Parse(ct, body, allowed); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing URL: error %v, want one naming HTTP 404", err)
	}

	small := Options{Fetcher: NewURLFetcher(4, 5*time.Second, true)}
	ct, body = multipartForm(t, nil, "source", srv.URL+"/bus.png")
	var e *apierr.Error
	if _, err := Parse(ct, body, small); !errors.As(err, &e) || e.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("image over the limit: error %v, want 413", err)
	}

	public := Options{Fetcher: NewURLFetcher(1<<20, 5*time.Second, false)}
	ct, body = multipartForm(t, nil, "source", srv.URL+"/bus.png")
	if _, err := Parse(ct, body, public); err == nil || !strings.Contains(err.Error(), "private or loopback") {
		t.Errorf("loopback URL without AllowPrivate: error %v, want a refusal", err)
	}
}

func TestIsPublic(t *testing.T) {
	cases := map[string]bool{
		"127.0.0.1": false, "10.1.2.3": false, "192.168.1.1": false, "172.16.0.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "::1": false,
		"fe80::1": false, "fc00::1": false, "8.8.8.8": true, "2001:4860::8888": true,
	}
	for addr, want := range cases {
		if got := isPublic(net.ParseIP(addr)); got != want {
			t.Errorf("isPublic(%s) = %v, want %v", addr, got, want)
		}
	}
}
