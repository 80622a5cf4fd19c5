package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/dataplane/vision"
	"github.com/yoloplane/yoloplane/shared/apierr"
)

// Icon limits. 2 MB holds a detailed PNG logo; 4096×4096 pixels is more
// than any client draws an icon at, and it keeps the validating decode
// under about 50 MB of memory.
const (
	maxIconBytes  = 2 << 20
	maxIconPixels = 4096 * 4096
)

// iconContentTypes maps the decoded image format to the Content-Type the
// icon is served with.
var iconContentTypes = map[vision.Format]string{
	vision.FormatJPEG: "image/jpeg",
	vision.FormatPNG:  "image/png",
	vision.FormatWebP: "image/webp",
	vision.FormatGIF:  "image/gif",
	vision.FormatBMP:  "image/bmp",
}

// routeProjectIcon dispatches /api/projects/{projectId}/icon and
// /api/projects/{owner}/{project}/icon.
func (s *Server) routeProjectIcon(ctx *fasthttp.RequestCtx, method string, seg []string) {
	byID := len(seg) == 2
	var r route
	var h func(*fasthttp.RequestCtx, state.Project)
	switch method {
	case fasthttp.MethodGet:
		r, h = "GET /api/projects/{projectId}/icon", s.serveProjectIcon
	case fasthttp.MethodPost:
		r, h = "POST /api/projects/{projectId}/icon", s.uploadProjectIcon
	case fasthttp.MethodDelete:
		r, h = "DELETE /api/projects/{projectId}/icon", s.removeProjectIcon
	default:
		apierr.Write(ctx, methodNotAllowed(ctx))
		return
	}
	if byID {
		s.withProjectByID(ctx, r, seg[0], h)
		return
	}
	s.withProjectBySlug(ctx, route(method+" /api/projects/{owner}/{project}/icon"), seg[0], seg[1], h)
}

func (s *Server) serveProjectIcon(ctx *fasthttp.RequestCtx, p state.Project) {
	icon, ok := s.fsm.ProjectIcon(p.ID)
	if !ok || s.backend.Blobs == nil {
		apierr.Write(ctx, apierr.NotFound("project %s has no icon", p.Slug))
		return
	}
	s.serveImage(ctx, icon.SHA256, icon.ContentType)
}

// serveImage sends a stored icon or avatar.
func (s *Server) serveImage(ctx *fasthttp.RequestCtx, hash, contentType string) {
	f, e := s.openBlob(ctx, hash, "image")
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		s.log.Error("stat image blob failed", "sha256", hash, "error", err)
		apierr.Write(ctx, apierr.Internal)
		return
	}
	ctx.SetContentType(contentType)
	ctx.Response.Header.Set("Cache-Control", "private, max-age=300")
	ctx.SetBodyStream(f, int(info.Size()))
}

// uploadProjectIcon stores the uploaded image as the project's icon.
func (s *Server) uploadProjectIcon(ctx *fasthttp.RequestCtx, p state.Project) {
	setIcon := func(img storedImage) state.Command {
		return &state.SetProjectIcon{Icon: state.ProjectIcon{ProjectID: p.ID, SHA256: img.SHA256,
			ContentType: img.ContentType, Size: img.Size, UpdatedAt: s.now()}}
	}
	previous := func(v any) string { return v.(state.IconChange).Previous }
	if e := s.replaceImage(ctx, setIcon, previous, "project_id", p.ID); e != nil {
		apierr.Write(ctx, e)
		return
	}
	s.record(ctx, p.WorkspaceID, "updated", "project", p.ID, "Changed the icon of project "+p.Slug)
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true, "iconUrl": "/api/projects/" + p.ID + "/icon"})
}

func (s *Server) removeProjectIcon(ctx *fasthttp.RequestCtx, p state.Project) {
	v, e := s.apply(&state.SetProjectIcon{Icon: state.ProjectIcon{ProjectID: p.ID, UpdatedAt: s.now()}})
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	if previous := v.(state.IconChange).Previous; previous != "" {
		s.dropUnreferenced(previous)
		s.record(ctx, p.WorkspaceID, "updated", "project", p.ID, "Removed the icon of project "+p.Slug)
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true})
}

// storedImage is an uploaded icon or avatar in the blob store.
type storedImage struct {
	SHA256      string
	ContentType string
	Size        int64
}

// storeImageUpload puts the image of the multipart field "file" in the blob
// store after checking its size and decoding it, so that only images
// clients can draw are stored. logArgs name the record the image is for in
// the log line of a failure. The caller drops the blob when no record ends
// up referencing it.
func (s *Server) storeImageUpload(ctx *fasthttp.RequestCtx, logArgs ...any) (storedImage, *apierr.Error) {
	data, e := readIconUpload(ctx)
	if e != nil {
		return storedImage{}, e
	}
	_, format, err := vision.Decode(data, vision.DecodeOptions{MaxPixels: maxIconPixels})
	if err != nil {
		return storedImage{}, iconDecodeError(err)
	}
	if s.backend.Blobs == nil {
		s.log.Error("BUG: image upload without a blob store", logArgs...)
		return storedImage{}, apierr.Internal
	}
	hash, size, err := s.backend.Blobs.Put(bytes.NewReader(data))
	if err != nil {
		s.log.Error("store image failed", append(logArgs, "error", err)...)
		return storedImage{}, apierr.Internal
	}
	return storedImage{SHA256: hash, ContentType: iconContentTypes[format], Size: size}, nil
}

// replaceImage stores the uploaded image and proposes the command that
// setImage builds for it. It deletes the new blob when the command fails,
// and the replaced one, which previous reads from the command's result,
// when it succeeds.
func (s *Server) replaceImage(ctx *fasthttp.RequestCtx, setImage func(storedImage) state.Command, previous func(any) string, logArgs ...any) *apierr.Error {
	img, e := s.storeImageUpload(ctx, logArgs...)
	if e != nil {
		return e
	}
	v, e := s.apply(setImage(img))
	if e != nil {
		s.dropUnreferenced(img.SHA256)
		return e
	}
	s.dropUnreferenced(previous(v))
	return nil
}

// readIconUpload returns the bytes of the multipart field "file". Bodies
// and files over maxIconBytes get 413.
func iconTooLarge() *apierr.Error {
	return apierr.New(fasthttp.StatusRequestEntityTooLarge, apierr.CodePayloadTooLarge,
		"icon image is larger than %d bytes (2 MiB): send a smaller image", maxIconBytes)
}

func readIconUpload(ctx *fasthttp.RequestCtx) ([]byte, *apierr.Error) {
	mediaType, params, _ := mime.ParseMediaType(string(ctx.Request.Header.ContentType()))
	switch {
	case mediaType != "multipart/form-data":
		return nil, apierr.Validation("send the icon as multipart/form-data with the image in the field file")
	case params["boundary"] == "":
		return nil, apierr.Validation("the multipart/form-data Content-Type has no boundary parameter: let the HTTP client build the form")
	}
	// The form adds headers and the boundary around the image.
	body, e := requestBody(ctx, maxIconBytes+maxUploadField)
	if e != nil {
		if e.Status == fasthttp.StatusRequestEntityTooLarge {
			return nil, iconTooLarge()
		}
		return nil, e
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, apierr.Validation("file is missing: send the icon image as the multipart field file")
		}
		if err != nil {
			return nil, apierr.Validation("invalid multipart body: %v", err)
		}
		if part.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, maxIconBytes+1))
		if err != nil {
			return nil, apierr.Validation("invalid multipart body: %v", err)
		}
		if len(data) > maxIconBytes {
			return nil, iconTooLarge()
		}
		return data, nil
	}
}

func iconDecodeError(err error) *apierr.Error {
	if errors.Is(err, vision.ErrTooLarge) {
		return apierr.Validation("icon image is too large: send at most %d pixels, such as 512×512", maxIconPixels)
	}
	return apierr.Validation("icon is not a usable image: %v", err)
}

// trackDownload counts one download of a model's file.
func (s *Server) trackDownload(ctx *fasthttp.RequestCtx, m state.Model) {
	v, e := s.apply(&state.TrackModelDownload{ModelID: m.ID, At: s.now()})
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	writeJSON(ctx, fasthttp.StatusOK, map[string]any{"success": true, "downloadCount": v.(state.ModelDownloads).Count})
}
