package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"github.com/yoloplane/yoloplane/controlplane/blob"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/shared/apierr"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// maxUploadField bounds each non-file multipart field.
const maxUploadField = 64 << 10

// modelUpload is a parsed create request: the destination, the model
// and, for multipart uploads, the stored file.
type modelUpload struct {
	Owner, Project, ProjectID, Model, Name, Task string
	Format, SHA256                               string
	Size                                         int64
}

// handleCreateModel creates a model from a multipart upload of a .onnx or
// .pt file, or, for a JSON body, a model record without weights.
func (s *Server) handleCreateModel(ctx *fasthttp.RequestCtx) {
	mediaType, params, _ := mime.ParseMediaType(string(ctx.Request.Header.ContentType()))
	var up modelUpload
	var e *apierr.Error
	if mediaType == "multipart/form-data" {
		up, e = s.readUpload(ctx, params["boundary"])
	} else {
		up, e = readModelJSON(ctx)
	}
	if e != nil {
		apierr.Write(ctx, e)
		return
	}
	m, e := s.createModel(ctx, up)
	if e != nil {
		s.dropUnreferenced(up.SHA256)
		apierr.Write(ctx, e)
		return
	}
	ws, _ := s.fsm.WorkspaceByID(m.WorkspaceID)
	p, _ := s.fsm.ProjectByID(m.ProjectID)
	writeJSON(ctx, fasthttp.StatusCreated, map[string]any{
		"id": m.ID, "owner": ws.Slug, "project": p.Slug, "model": m.Slug, "region": region,
	})
}

func readModelJSON(ctx *fasthttp.RequestCtx) (modelUpload, *apierr.Error) {
	var req struct {
		Owner, Project, ProjectID, Model, Name, Task string
	}
	if e := readJSON(ctx, &req, false); e != nil {
		return modelUpload{}, e
	}
	return modelUpload{Owner: req.Owner, Project: req.Project, ProjectID: req.ProjectID, Model: req.Model,
		Name: req.Name, Task: req.Task, Format: state.FormatPyTorch}, nil
}

// readUpload reads the multipart form, streaming the file part into the
// blob store so that large models never sit in memory whole.
func (s *Server) readUpload(ctx *fasthttp.RequestCtx, boundary string) (modelUpload, *apierr.Error) {
	if boundary == "" {
		return modelUpload{}, apierr.Validation("multipart body has no boundary: send Content-Type multipart/form-data; boundary=...")
	}
	// PostBody on a streamed body would read all of it into memory, so it
	// is called only when the server buffered the body.
	var body io.Reader
	if ctx.Request.IsBodyStream() {
		body = io.LimitReader(ctx.RequestBodyStream(), s.cfg.MaxUpload+1<<20)
	} else {
		body = bytes.NewReader(ctx.PostBody())
	}
	r := multipart.NewReader(body, boundary)
	var up modelUpload
	for {
		part, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return up, apierr.Validation("invalid multipart body: %v", err)
		}
		if e := s.readPart(part, &up); e != nil {
			s.dropUnreferenced(up.SHA256)
			return up, e
		}
	}
	if up.SHA256 == "" {
		return up, apierr.Validation("file is missing: send the model as the multipart field file")
	}
	return up, nil
}

func (s *Server) readPart(part *multipart.Part, up *modelUpload) *apierr.Error {
	defer part.Close()
	if part.FormName() == "file" {
		return s.storeUpload(part, up)
	}
	v, err := io.ReadAll(io.LimitReader(part, maxUploadField+1))
	if err != nil || len(v) > maxUploadField {
		return apierr.Validation("multipart field %q is unreadable or larger than %d bytes", part.FormName(), maxUploadField)
	}
	switch part.FormName() {
	case "owner":
		up.Owner = string(v)
	case "project":
		up.Project = string(v)
	case "projectId":
		up.ProjectID = string(v)
	case "model", "slug":
		up.Model = string(v)
	case "name":
		up.Name = string(v)
	case "task":
		up.Task = string(v)
	}
	return nil
}

func (s *Server) storeUpload(part *multipart.Part, up *modelUpload) *apierr.Error {
	name := part.FileName()
	switch strings.ToLower(filepath.Ext(name)) {
	case ".onnx":
		up.Format = state.FormatONNX
	case ".pt":
		up.Format = state.FormatPyTorch
	default:
		return apierr.New(fasthttp.StatusUnsupportedMediaType, apierr.CodeUnsupportedMedia,
			"file %q is neither .onnx nor .pt: export the model to ONNX or upload its .pt checkpoint", name)
	}
	if s.backend.Blobs == nil {
		s.log.Error("BUG: model upload without a blob store")
		return apierr.Internal
	}
	hash, size, err := s.backend.Blobs.Put(io.LimitReader(part, s.cfg.MaxUpload+1))
	if err != nil {
		s.log.Error("store upload failed", "file", name, "error", err)
		return apierr.Internal
	}
	up.SHA256, up.Size = hash, size
	if size > s.cfg.MaxUpload {
		return apierr.New(fasthttp.StatusRequestEntityTooLarge, apierr.CodePayloadTooLarge,
			"model file is larger than %d bytes", s.cfg.MaxUpload)
	}
	if up.Model == "" {
		up.Model = Slugify(strings.TrimSuffix(filepath.Base(name), filepath.Ext(name)))
	}
	return nil
}

// targetProject resolves the project a new model goes into and checks
// that the caller may create models there.
func (s *Server) targetProject(ctx *fasthttp.RequestCtx, up modelUpload) (state.Project, *apierr.Error) {
	return s.cloneTargetProject(ctx, modelCloneRequest{Owner: up.Owner, Project: up.Project, ProjectID: up.ProjectID})
}

// createModel inspects an uploaded ONNX file, records the model and loads
// it for predicts. A .pt file is stored as is and needs an export.
func (s *Server) createModel(ctx *fasthttp.RequestCtx, up modelUpload) (state.Model, *apierr.Error) {
	p, e := s.targetProject(ctx, up)
	if e != nil {
		return state.Model{}, e
	}
	if up.Model == "" {
		up.Model = Slugify(up.Name)
	}
	if up.Name == "" {
		up.Name = up.Model
	}
	cmd := &state.CreateModel{ModelID: ids.New(), ProjectID: p.ID, Slug: up.Model, Name: up.Name, Task: up.Task,
		Format: up.Format, FileSHA256: up.SHA256, FileSize: up.Size, Status: state.ModelStatusNeedsExport, CreatedAt: s.now()}
	var loaded *predict.Model
	if up.Format == state.FormatONNX {
		var e *apierr.Error
		if loaded, e = s.inspect(up.SHA256); e != nil {
			return state.Model{}, e
		}
		info := loaded.Info()
		cmd.Task, cmd.Status, cmd.Metadata = string(info.Task), state.ModelStatusReady, ModelMetadata(loaded)
	}
	v, e := s.applyRecorded(ctx, cmd, p.WorkspaceID, "created", "model", cmd.ModelID, "Uploaded model "+p.Slug+"/"+cmd.Slug)
	if e != nil {
		if loaded != nil {
			loaded.Close()
		}
		return state.Model{}, e
	}
	m := v.(state.Model)
	if loaded != nil {
		s.AddModel(m.ID, loaded)
	}
	return m, nil
}

// inspect loads an uploaded ONNX file. A file the pipeline cannot use gets
// 422 with the loader's reason.
func (s *Server) inspect(hash string) (*predict.Model, *apierr.Error) {
	if s.backend.LoadModel == nil {
		s.log.Error("BUG: ONNX upload without a model loader")
		return nil, apierr.Internal
	}
	path := s.backend.Blobs.Path(hash)
	loaded, err := s.backend.LoadModel(path)
	if err != nil {
		// The loader names the stored file by its path on the server,
		// which the client has no use for and should not learn.
		reason := strings.ReplaceAll(err.Error(), "open model "+strconv.Quote(path), "open the file")
		reason = strings.ReplaceAll(reason, strconv.Quote(path), "the file")
		reason = strings.ReplaceAll(reason, path, "the file")
		if strings.Contains(reason, "protobuf parsing failed") {
			reason = "the file is not a valid ONNX model (ONNX Runtime could not parse it): upload the .onnx file that the export wrote"
		}
		return nil, apierr.New(fasthttp.StatusUnprocessableEntity, apierr.CodeUnprocessable,
			"the ONNX model cannot serve predictions: %s", reason)
	}
	return loaded, nil
}

// dropUnreferenced deletes a blob that no model record references, such
// as the file of a rejected upload.
func (s *Server) dropUnreferenced(hash string) {
	if hash == "" || s.backend.Blobs == nil || s.fsm.BlobReferenced(hash) {
		return
	}
	// A blob uploaded through another voter may not be here. The voters
	// that hold it delete it when they next sync their stores.
	if err := s.backend.Blobs.Delete(hash); err != nil && !errors.Is(err, blob.ErrNotFound) {
		s.log.Error("delete unreferenced blob failed", "sha256", hash, "error", err)
	}
}

// ModelMetadata returns what a model record keeps about a loaded model: class
// names as a JSON array, the input size and the output layout.
func ModelMetadata(m *predict.Model) map[string]string {
	info := m.Info()
	names, _ := json.Marshal(info.Names)
	h, w := m.InputSize()
	meta := map[string]string{"names": string(names), "layout": info.Layout.String()}
	if h > 0 {
		meta["imgsz"] = "[" + strconv.Itoa(h) + "," + strconv.Itoa(w) + "]"
	} else {
		meta["imgsz"] = "dynamic"
	}
	return meta
}
