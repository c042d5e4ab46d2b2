package recipe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/warren-zk/warren/zk"
)

// Group is a group membership: each member is an ephemeral child of the
// group's node, named by the member, holding data of its choosing. A
// member that leaves, or whose session ends, disappears from the group;
// Watch follows the live set.
type Group struct {
	c          *zk.Conn
	path       string
	o          options
	parentMode zk.CreateMode
}

// Member is one member of a Group.
type Member struct {
	Name string
	Data []byte
}

// NewGroup returns the group at path. Options: WithACL.
func NewGroup(c *zk.Conn, path string, opts ...Option) *Group {
	return &Group{c: c, path: path, o: buildOptions(opts), parentMode: zk.ModePersistent}
}

// Membership is this process's membership of a Group, until Leave or the
// end of the session.
type Membership struct {
	c    *zk.Conn
	path string

	mu   sync.Mutex
	left bool
}

// Join adds a member called name with data (an ephemeral node, created
// with the group's node if missing). It fails with zk.ErrNodeExists if
// another session has a member of that name.
func (g *Group) Join(ctx context.Context, name string, data []byte) (*Membership, error) {
	p := join(g.path, name)
	for {
		_, err := g.c.Create(ctx, p, data, g.o.acl, zk.ModeEphemeral)
		switch {
		case err == nil:
			return &Membership{c: g.c, path: p}, nil
		case errors.Is(err, zk.ErrNoNode):
			if err = ensurePath(ctx, g.c, g.path, g.o.acl, g.parentMode); err == nil {
				continue
			}
		case isConnLoss(err):
			if err = sleep(ctx, minRetryPause); err == nil {
				continue // a repeat finds the node if it was created: see below
			}
		case errors.Is(err, zk.ErrNodeExists):
			// Ours, if an earlier attempt's reply was lost.
			_, st, serr := g.c.Exists(ctx, p)
			if serr == nil && st.EphemeralOwner == g.c.SessionID() {
				if _, serr = g.c.Set(ctx, p, data, -1); serr == nil {
					return &Membership{c: g.c, path: p}, nil
				}
			}
		}
		return nil, err
	}
}

// Path returns the member's node path.
func (m *Membership) Path() string { return m.path }

// Update replaces the member's data.
func (m *Membership) Update(ctx context.Context, data []byte) error {
	return retry(ctx, func() error {
		_, err := m.c.Set(ctx, m.path, data, -1)
		return err
	})
}

// Leave removes the member. Leaving twice returns ErrNotHeld.
func (m *Membership) Leave(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.left {
		return ErrNotHeld
	}
	if err := deleteNode(ctx, m.c, m.path); err != nil && !isDead(err) {
		return err
	}
	m.left = true
	return nil
}

// Members returns the current members, sorted by name.
func (g *Group) Members(ctx context.Context) ([]Member, error) {
	var ms []Member
	err := retry(ctx, func() error {
		var err error
		ms, _, err = g.members(ctx, false)
		return err
	})
	return ms, err
}

func (g *Group) members(ctx context.Context, watch bool) ([]Member, <-chan zk.Event, error) {
	var (
		names []string
		ch    <-chan zk.Event
		err   error
	)
	for {
		if watch {
			names, _, ch, err = g.c.ChildrenW(ctx, g.path)
		} else {
			names, err = g.c.Children(ctx, g.path)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, zk.ErrNoNode) {
			return nil, nil, err
		}
		if !watch {
			return nil, nil, nil
		}
		// No group yet: watch for its creation.
		ok, _, ech, err := g.c.ExistsW(ctx, g.path)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, ech, nil
		}
	}
	sort.Strings(names)
	out := make([]Member, 0, len(names))
	for _, n := range names {
		data, _, err := g.c.Get(ctx, join(g.path, n))
		if errors.Is(err, zk.ErrNoNode) {
			continue // left meanwhile (and the child watch fires)
		}
		if err != nil {
			return nil, nil, err
		}
		out = append(out, Member{Name: n, Data: data})
	}
	return out, ch, nil
}

// Watch follows the group's live set of members (sorted by name). A
// member's data is read when it joins; Membership.Update does not show
// until the set changes.
func (g *Group) Watch(ctx context.Context) (*Watch[[]Member], error) {
	fetch := func(ctx context.Context) ([]Member, <-chan zk.Event, error) { return g.members(ctx, true) }
	return startWatch(ctx, fetch, equalMembers)
}

func equalMembers(a, b []Member) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

// Instance is a service instance as Curator's ServiceDiscovery
// (curator-x-discovery) stores it, JSON in its node's data.
type Instance struct {
	Name                string          `json:"name"` // the service
	ID                  string          `json:"id"`   // unique within the service; the node's name
	Address             string          `json:"address"`
	Port                *int            `json:"port"`
	SSLPort             *int            `json:"sslPort"`
	Payload             json.RawMessage `json:"payload"` // any JSON, or null
	RegistrationTimeUTC int64           `json:"registrationTimeUTC"`
	ServiceType         string          `json:"serviceType"` // "DYNAMIC" (ephemeral), "STATIC", "PERMANENT"
	URISpec             json.RawMessage `json:"uriSpec"`
	Enabled             bool            `json:"enabled"`
}

// Port returns a pointer to p, for Instance.Port and SSLPort.
func Port(p int) *int { return &p }

// Discovery is service discovery in the layout of Curator's
// ServiceDiscovery: instance ID of service S is the ephemeral node
// <base>/S/ID, holding the Instance as JSON (address, port, payload…).
// Instances disappear when they unregister or their session ends; Watch
// follows a service's live instances.
type Discovery struct {
	c    *zk.Conn
	base string
	o    options
}

// NewDiscovery returns service discovery rooted at base (Curator's
// basePath, "/services" say). Options: WithACL, WithPersistentParents.
func NewDiscovery(c *zk.Conn, base string, opts ...Option) *Discovery {
	return &Discovery{c: c, base: base, o: buildOptions(opts)}
}

func (d *Discovery) group(service string) *Group {
	return &Group{c: d.c, path: join(d.base, service), o: d.o, parentMode: d.o.parentMode}
}

// Registration is an instance registered by this process.
type Registration struct {
	m    *Membership
	inst Instance
}

// Instance returns the registered instance (with the fields Register
// filled in).
func (r *Registration) Instance() Instance { return r.inst }

// Unregister removes the instance.
func (r *Registration) Unregister(ctx context.Context) error { return r.m.Leave(ctx) }

// Update replaces the instance's data (its ID and service stay).
func (r *Registration) Update(ctx context.Context, inst Instance) error {
	inst.Name, inst.ID = r.inst.Name, r.inst.ID
	data, err := json.Marshal(inst)
	if err != nil {
		return err
	}
	if err := r.m.Update(ctx, data); err != nil {
		return err
	}
	r.inst = inst
	return nil
}

// Register registers inst under its service inst.Name (which must be set).
// An empty ID becomes a random UUID, a zero RegistrationTimeUTC the current
// time, an empty ServiceType "DYNAMIC"; an instance is always registered
// Enabled.
func (d *Discovery) Register(ctx context.Context, inst Instance) (*Registration, error) {
	if inst.Name == "" {
		return nil, errors.New("recipe: Instance.Name (the service) is empty")
	}
	if inst.ID == "" {
		inst.ID = newUUID()
	}
	if inst.RegistrationTimeUTC == 0 {
		inst.RegistrationTimeUTC = time.Now().UnixMilli()
	}
	if inst.ServiceType == "" {
		inst.ServiceType = "DYNAMIC"
	}
	inst.Enabled = true
	data, err := json.Marshal(inst)
	if err != nil {
		return nil, err
	}
	m, err := d.group(inst.Name).Join(ctx, inst.ID, data)
	if err != nil {
		return nil, err
	}
	return &Registration{m: m, inst: inst}, nil
}

// Services returns the names of the services with a node under base.
func (d *Discovery) Services(ctx context.Context) ([]string, error) {
	var names []string
	err := retry(ctx, func() error {
		var err error
		names, err = d.c.Children(ctx, d.base)
		return err
	})
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	sort.Strings(names)
	return names, err
}

// Instances returns the registered instances of service, sorted by ID;
// nodes whose data is not an instance are skipped.
func (d *Discovery) Instances(ctx context.Context, service string) ([]Instance, error) {
	ms, err := d.group(service).Members(ctx)
	if err != nil {
		return nil, err
	}
	return decodeInstances(ms), nil
}

func decodeInstances(ms []Member) []Instance {
	out := make([]Instance, 0, len(ms))
	for _, m := range ms {
		var inst Instance
		if json.Unmarshal(m.Data, &inst) == nil {
			out = append(out, inst)
		}
	}
	return out
}

// Watch follows the live instances of service.
func (d *Discovery) Watch(ctx context.Context, service string) (*Watch[[]Instance], error) {
	g := d.group(service)
	fetch := func(ctx context.Context) ([]Instance, <-chan zk.Event, error) {
		ms, ch, err := g.members(ctx, true)
		return decodeInstances(ms), ch, err
	}
	equal := func(a, b []Instance) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			x, _ := json.Marshal(a[i])
			y, _ := json.Marshal(b[i])
			if !bytes.Equal(x, y) {
				return false
			}
		}
		return true
	}
	return startWatch(ctx, fetch, equal)
}
