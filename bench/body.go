package bench

import (
	"bytes"
	"fmt"
	"maps"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// fileField is the multipart field that carries the image, as in
// `curl -F file=@image.jpg`.
const fileField = "file"

// buildBody encodes the image and the extra fields as multipart/form-data
// once, so that every request shares the same bytes. It returns the body and
// its Content-Type with the boundary.
func buildBody(cfg Config) (body []byte, contentType string, err error) {
	image := cfg.FileBytes
	if len(image) == 0 {
		image, err = os.ReadFile(cfg.File)
		if err != nil {
			return nil, "", fmt.Errorf("read image: %w", err)
		}
	}

	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := writeImagePart(w, filename(cfg.File, image), image); err != nil {
		return nil, "", err
	}
	// Sorted so that two runs with the same config send identical bytes.
	for _, name := range slices.Sorted(maps.Keys(cfg.Fields)) {
		if err := w.WriteField(name, cfg.Fields[name]); err != nil {
			return nil, "", fmt.Errorf("write form field %q: %w", name, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", fmt.Errorf("close multipart body: %w", err)
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

func writeImagePart(w *multipart.Writer, name string, image []byte) error {
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, fileField, escapeQuotes(name)))
	h.Set("Content-Type", http.DetectContentType(image))
	part, err := w.CreatePart(h)
	if err != nil {
		return fmt.Errorf("create image part: %w", err)
	}
	if _, err := part.Write(image); err != nil {
		return fmt.Errorf("write image part: %w", err)
	}
	return nil
}

// filename returns the base name of path, or for in-memory bytes a name
// whose extension matches the sniffed type, because some servers pick the
// decoder by extension.
func filename(path string, image []byte) string {
	if path != "" {
		return filepath.Base(path)
	}
	switch http.DetectContentType(image) {
	case "image/jpeg":
		return "image.jpg"
	case "image/png":
		return "image.png"
	case "image/gif":
		return "image.gif"
	case "image/webp":
		return "image.webp"
	case "image/bmp":
		return "image.bmp"
	}
	return "image.bin"
}

// escapeQuotes escapes a filename the way mime/multipart does in
// CreateFormFile. Go's %q would also escape non-ASCII characters, which
// servers would then see in the filename.
func escapeQuotes(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
