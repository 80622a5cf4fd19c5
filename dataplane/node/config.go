package node

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/yoloplane/yoloplane/dataplane/predict"
	"github.com/yoloplane/yoloplane/regions"
	"github.com/yoloplane/yoloplane/shared/config"
	"github.com/yoloplane/yoloplane/shared/wire"
)

// Config configures a Node. Build one with DefaultConfig and set at least
// NodeID, ControlPlane, Secret and DataDir.
type Config struct {
	// NodeID identifies the node to the control plane and in the gossip
	// pool. It must be unique in the fleet.
	NodeID string
	// Region is the region ID the node serves, from the regions catalog.
	Region string
	// Listen is the host:port of the public listener. Port 0 picks a free
	// port.
	Listen string
	// AdvertiseHTTP is the host:port the control plane and peers use to
	// reach Listen. Empty means the bound listen address.
	AdvertiseHTTP string
	// GossipBind is the host:port of the region's memberlist pool. Empty
	// disables gossip.
	GossipBind string
	// GossipJoin lists host:port gossip addresses of existing members.
	GossipJoin []string
	// ControlPlane is the base URL of a control-plane voter, such as
	// http://10.0.0.1:8080, or a comma-separated list of several voters'
	// URLs that the node fails over between.
	ControlPlane string
	// Secret is the cluster secret sent on internal routes and required on
	// the node's own internal route.
	Secret string
	// DataDir holds the persisted fleet state and the model blob store.
	DataDir string
	// Capacity is how many deployments the node keeps warm at once.
	Capacity int
	// Predict configures every model session the node loads.
	Predict predict.Config
	// MaxBody is the largest predict request body accepted, in bytes.
	MaxBody int64
	// PredictTimeout bounds how long a predict waits for an inference slot.
	PredictTimeout time.Duration
	// AllowURLSource lets predict requests name an http(s) URL as source.
	AllowURLSource bool
	// Version is reported in contract-shaped responses.
	Version string

	// HeartbeatInterval is the time between two heartbeats.
	HeartbeatInterval time.Duration
	// UsageInterval is the time between two usage batches.
	UsageInterval time.Duration
	// QuotaBatch is the number of requests one quota request wants leased.
	QuotaBatch int
	// OfflineLease is how long a node admits a key's predicts without a
	// lease after a quota request failed, so that an unreachable control
	// plane stops neither predicts nor their latency.
	OfflineLease time.Duration
	// BackoffMin and BackoffMax bound the wait between two failed polls of
	// the control plane. The wait doubles on each failure, with jitter.
	BackoffMin, BackoffMax time.Duration
	// RequestTimeout bounds control-plane requests other than the watch and
	// blob downloads.
	RequestTimeout time.Duration
	// BlobTimeout bounds one model file download.
	BlobTimeout time.Duration
	// FetchRetry is the wait before a node retries a model download that
	// failed.
	FetchRetry time.Duration
}

// DefaultConfig returns the configuration of `yoloplane dataplane` before
// flags apply.
func DefaultConfig() Config {
	return Config{
		Region: regions.DefaultRegion,
		Listen: "127.0.0.1:8090",
		// 7946 is memberlist's conventional port.
		GossipBind: "0.0.0.0:7946",
		// Four YOLO sessions of the common sizes fit in a few GiB of memory.
		Capacity: 4,
		Predict:  predict.DefaultConfig(),
		// 32 MiB holds any photo a phone takes, base64-encoded.
		MaxBody:        32 << 20,
		PredictTimeout: 30 * time.Second,
		// The control plane marks a node lost after three missed
		// heartbeats (its NodeTTL of 3 s), so 1 s detects a loss within
		// about 3 s. A heartbeat is one small POST, cheap at this rate.
		HeartbeatInterval: time.Second,
		UsageInterval:     5 * time.Second,
		// Ten requests per lease bound both the quota requests (one per ten
		// predicts of a key) and what a node can admit over a key's limit.
		QuotaBatch:     10,
		OfflineLease:   10 * time.Second,
		BackoffMin:     200 * time.Millisecond,
		BackoffMax:     10 * time.Second,
		RequestTimeout: 5 * time.Second,
		BlobTimeout:    10 * time.Minute,
		FetchRetry:     10 * time.Second,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.NodeID == "" {
		return errors.New("missing node ID: set a name unique in the fleet")
	}

	if _, ok := regions.Lookup(c.Region); !ok {
		return fmt.Errorf("invalid region %q: must be a region ID from the catalog, such as %s", c.Region, regions.DefaultRegion)
	}
	if err := checkHostPort("listen address", c.Listen); err != nil {
		return err
	}
	if c.AdvertiseHTTP != "" {
		if err := checkHostPort("advertised HTTP address", c.AdvertiseHTTP); err != nil {
			return err
		}
	}
	if c.GossipBind != "" {
		if err := checkHostPort("gossip address", c.GossipBind); err != nil {
			return err
		}
	}

	if err := checkControlPlaneURLs(c.ControlPlane); err != nil {
		return err
	}
	if c.Secret == "" {
		return errors.New("missing cluster secret: the control plane rejects nodes without it")
	}
	if c.DataDir == "" {
		return errors.New("missing data directory")
	}
	if c.Capacity < 1 {
		return fmt.Errorf("invalid capacity %d: must be at least 1", c.Capacity)
	}
	if c.MaxBody < 1 {
		return fmt.Errorf("invalid max body %d: must be positive", c.MaxBody)
	}
	if c.QuotaBatch < 1 {
		return fmt.Errorf("invalid quota batch %d: must be at least 1", c.QuotaBatch)
	}
	if err := c.validateDurations(); err != nil {
		return err
	}
	return c.Predict.Validate()
}

func (c Config) validateDurations() error {
	if err := config.RequirePositive(
		config.Duration{Name: "predict timeout", Value: c.PredictTimeout},
		config.Duration{Name: "heartbeat interval", Value: c.HeartbeatInterval},
		config.Duration{Name: "usage interval", Value: c.UsageInterval},
		config.Duration{Name: "offline lease", Value: c.OfflineLease},
		config.Duration{Name: "minimum backoff", Value: c.BackoffMin},
		config.Duration{Name: "maximum backoff", Value: c.BackoffMax},
		config.Duration{Name: "request timeout", Value: c.RequestTimeout},
		config.Duration{Name: "blob timeout", Value: c.BlobTimeout},
		config.Duration{Name: "fetch retry", Value: c.FetchRetry},
	); err != nil {
		return err
	}
	if c.BackoffMax < c.BackoffMin {
		return fmt.Errorf("invalid maximum backoff %v: must be at least the minimum %v", c.BackoffMax, c.BackoffMin)
	}
	return nil
}

// watchTimeout bounds one watch request: the control plane's wait plus
// time for the response to arrive.
func (c Config) watchTimeout() time.Duration {
	return wire.WatchWaitSeconds*time.Second + c.RequestTimeout
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

func checkControlPlaneURLs(list string) error {
	urls := splitControlPlanes(list)
	if len(urls) == 0 {
		return errors.New("missing control-plane URL, such as http://10.0.0.1:8080")
	}
	for _, u := range urls {
		if err := checkControlPlaneURL(u); err != nil {
			return err
		}
	}
	return nil
}

func checkControlPlaneURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid control-plane URL %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("invalid control-plane URL %q: must be http(s)://host:port", raw)
	}
	return nil
}
