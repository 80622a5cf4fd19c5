package gossip

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/yoloplane/yoloplane/regions"
	"github.com/yoloplane/yoloplane/shared/config"
)

// Config configures a Pool. Build one with DefaultConfig and override fields.
type Config struct {
	// NodeName identifies the node in the pool and must be unique in it.
	NodeName string
	// Region is the region ID of the pool. Nodes reject peers of any other
	// region.
	Region string
	// BindAddr is the host:port for gossip over both UDP and TCP. Port 0
	// picks a free port.
	BindAddr string
	// AdvertiseAddr is the host:port peers use to reach this node, when it
	// differs from BindAddr (behind NAT, or when binding 0.0.0.0). Empty
	// means the bound address. NOTE: with bind port 0, memberlist v0.6.0
	// advertises the port it bound and ignores the port given here.
	AdvertiseAddr string
	// HTTPAddr is the host:port where this node serves predict requests.
	HTTPAddr string
	// Capacity is the number of model sessions the node can serve at once.
	Capacity int
	// Join lists host:port addresses of existing pool members. Empty starts
	// a new pool.
	Join []string
	// Logger receives the pool's and memberlist's log lines. Nil discards
	// them.
	Logger *slog.Logger

	// Failure detector and gossip timings, as in memberlist.Config.
	ProbeInterval    time.Duration
	ProbeTimeout     time.Duration
	GossipInterval   time.Duration
	PushPullInterval time.Duration
	SuspicionMult    int
	TCPTimeout       time.Duration

	// MetaUpdateInterval is the minimum time between two metadata updates,
	// which bounds the gossip traffic of frequent SetLoad calls.
	MetaUpdateInterval time.Duration
	// UpdateTimeout bounds how long one metadata update waits for memberlist
	// to finish broadcasting it.
	UpdateTimeout time.Duration
	// EventBuffer is the capacity of each channel returned by Subscribe.
	EventBuffer int
}

// DefaultConfig returns a configuration for a node on a LAN. The timings are
// those of memberlist.DefaultLANConfig (memberlist v0.6.0), which detect a
// failed node in a few seconds.
func DefaultConfig() Config {
	lan := memberlist.DefaultLANConfig()
	name, err := os.Hostname()
	if err != nil {
		name = ""
	}
	return Config{
		NodeName: name,
		Region:   regions.DefaultRegion,
		// 7946 is memberlist's conventional port.
		BindAddr: "0.0.0.0:7946",
		Capacity: 1,

		ProbeInterval:    lan.ProbeInterval,
		ProbeTimeout:     lan.ProbeTimeout,
		GossipInterval:   lan.GossipInterval,
		PushPullInterval: lan.PushPullInterval,
		SuspicionMult:    lan.SuspicionMult,
		TCPTimeout:       lan.TCPTimeout,

		// Load is a routing hint, so one update a second is fresh enough
		// and keeps the pool's gossip small.
		MetaUpdateInterval: time.Second,
		UpdateTimeout:      2 * time.Second,
		// Enough to absorb a burst from a whole pool restarting.
		EventBuffer: 256,
	}
}

// Validate checks every field and that the node's metadata fits in
// memberlist.MetaMaxSize bytes with its largest possible numbers.
func (c Config) Validate() error {
	if c.NodeName == "" {
		return errors.New("missing node name: set NodeName to a name unique in the pool")
	}
	if _, ok := regions.Lookup(c.Region); !ok {
		return fmt.Errorf("invalid region %q: must be a region ID from the catalog, such as %s", c.Region, regions.DefaultRegion)
	}
	if err := checkHostPort("bind address", c.BindAddr); err != nil {
		return err
	}
	if c.AdvertiseAddr != "" {
		if err := checkHostPort("advertise address", c.AdvertiseAddr); err != nil {
			return err
		}
	}
	if err := checkHostPort("HTTP address", c.HTTPAddr); err != nil {
		return err
	}
	if c.Capacity < 1 {
		return fmt.Errorf("invalid capacity %d: must be at least 1", c.Capacity)
	}
	for _, addr := range c.Join {
		if err := checkHostPort("join address", addr); err != nil {
			return err
		}
	}
	if err := c.validateTimings(); err != nil {
		return err
	}
	return c.validateMetaSize()
}

func (c Config) validateTimings() error {
	if err := config.RequirePositive(
		config.Duration{Name: "probe interval", Value: c.ProbeInterval},
		config.Duration{Name: "probe timeout", Value: c.ProbeTimeout},
		config.Duration{Name: "gossip interval", Value: c.GossipInterval},
		config.Duration{Name: "push-pull interval", Value: c.PushPullInterval},
		config.Duration{Name: "TCP timeout", Value: c.TCPTimeout},
		config.Duration{Name: "metadata update interval", Value: c.MetaUpdateInterval},
		config.Duration{Name: "update timeout", Value: c.UpdateTimeout},
	); err != nil {
		return err
	}
	if c.ProbeTimeout >= c.ProbeInterval {
		return fmt.Errorf("invalid probe timeout %v: must be shorter than the probe interval %v", c.ProbeTimeout, c.ProbeInterval)
	}
	if c.SuspicionMult < 1 {
		return fmt.Errorf("invalid suspicion multiplier %d: must be at least 1", c.SuspicionMult)
	}
	if c.EventBuffer < 1 {
		return fmt.Errorf("invalid event buffer %d: must be at least 1", c.EventBuffer)
	}
	return nil
}

// validateMetaSize encodes the metadata with the longest numbers it can
// carry, so that no later SetLoad or SetModels can push it over the limit.
func (c Config) validateMetaSize() error {
	worst := nodeMeta{
		Region:        c.Region,
		HTTPAddr:      c.HTTPAddr,
		Capacity:      c.Capacity,
		Load:          -math.MaxFloat64 / 3, // 24 characters in JSON, the longest float64
		ModelsVersion: math.MaxUint64,
	}
	if _, err := encodeMeta(worst); err != nil {
		return fmt.Errorf("node metadata for region %q and HTTP address %q: %w", c.Region, c.HTTPAddr, err)
	}
	return nil
}

func checkHostPort(field, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid %s %q: must be host:port: %w", field, addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("invalid %s %q: port must be a number from 0 to 65535", field, addr)
	}
	return nil
}

// memberlistConfig translates c into memberlist's configuration, starting
// from its LAN defaults for the settings Config does not expose.
func (c Config) memberlistConfig() (*memberlist.Config, error) {
	mc := memberlist.DefaultLANConfig()
	mc.Name = c.NodeName

	host, port, err := splitHostPort(c.BindAddr)
	if err != nil {
		return nil, err
	}
	mc.BindAddr, mc.BindPort = host, port
	// memberlist advertises the bound port unless AdvertiseAddr sets another.
	mc.AdvertisePort = port
	if c.AdvertiseAddr != "" {
		host, port, err := splitHostPort(c.AdvertiseAddr)
		if err != nil {
			return nil, err
		}
		mc.AdvertiseAddr, mc.AdvertisePort = host, port
	}

	mc.ProbeInterval = c.ProbeInterval
	mc.ProbeTimeout = c.ProbeTimeout
	mc.GossipInterval = c.GossipInterval
	mc.PushPullInterval = c.PushPullInterval
	mc.SuspicionMult = c.SuspicionMult
	mc.TCPTimeout = c.TCPTimeout
	return mc, nil
}

func splitHostPort(addr string) (string, int, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("split %q: %w", addr, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("parse port of %q: %w", addr, err)
	}
	return host, int(port), nil
}
