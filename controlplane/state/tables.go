package state

// tables holds every record and index. Apply functions write to it under
// the FSM's write lock; Restore builds a fresh one and swaps it in.
type tables struct {
	users           map[string]User
	userByName      map[string]string // username → user ID
	userByEmail     map[string]string // lowercased email → user ID
	workspaces      map[string]Workspace
	workspaceBySlug map[string]string            // slug → workspace ID
	members         map[string]map[string]Member // workspace ID → user ID → member
	memberOf        map[string]map[string]bool   // user ID → workspace IDs
	keys            map[string]APIKey
	keyByHash       map[string]string // hash → key ID
	keysOfUser      map[string]map[string]bool
	projects        map[string]Project
	projectBySlug   map[string]string // workspace ID + "/" + slug → live project ID
	projectOrder    indexSet          // by workspace ID
	models          map[string]Model
	modelBySlug     map[string]string // project ID + "/" + slug → live model ID
	modelsOfProject indexSet          // by project ID
	modelsOfWS      indexSet          // by workspace ID
	modelOrder      orderIndex        // every model
	cluster         clusterTables
	events          map[string]Event
	eventsOfWS      indexSet // by workspace ID
	deployments     deploymentTables
	account         accountTables
}

func newTables() *tables {
	return &tables{
		users:           map[string]User{},
		userByName:      map[string]string{},
		userByEmail:     map[string]string{},
		workspaces:      map[string]Workspace{},
		workspaceBySlug: map[string]string{},
		members:         map[string]map[string]Member{},
		memberOf:        map[string]map[string]bool{},
		keys:            map[string]APIKey{},
		keyByHash:       map[string]string{},
		keysOfUser:      map[string]map[string]bool{},
		projects:        map[string]Project{},
		projectBySlug:   map[string]string{},
		projectOrder:    indexSet{},
		models:          map[string]Model{},
		modelBySlug:     map[string]string{},
		modelsOfProject: indexSet{},
		modelsOfWS:      indexSet{},
		modelOrder:      newOrderIndex(),
		cluster:         newClusterTables(),
		events:          map[string]Event{},
		eventsOfWS:      indexSet{},
		deployments:     newDeploymentTables(),
		account:         newAccountTables(),
	}
}

func childKey(parentID, slug string) string { return parentID + "/" + slug }

// putUser stores u and indexes its name and email. Callers check for
// conflicts first.
func (t *tables) putUser(u User) {
	t.users[u.ID] = u
	t.userByName[u.Username] = u.ID
	if u.Email != "" {
		t.userByEmail[normalizeEmail(u.Email)] = u.ID
	}
}

func (t *tables) putWorkspace(w Workspace) {
	t.workspaces[w.ID] = w
	t.workspaceBySlug[w.Slug] = w.ID
}

func (t *tables) putMember(m Member) {
	if t.members[m.WorkspaceID] == nil {
		t.members[m.WorkspaceID] = map[string]Member{}
	}
	t.members[m.WorkspaceID][m.UserID] = m
	if t.memberOf[m.UserID] == nil {
		t.memberOf[m.UserID] = map[string]bool{}
	}
	t.memberOf[m.UserID][m.WorkspaceID] = true
}

func (t *tables) putKey(k APIKey) {
	t.keys[k.ID] = k
	t.keyByHash[k.Hash] = k.ID
	if t.keysOfUser[k.UserID] == nil {
		t.keysOfUser[k.UserID] = map[string]bool{}
	}
	t.keysOfUser[k.UserID][k.ID] = true
}

// putProject stores p, replacing any earlier version, and keeps the slug
// index pointing at live projects only.
func (t *tables) putProject(p Project) {
	if old, ok := t.projects[p.ID]; ok && old.DeletedAt == nil {
		delete(t.projectBySlug, childKey(old.WorkspaceID, old.Slug))
	}
	t.projects[p.ID] = p
	if p.DeletedAt == nil {
		t.projectBySlug[childKey(p.WorkspaceID, p.Slug)] = p.ID
	}
	t.projectOrder.insert(p.WorkspaceID, orderKey{p.CreatedAt, p.ID})
}

func (t *tables) removeProject(p Project) {
	if p.DeletedAt == nil {
		delete(t.projectBySlug, childKey(p.WorkspaceID, p.Slug))
	}
	delete(t.projects, p.ID)
	t.projectOrder.remove(p.WorkspaceID, orderKey{p.CreatedAt, p.ID})
}

// putModel stores m like putProject stores projects.
func (t *tables) putModel(m Model) {
	if old, ok := t.models[m.ID]; ok && old.DeletedAt == nil {
		delete(t.modelBySlug, childKey(old.ProjectID, old.Slug))
	}
	t.models[m.ID] = m
	if m.DeletedAt == nil {
		t.modelBySlug[childKey(m.ProjectID, m.Slug)] = m.ID
	}
	k := orderKey{m.CreatedAt, m.ID}
	t.modelsOfProject.insert(m.ProjectID, k)
	t.modelsOfWS.insert(m.WorkspaceID, k)
	t.modelOrder.insert(k)
}

func (t *tables) removeModel(m Model) {
	if m.DeletedAt == nil {
		delete(t.modelBySlug, childKey(m.ProjectID, m.Slug))
	}
	delete(t.models, m.ID)
	k := orderKey{m.CreatedAt, m.ID}
	t.modelsOfProject.remove(m.ProjectID, k)
	t.modelsOfWS.remove(m.WorkspaceID, k)
	t.modelOrder.remove(k)
}

// modelsIn returns the IDs of the models of a project in list order.
func (t *tables) modelsIn(projectID string) []string {
	x, ok := t.modelsOfProject[projectID]
	if !ok {
		return nil
	}
	var out []string
	x.ascendAfter(nil, func(k orderKey) bool {
		out = append(out, k.id)
		return true
	})
	return out
}

func (t *tables) putEvent(e Event) {
	t.events[e.ID] = e
	t.eventsOfWS.insert(e.WorkspaceID, orderKey{e.CreatedAt, e.ID})
}

// eventsIn returns the IDs of the events of a workspace in list order.
func (t *tables) eventsIn(workspaceID string) []string {
	x, ok := t.eventsOfWS[workspaceID]
	if !ok {
		return nil
	}
	var out []string
	x.ascendAfter(nil, func(k orderKey) bool {
		out = append(out, k.id)
		return true
	})
	return out
}
