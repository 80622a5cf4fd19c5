//go:build cgo

package inference

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/yoloplane/yoloplane/dataplane/tensor"
)

var initState struct {
	once sync.Once
	err  error
}

// Init loads the ONNX Runtime shared library at libPath and creates the
// process-wide ONNX Runtime environment. Only the first call does work.
// Later calls return its result whatever path they pass, because a process
// cannot load a second ONNX Runtime next to the first.
func Init(libPath string) error {
	initState.once.Do(func() {
		initState.err = initialize(libPath)
	})
	return initState.err
}

func initialize(libPath string) error {
	if libPath == "" {
		return fmt.Errorf("load onnx runtime: empty library path; %s", libraryFix)
	}
	if ort.IsInitialized() {
		// Another package in this process loaded it already.
		return nil
	}
	ort.SetSharedLibraryPath(libPath)
	// ONNX Runtime writes its own log lines to stderr. Warnings there are
	// routine for quantized models, so only errors are let through.
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("load onnx runtime %q: %w", libPath, err)
	}
	return nil
}

// Session is one loaded model. Create it with Open or OpenBytes and release
// it with Close; an unclosed Session keeps its ONNX Runtime memory until the
// process exits.
type Session struct {
	// mu is held for reading by every run and for writing by Close, so
	// that Close never frees the model under a run in flight.
	mu  sync.RWMutex
	ort *ort.DynamicAdvancedSession

	// These fields are set by OpenBytes and never change.
	input    tensor.Info
	outputs  []tensor.Info
	metadata map[string]string
}

// Open loads the ONNX model file at modelPath. Init must have succeeded.
func Open(modelPath string, cfg Config) (*Session, error) {
	data, err := os.ReadFile(modelPath)
	if err != nil {
		return nil, fmt.Errorf("open model: %w", err)
	}
	s, err := OpenBytes(data, cfg)
	if err != nil {
		return nil, fmt.Errorf("open model %q: %w", modelPath, err)
	}
	return s, nil
}

// OpenBytes loads an ONNX model from memory. The model must have exactly
// one float32 or float16 tensor input, and float32 or float16 tensor
// outputs. ONNX Runtime copies what it needs, so model may be reused after
// the call returns.
func OpenBytes(model []byte, cfg Config) (*Session, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid config: %w", err)
	}
	if !ort.IsInitialized() {
		return nil, ErrNotInitialized
	}
	if len(model) == 0 {
		return nil, fmt.Errorf("%w: empty model", ErrUnsupportedModel)
	}

	// NOTE: reading the input and output descriptions loads the model into
	// a temporary session first, so OpenBytes parses the model twice:
	// onnxruntime_go v1.27.0 offers no way to read them from a session it
	// has already created.
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	input, err := describeInput(ins)
	if err != nil {
		return nil, err
	}
	outputs, err := describeOutputs(outs)
	if err != nil {
		return nil, err
	}

	sess, err := newORTSession(model, input, outputs, cfg)
	if err != nil {
		return nil, err
	}
	metadata, err := readMetadata(sess)
	if err != nil {
		sess.Destroy()
		return nil, err
	}
	return &Session{ort: sess, input: input, outputs: outputs, metadata: metadata}, nil
}

func newORTSession(model []byte, input tensor.Info, outputs []tensor.Info,
	cfg Config) (*ort.DynamicAdvancedSession, error) {
	opts, err := newSessionOptions(cfg)
	if err != nil {
		return nil, err
	}
	// ONNX Runtime copies the options into the session, so they can go.
	defer opts.Destroy()

	outNames := make([]string, len(outputs))
	for i, o := range outputs {
		outNames[i] = o.Name
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model,
		[]string{input.Name}, outNames, opts)
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	return sess, nil
}

func newSessionOptions(cfg Config) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("create session options: %w", err)
	}
	spinning := "0"
	if cfg.Spinning {
		spinning = "1"
	}
	steps := []struct {
		name string
		err  error
	}{
		{"intra-op threads", opts.SetIntraOpNumThreads(cfg.IntraOpThreads)},
		{"inter-op threads", opts.SetInterOpNumThreads(cfg.InterOpThreads)},
		{"graph optimization level", opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelEnableAll)},
		{"execution mode", opts.SetExecutionMode(ort.ExecutionModeSequential)},
		{"intra-op spinning", opts.AddSessionConfigEntry("session.intra_op.allow_spinning", spinning)},
	}
	for _, step := range steps {
		if step.err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("set session option %s: %w", step.name, step.err)
		}
	}
	return opts, nil
}

func describeInput(ins []ort.InputOutputInfo) (tensor.Info, error) {
	if len(ins) != 1 {
		return tensor.Info{}, fmt.Errorf("%w: model has %d inputs, must have exactly 1",
			ErrUnsupportedModel, len(ins))
	}
	info, err := describe(ins[0])
	if err != nil {
		return tensor.Info{}, fmt.Errorf("input %q: %w", ins[0].Name, err)
	}
	return info, nil
}

func describeOutputs(outs []ort.InputOutputInfo) ([]tensor.Info, error) {
	if len(outs) == 0 {
		return nil, fmt.Errorf("%w: model has no outputs", ErrUnsupportedModel)
	}
	infos := make([]tensor.Info, len(outs))
	for i, o := range outs {
		info, err := describe(o)
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", o.Name, err)
		}
		// onnxruntime_go v1.27.0 copies only one byte per element out of
		// an ONNX Runtime-allocated float16 tensor, so float16 outputs
		// must be allocated here, which needs their size before the run.
		if info.Type == tensor.Float16 && info.Dynamic() {
			return nil, fmt.Errorf("%w: output %q is float16 with dynamic shape %v; export the model with fixed output shapes or float32 outputs",
				ErrUnsupportedModel, o.Name, info.Shape)
		}
		infos[i] = info
	}
	return infos, nil
}

// describe converts ONNX Runtime's description of one input or output.
// DimNames stays nil: onnxruntime_go v1.27.0 does not expose symbolic
// dimension names.
func describe(io ort.InputOutputInfo) (tensor.Info, error) {
	if io.OrtValueType != ort.ONNXTypeTensor {
		return tensor.Info{}, fmt.Errorf("%w: value type %s, must be a tensor",
			ErrUnsupportedModel, io.OrtValueType)
	}
	info := tensor.Info{Name: io.Name, Shape: slices.Clone([]int64(io.Dimensions))}
	switch io.DataType {
	case ort.TensorElementDataTypeFloat:
		info.Type = tensor.Float32
	case ort.TensorElementDataTypeFloat16:
		info.Type = tensor.Float16
	default:
		return tensor.Info{}, fmt.Errorf("%w: element type %s, must be float32 or float16",
			ErrUnsupportedModel, io.DataType)
	}
	return info, nil
}

func readMetadata(sess *ort.DynamicAdvancedSession) (map[string]string, error) {
	md, err := sess.GetModelMetadata()
	if err != nil {
		return nil, fmt.Errorf("read model metadata: %w", err)
	}
	defer md.Destroy()

	keys, err := md.GetCustomMetadataMapKeys()
	if err != nil {
		return nil, fmt.Errorf("read model metadata keys: %w", err)
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		v, ok, err := md.LookupCustomMetadataMap(k)
		if err != nil {
			return nil, fmt.Errorf("read model metadata %q: %w", k, err)
		}
		if ok {
			out[k] = v
		}
	}
	return out, nil
}

// Inputs returns a description of the model's one input, as a slice so
// that it reads like Outputs. The caller may modify the result.
func (s *Session) Inputs() []tensor.Info {
	return []tensor.Info{cloneInfo(s.input)}
}

// Outputs returns descriptions of the model's outputs in the order Run
// returns them. The caller may modify the result.
func (s *Session) Outputs() []tensor.Info {
	out := make([]tensor.Info, len(s.outputs))
	for i, o := range s.outputs {
		out[i] = cloneInfo(o)
	}
	return out
}

func cloneInfo(i tensor.Info) tensor.Info {
	i.Shape = slices.Clone(i.Shape)
	i.DimNames = slices.Clone(i.DimNames)
	return i
}

// Metadata returns a copy of the model's custom metadata (ONNX
// metadata_props), such as Ultralytics' names, imgsz and task.
func (s *Session) Metadata() map[string]string {
	return maps.Clone(s.metadata)
}

// DefaultInputShape returns the input shape Warmup uses: the model's fixed
// axes, with dynamic ones set to batch 1, 3 channels and the metadata imgsz
// (640 when absent) for height and width.
func (s *Session) DefaultInputShape() []int64 {
	return defaultInputShape(s.input, s.metadata)
}

// Warmup runs the model once on a zero input of DefaultInputShape, so that
// ONNX Runtime allocates its buffers before the first real request.
func (s *Session) Warmup() error {
	shape := s.DefaultInputShape()
	n, err := checkInputShape(s.input, shape)
	if err != nil {
		return fmt.Errorf("warmup: %w", err)
	}
	if s.input.Type == tensor.Float16 {
		_, err = s.RunFloat16(make([]uint16, n), shape)
	} else {
		_, err = s.Run(make([]float32, n), shape)
	}
	if err != nil {
		return fmt.Errorf("warmup: %w", err)
	}
	return nil
}

// Close releases the model. It waits for runs in flight, and later calls to
// Run, RunFloat16 and Warmup return ErrClosed. Closing twice is harmless.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ort == nil {
		return nil
	}
	if err := s.ort.Destroy(); err != nil {
		s.ort = nil
		return fmt.Errorf("close session: %w", err)
	}
	s.ort = nil
	return nil
}

// float16Buffers recycles the float16 copies Run makes for float16 models.
var float16Buffers sync.Pool

// Run runs the model on one NCHW float32 input of shape inShape and returns
// the outputs in the order of Outputs, converted to float32. inShape must
// match the model's fixed axes and give the size of its dynamic ones, and
// len(input) must equal its element count. For a float16 model the input
// is converted first; RunFloat16 skips that step.
//
// ONNX Runtime reads input in place, so the caller may reuse the buffer
// once Run returns but must not change it during the call. The returned
// tensors are new Go slices that belong to the caller.
func (s *Session) Run(input []float32, inShape []int64) ([]tensor.Tensor, error) {
	n, err := checkInputShape(s.input, inShape)
	if err != nil {
		return nil, err
	}
	if len(input) != n {
		return nil, fmt.Errorf("%w: input has %d elements, shape %v needs %d",
			ErrInvalidInput, len(input), inShape, n)
	}
	if s.input.Type == tensor.Float16 {
		return s.runConverted(input, inShape)
	}

	in, err := ort.NewTensor(ort.Shape(inShape), input)
	if err != nil {
		return nil, fmt.Errorf("create input tensor: %w", err)
	}
	defer in.Destroy()
	return s.run(in)
}

func (s *Session) runConverted(input []float32, inShape []int64) ([]tensor.Tensor, error) {
	bufp, _ := float16Buffers.Get().(*[]uint16)
	if bufp == nil {
		bufp = new([]uint16)
	}
	defer float16Buffers.Put(bufp)
	if cap(*bufp) < len(input) {
		*bufp = make([]uint16, len(input))
	}
	buf := (*bufp)[:len(input)]
	Float32sToFloat16s(buf, input)
	return s.RunFloat16(buf, inShape)
}

// RunFloat16 is Run for a float16 model with the input already converted
// to IEEE 754 binary16 bits. It returns ErrInvalidInput for a float32
// model. The same buffer rules as for Run apply.
func (s *Session) RunFloat16(input []uint16, inShape []int64) ([]tensor.Tensor, error) {
	if s.input.Type != tensor.Float16 {
		return nil, fmt.Errorf("%w: model input %q is %s, not float16; use Run",
			ErrInvalidInput, s.input.Name, s.input.Type)
	}
	n, err := checkInputShape(s.input, inShape)
	if err != nil {
		return nil, err
	}
	if len(input) != n {
		return nil, fmt.Errorf("%w: input has %d elements, shape %v needs %d",
			ErrInvalidInput, len(input), inShape, n)
	}

	in, err := ort.NewCustomDataTensor(ort.Shape(inShape), uint16Bytes(input),
		ort.TensorElementDataTypeFloat16)
	if err != nil {
		return nil, fmt.Errorf("create input tensor: %w", err)
	}
	defer in.Destroy()
	return s.run(in)
}

// run executes the model on in. Outputs with a fixed shape are allocated
// here as Go slices that ONNX Runtime writes into, so their data is never
// copied. Outputs with dynamic axes are allocated by ONNX Runtime, and
// onnxruntime_go copies each one once into a Go slice.
func (s *Session) run(in ort.Value) ([]tensor.Tensor, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ort == nil {
		return nil, ErrClosed
	}

	values := make([]ort.Value, len(s.outputs))
	// Every tensor created here, by onnxruntime_go or below, is destroyed
	// on all paths. Their Go data slices outlive Destroy.
	defer destroyValues(values)
	buffers, err := s.allocateOutputs(values)
	if err != nil {
		return nil, err
	}

	// NOTE: when onnxruntime_go v1.27.0 fails to convert one ONNX
	// Runtime-allocated output, it leaks the outputs after that one. Only
	// outputs with dynamic axes take that path, and the conversion fails
	// only on ONNX Runtime API errors.
	if err := s.ort.Run([]ort.Value{in}, values); err != nil {
		return nil, fmt.Errorf("run model: %w", err)
	}
	out := make([]tensor.Tensor, len(values))
	for i, v := range values {
		t, err := toTensor(v, buffers[i])
		if err != nil {
			return nil, fmt.Errorf("output %q: %w", s.outputs[i].Name, err)
		}
		out[i] = t
	}
	return out, nil
}

// allocateOutputs creates a tensor for every output with a fixed shape and
// leaves the others nil for ONNX Runtime to allocate. It returns the float16
// buffers of float16 outputs at their index.
func (s *Session) allocateOutputs(values []ort.Value) ([][]uint16, error) {
	buffers := make([][]uint16, len(values))
	for i, info := range s.outputs {
		if info.Dynamic() {
			continue
		}
		shape := ort.Shape(slices.Clone(info.Shape))
		var err error
		if info.Type == tensor.Float16 {
			buffers[i] = make([]uint16, shape.FlattenedSize())
			values[i], err = ort.NewCustomDataTensor(shape, uint16Bytes(buffers[i]),
				ort.TensorElementDataTypeFloat16)
		} else {
			values[i], err = ort.NewTensor(shape, make([]float32, shape.FlattenedSize()))
		}
		if err != nil {
			return nil, fmt.Errorf("create output tensor %q: %w", info.Name, err)
		}
	}
	return buffers, nil
}

// toTensor reads one output value. f16 is the buffer allocateOutputs made
// for a float16 output, nil otherwise.
func toTensor(v ort.Value, f16 []uint16) (tensor.Tensor, error) {
	shape := []int64(v.GetShape())
	switch t := v.(type) {
	case *ort.Tensor[float32]:
		return tensor.Tensor{Shape: shape, Data: t.GetData()}, nil
	case *ort.CustomDataTensor:
		if f16 == nil || ort.TensorElementDataType(t.DataType()) != ort.TensorElementDataTypeFloat16 {
			return tensor.Tensor{}, fmt.Errorf("BUG: unexpected output element type %d",
				t.DataType())
		}
		data := make([]float32, len(f16))
		Float16sToFloat32s(data, f16)
		return tensor.Tensor{Shape: shape, Data: data}, nil
	}
	return tensor.Tensor{}, fmt.Errorf("BUG: unexpected output value %T", v)
}

func destroyValues(values []ort.Value) {
	for _, v := range values {
		if v != nil {
			v.Destroy()
		}
	}
}

// uint16Bytes views a uint16 slice as its bytes in memory order, which is
// the little-endian layout ONNX Runtime expects on the CPUs Go supports
// with cgo here (amd64, arm64).
func uint16Bytes(s []uint16) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 2*len(s))
}
