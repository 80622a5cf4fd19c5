package state

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// deploymentLog returns a log with user ada (workspace id(2)), project 3,
// an ONNX model 4, a second ONNX model 5 and a .pt model 6.
func deploymentLog(t *testing.T) *log {
	l := newLog()
	l.must(t, createUser(1, "ada"))
	l.must(t, createProject(3, 2, "p"))
	l.must(t, createModel(4, 3, "m"))
	l.must(t, createModel(5, 3, "m2"))
	pt := createModel(6, 3, "m3")
	pt.Format, pt.FileSHA256, pt.Status = FormatPyTorch, "", ModelStatusNeedsExport
	l.must(t, pt)
	return l
}

func createDeployment(n, model int, slug string) *CreateDeployment {
	return &CreateDeployment{DeploymentID: id(n), WorkspaceID: id(2), Slug: slug, Name: "API", ModelID: id(model), Region: "us-central1", CreatedAt: at(n)}
}

func TestCreateDeployment(t *testing.T) {
	l := deploymentLog(t)
	d := l.must(t, createDeployment(10, 4, "api")).(Deployment)
	want := Deployment{
		ID: id(10), WorkspaceID: id(2), Slug: "api", Name: "API",
		Model:  DeploymentModel{ModelID: id(4), SHA256: hash(4), Size: 1234},
		Region: "us-central1", Status: DeploymentCreating, Desired: DesiredRunning, Revision: 1,
		CreatedAt: at(10), UpdatedAt: at(10),
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("created deployment (-want +got):\n%s", diff)
	}
	if got, ok := l.fsm.DeploymentBySlug(id(2), "api"); !ok || got.ID != id(10) {
		t.Errorf("DeploymentBySlug = %v, %v; want deployment %s", got.ID, ok, id(10))
	}
}

func TestCreateDeploymentRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *CreateDeployment)
		want error
	}{
		{"unknown region", func(c *CreateDeployment) { c.Region = "mars-north1" }, ErrInvalid},
		{"bad slug", func(c *CreateDeployment) { c.Slug = "Not A Slug" }, ErrInvalid},
		{"missing model", func(c *CreateDeployment) { c.ModelID = id(99) }, ErrNotFound},
		{"pt model", func(c *CreateDeployment) { c.ModelID = id(6) }, ErrInvalid},
		{"taken slug", func(c *CreateDeployment) { c.DeploymentID = id(11) }, ErrConflict},
		{"other workspace", func(c *CreateDeployment) { c.DeploymentID, c.Slug, c.WorkspaceID = id(12), "x", id(1) }, ErrNotFound},
	}
	l := deploymentLog(t)
	l.must(t, createDeployment(10, 4, "api"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := createDeployment(10, 4, "api")
			if tt.want != ErrConflict {
				c.DeploymentID, c.Slug = id(20), "other"
			}
			tt.edit(c)
			if _, err := l.apply(t, c); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDeploymentLifecycle(t *testing.T) {
	l := deploymentLog(t)
	l.must(t, createDeployment(10, 4, "api"))
	d := l.must(t, &PlaceDeployment{DeploymentID: id(10), Revision: 1, Nodes: []string{"n1"}, Status: DeploymentDeploying, UpdatedAt: at(11)}).(Deployment)
	if d.Status != DeploymentDeploying || !cmp.Equal(d.Nodes, []string{"n1"}) {
		t.Fatalf("after place: status %s nodes %v, want deploying on n1", d.Status, d.Nodes)
	}
	d = l.must(t, &SetDeploymentStatus{DeploymentID: id(10), Revision: 1, Status: DeploymentReady, UpdatedAt: at(12)}).(Deployment)
	if d.Status != DeploymentReady || d.DeployedAt == nil || !d.DeployedAt.Equal(at(12)) {
		t.Fatalf("after ready: status %s deployedAt %v, want ready at %v", d.Status, d.DeployedAt, at(12))
	}

	d = l.must(t, &ReplaceDeploymentModel{DeploymentID: id(10), ModelID: id(5), UpdatedAt: at(13)}).(Deployment)
	if d.Revision != 2 || d.Model.ModelID != id(5) || d.Previous == nil || d.Previous.ModelID != id(4) || d.Status != DeploymentDeploying {
		t.Fatalf("after replace: %+v, want revision 2 serving %s with previous %s", d, id(5), id(4))
	}
	if _, err := l.apply(t, &SetDeploymentStatus{DeploymentID: id(10), Revision: 1, Status: DeploymentReady, UpdatedAt: at(14)}); !errors.Is(err, ErrConflict) {
		t.Errorf("status for an old revision: err = %v, want ErrConflict", err)
	}
	d = l.must(t, &SetDeploymentStatus{DeploymentID: id(10), Revision: 2, Status: DeploymentReady, UpdatedAt: at(14)}).(Deployment)
	if d.Previous != nil {
		t.Errorf("previous model = %+v after the new one is ready, want nil", d.Previous)
	}

	d = l.must(t, &UpdateDeploymentDesired{DeploymentID: id(10), Desired: DesiredStopped, UpdatedAt: at(15)}).(Deployment)
	if d.Status != DeploymentStopped || len(d.Nodes) != 0 {
		t.Errorf("after stop: status %s nodes %v, want stopped on no node", d.Status, d.Nodes)
	}
	if _, err := l.apply(t, &PlaceDeployment{DeploymentID: id(10), Revision: 2, Nodes: []string{"n1"}, Status: DeploymentDeploying, UpdatedAt: at(16)}); !errors.Is(err, ErrConflict) {
		t.Errorf("placing a stopped deployment: err = %v, want ErrConflict", err)
	}
	d = l.must(t, &UpdateDeploymentDesired{DeploymentID: id(10), Desired: DesiredRunning, UpdatedAt: at(17)}).(Deployment)
	if d.Status != DeploymentDeploying || d.Desired != DesiredRunning {
		t.Errorf("after start: status %s desired %s, want deploying and running", d.Status, d.Desired)
	}

	l.must(t, &DeleteDeployment{DeploymentID: id(10)})
	if _, ok := l.fsm.DeploymentByID(id(10)); ok {
		t.Errorf("deployment still present after delete")
	}
	if _, ok := l.fsm.DeploymentBySlug(id(2), "api"); ok {
		t.Errorf("slug still taken after delete")
	}
	if _, err := l.apply(t, &DeleteDeployment{DeploymentID: id(10)}); !errors.Is(err, ErrNotFound) {
		t.Errorf("second delete: err = %v, want ErrNotFound", err)
	}
}

func TestDeploymentSnapshotRoundTrip(t *testing.T) {
	l := deploymentLog(t)
	l.must(t, createDeployment(10, 4, "api"))
	l.must(t, createDeployment(11, 5, "api2"))
	l.must(t, &PlaceDeployment{DeploymentID: id(10), Revision: 1, Nodes: []string{"n2", "n1"}, Status: DeploymentFailed, Message: "load failed", UpdatedAt: at(12)})
	l.must(t, &ReplaceDeploymentModel{DeploymentID: id(11), ModelID: id(4), Name: ptr("Renamed"), UpdatedAt: at(13)})
	data := snapshotBytes(t, l.fsm)
	f, err := restoreFrom(t, data)
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if diff := cmp.Diff(l.fsm.Deployments(""), f.Deployments("")); diff != "" {
		t.Errorf("deployments after restore (-want +got):\n%s", diff)
	}
	if _, ok := f.DeploymentBySlug(id(2), "api2"); !ok {
		t.Errorf("slug index missing after restore")
	}
	if string(snapshotBytes(t, f)) != string(data) {
		t.Errorf("snapshot after restore differs from the restored snapshot")
	}
}

func TestDeploymentApplyDeterministic(t *testing.T) {
	cmds := []Command{
		createDeployment(10, 4, "api"),
		&PlaceDeployment{DeploymentID: id(10), Revision: 1, Nodes: []string{"n1"}, Status: DeploymentDeploying, UpdatedAt: at(11)},
		&SetDeploymentStatus{DeploymentID: id(10), Revision: 1, Status: DeploymentReady, UpdatedAt: at(12)},
		&ReplaceDeploymentModel{DeploymentID: id(10), ModelID: id(6), UpdatedAt: at(13)},
		&UpdateDeploymentDesired{DeploymentID: id(10), Desired: "paused", UpdatedAt: at(14)},
	}
	a, b := deploymentLog(t), deploymentLog(t)
	for _, c := range cmds {
		ra, errA := a.apply(t, c)
		rb, errB := b.apply(t, c)
		if !cmp.Equal(ra, rb) || (errA == nil) != (errB == nil) {
			t.Fatalf("%T: results differ: %v, %v vs %v, %v", c, ra, errA, rb, errB)
		}
	}
	if string(snapshotBytes(t, a.fsm)) != string(snapshotBytes(t, b.fsm)) {
		t.Errorf("snapshots of two nodes that applied the same log differ")
	}
}

func TestFleetKeys(t *testing.T) {
	l := deploymentLog(t)
	l.must(t, &CreateAPIKey{KeyID: id(30), Name: "k", UserID: id(1), WorkspaceID: id(2), Hash: hash(30), Prefix: "ul_abcd", CreatedAt: at(30)})
	l.must(t, &CreateAPIKey{KeyID: id(31), Name: "k", UserID: id(1), WorkspaceID: id(2), Hash: hash(31), Prefix: "ul_abcd", CreatedAt: at(31)})
	l.must(t, &RevokeAPIKey{KeyID: id(31), RevokedAt: at(32)})
	keys := l.fsm.FleetKeys()
	if len(keys) != 1 || keys[0].Key.ID != id(30) {
		t.Fatalf("FleetKeys = %+v, want only the unrevoked key %s", keys, id(30))
	}
	if !cmp.Equal(keys[0].Workspaces, []string{id(2)}) || keys[0].Plan != PlanFree {
		t.Errorf("key workspaces %v plan %s, want [%s] free", keys[0].Workspaces, keys[0].Plan, id(2))
	}
}
