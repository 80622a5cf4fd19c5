package embedded

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/yoloplane/yoloplane/controlplane/api"
	"github.com/yoloplane/yoloplane/controlplane/state"
	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/shared/ids"
)

// registerModels stores each --model file in the blob store, records it in
// the default project (reusing the record when a model of the same slug
// exists) and loads it. Models registered by earlier starts are loaded too,
// so a restart serves what it served before. A --model file that cannot be
// loaded stops the start with the reason.
func (s *Server) registerModels(ctx context.Context) error {
	ws, err := s.adminWorkspace()
	if err != nil {
		return err
	}
	project, ok := s.fsm.ProjectBySlug(ws.ID, DefaultProject)
	if !ok {
		return fmt.Errorf("default project missing in workspace %s", ws.Slug)
	}
	for _, path := range s.cfg.Models {
		if err := s.registerFile(ctx, project, path); err != nil {
			return err
		}
	}
	stored, err := s.api.AllModels(state.ModelFilter{WorkspaceID: ws.ID})
	if err != nil {
		return fmt.Errorf("list stored models: %w", err)
	}
	for _, m := range stored {
		if s.api.HasModel(m.ID) || m.Format != state.FormatONNX || m.Status != state.ModelStatusReady {
			continue
		}
		if err := s.loadStored(m); err != nil {
			// A model that loaded before but not now (a damaged blob, say)
			// must not keep the rest from serving.
			s.log.Error("load stored model failed", "model_id", m.ID, "error", err)
		}
	}
	return nil
}

func (s *Server) registerFile(ctx context.Context, project state.Project, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open model file: %w (check the --model path)", err)
	}
	hash, size, err := s.blobs.Put(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("store model file %s: %w", path, err)
	}
	started := time.Now()
	loaded, err := predict.Load(s.blobs.Path(hash), s.cfg.Predict)
	if err != nil {
		return fmt.Errorf("model %s: %w", path, err)
	}
	slug := slugFromStem(path)
	info := loaded.Info()
	meta := api.ModelMetadata(loaded)
	now := time.Now().UTC()

	existing, found := s.fsm.ModelBySlug(project.ID, slug)
	var id string
	switch {
	case found && existing.FileSHA256 == hash && existing.DeletedAt == nil:
		id = existing.ID
	case found && existing.DeletedAt == nil:
		id = existing.ID
		task, status := string(info.Task), state.ModelStatusReady
		_, err = s.node.Apply(ctx, &state.UpdateModel{
			ModelID: id, Task: &task, Status: &status, Metadata: meta,
			File:      &state.ModelFile{Format: state.FormatONNX, SHA256: hash, Size: size},
			UpdatedAt: now,
		})
	default:
		id = ids.New()
		_, err = s.node.Apply(ctx, &state.CreateModel{
			ModelID: id, ProjectID: project.ID, Slug: slug, Name: slug,
			Task: string(info.Task), Format: state.FormatONNX, FileSHA256: hash,
			FileSize: size, Status: state.ModelStatusReady, Metadata: meta, CreatedAt: now,
		})
	}
	if err != nil {
		loaded.Close()
		return fmt.Errorf("record model %s: %w", path, err)
	}
	s.api.AddModel(id, loaded)
	s.log.Info("model loaded", "model_id", id, "slug", slug, "task", info.Task,
		"classes", len(info.Names), "duration", time.Since(started).Round(time.Millisecond))
	return nil
}

func (s *Server) loadStored(m state.Model) error {
	if !s.blobs.Has(m.FileSHA256) {
		return fmt.Errorf("model file %s is missing from the blob store", m.FileSHA256)
	}
	loaded, err := predict.Load(s.blobs.Path(m.FileSHA256), s.cfg.Predict)
	if err != nil {
		return err
	}
	s.api.AddModel(m.ID, loaded)
	s.log.Info("model loaded", "model_id", m.ID, "slug", m.Slug, "task", m.Task)
	return nil
}
