package inference

import (
	"fmt"
	"runtime"
)

// maxThreads bounds thread counts so that a typo cannot start thousands of
// ONNX Runtime threads.
const maxThreads = 1024

// Config sets the ONNX Runtime session options that callers may tune.
// Graph optimization (all levels) and sequential execution are fixed: YOLO
// graphs are one chain of layers, so parallel execution of independent
// nodes gains nothing and costs a second thread pool.
type Config struct {
	// IntraOpThreads is the size of the session's thread pool, which splits
	// the work of one operator (a convolution, a matrix product).
	IntraOpThreads int
	// InterOpThreads is the number of threads that run independent nodes
	// in parallel. It has effect only in parallel execution mode, which
	// this package does not use, so 1 is the only useful value today.
	InterOpThreads int
	// Spinning lets idle intra-op threads busy-wait for the next piece of
	// work instead of sleeping. It lowers the latency of a lone request,
	// but it burns the CPU that concurrent requests need. With 2 intra-op
	// threads on a shared 2-CPU VM, BenchmarkRunYOLOv8n640Threads ran one
	// caller about 20% faster with spinning and two concurrent callers
	// about twice as slow per run. These are estimates from a noisy VM.
	Spinning bool
}

// DefaultConfig returns intra-op threads equal to runtime.NumCPU(), one
// inter-op thread and no spinning, because a server expects concurrent
// requests. NumCPU counts the CPUs this process may run on (its
// affinity mask), which ONNX Runtime's own default, the machine's physical
// core count, ignores, so a pinned process would otherwise oversubscribe
// its cores. Using all of them gives one request the lowest latency;
// concurrent requests share the pool.
func DefaultConfig() Config {
	return Config{
		IntraOpThreads: runtime.NumCPU(),
		InterOpThreads: 1,
	}
}

// Validate reports the first field outside its bounds.
func (c Config) Validate() error {
	if c.IntraOpThreads < 1 || c.IntraOpThreads > maxThreads {
		return fmt.Errorf("intra-op threads %d: must be between 1 and %d",
			c.IntraOpThreads, maxThreads)
	}
	if c.InterOpThreads < 1 || c.InterOpThreads > maxThreads {
		return fmt.Errorf("inter-op threads %d: must be between 1 and %d",
			c.InterOpThreads, maxThreads)
	}
	return nil
}
