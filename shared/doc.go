// Package shared holds code that both the control plane and the data plane
// use. It has no state of its own; its subpackages are safe for concurrent use.
package shared
