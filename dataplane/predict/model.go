// Package predict runs the predict pipeline for loaded models: decode, orient,
// letterbox, session run and postprocess, each stage timed.
//
// A Model wraps one ONNX Runtime session. Its methods are safe for concurrent
// use: every call gets its own input buffer and output tensors, and a bounded
// number of calls run the session at once while the rest wait in a queue whose
// wait time is measured. The package holds no HTTP code; the predict handlers
// turn a Result into a response.
package predict

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"github.com/yoloplane/yoloplane/dataplane/accounting"
	"github.com/yoloplane/yoloplane/dataplane/inference"
	"github.com/yoloplane/yoloplane/dataplane/postprocess"
	"github.com/yoloplane/yoloplane/dataplane/tensor"
	"github.com/yoloplane/yoloplane/dataplane/vision"
)

// Config sets how a model is loaded and run.
type Config struct {
	// Session configures the ONNX Runtime session (thread counts).
	Session inference.Config
	// Slots is how many calls may run the model at the same time. A call
	// that runs alone uses a session whose threads span every core; each
	// overlapping call gets a one-thread session of its own. More slots
	// than cores only adds contention.
	Slots int
	// MaxPixels bounds the decoded image size, checked from the header
	// before any pixel buffer is allocated.
	MaxPixels int64
}

// DefaultConfig returns the configuration used by `yoloplane serve`: one
// slot per core, so a lone request runs on every core and concurrent ones
// run side by side on one core each.
func DefaultConfig() Config {
	return Config{
		Session:   inference.DefaultConfig(),
		Slots:     runtime.NumCPU(),
		MaxPixels: vision.DefaultMaxPixels,
	}
}

// Validate reports the first invalid field.
func (c Config) Validate() error {
	if c.Slots < 1 || c.Slots > 4*runtime.NumCPU() {
		return fmt.Errorf("predict slots %d out of range [1, %d]", c.Slots, 4*runtime.NumCPU())
	}
	if c.MaxPixels < 1 {
		return fmt.Errorf("max pixels %d must be positive", c.MaxPixels)
	}
	return c.Session.Validate()
}

// Params are the per-request predict options after validation.
type Params struct {
	Conf   float32
	IoU    float32
	ImgSz  int // 0 uses the model's own size; only dynamic-axis models change shape
	MaxDet int
}

// DefaultParams returns Ultralytics' predict defaults.
func DefaultParams() Params {
	return Params{Conf: 0.25, IoU: 0.7, MaxDet: 300}
}

// Result is the outcome of one predict.
type Result struct {
	Task       postprocess.Task
	Width      int // original image width after EXIF orientation
	Height     int
	Detections []postprocess.Detection
	Timings    accounting.Timings
}

// Model is a loaded, warmed model ready for predicts.
type Model struct {
	path string
	// session is the wide session, used for metadata and shapes.
	session  *inference.Session
	sessions *sessionSet
	info     postprocess.Model
	input    tensor.Info
	cfg      Config

	// fixedW and fixedH are the model's input size, or 0 for dynamic axes.
	fixedW, fixedH int
	// defaultSize is the square input size used for dynamic models when a
	// request gives no imgsz: the metadata imgsz, else 640.
	defaultSize int
	stride      int

	bufs sync.Pool
}

// ErrModelInput reports a model whose input is not a single NCHW image.
var ErrModelInput = errors.New("unsupported model input")

// Load opens the model file, detects its output layout and runs one warm-up
// inference. A model whose layout is not an Ultralytics YOLO layout is
// refused here, not on its first predict.
func Load(path string, cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	set, err := openSessions(path, cfg)
	if err != nil {
		return nil, err
	}
	m, err := newModel(path, set, cfg)
	if err != nil {
		set.close()
		return nil, fmt.Errorf("load model %q: %w", path, err)
	}
	if err := m.warmup(); err != nil {
		set.close()
		return nil, fmt.Errorf("warm up model %q: %w", path, err)
	}
	return m, nil
}

func newModel(path string, set *sessionSet, cfg Config) (*Model, error) {
	sess := set.wide
	inputs := sess.Inputs()
	if len(inputs) != 1 || len(inputs[0].Shape) != 4 || inputs[0].Shape[1] != 3 {
		return nil, fmt.Errorf("%w: need one input of shape [1, 3, height, width], got %v", ErrModelInput, describeInputs(inputs))
	}
	in := inputs[0]
	if in.Type != tensor.Float32 && in.Type != tensor.Float16 {
		return nil, fmt.Errorf("%w: input element type %s, need float32 or float16", ErrModelInput, in.Type)
	}
	info, err := postprocess.Inspect(sess.Metadata(), inputs, sess.Outputs())
	if err != nil {
		return nil, err
	}
	m := &Model{
		path:     path,
		session:  sess,
		sessions: set,
		info:     info,
		input:    in,
		cfg:      cfg,
		stride:   max(info.Stride, 32),
	}
	if in.Shape[2] > 0 && in.Shape[3] > 0 {
		m.fixedH, m.fixedW = int(in.Shape[2]), int(in.Shape[3])
	}
	m.defaultSize = 640
	if info.ImgSz[0] > 0 {
		m.defaultSize = max(info.ImgSz[0], info.ImgSz[1])
	}
	return m, nil
}

func describeInputs(inputs []tensor.Info) []string {
	out := make([]string, len(inputs))
	for i, in := range inputs {
		out[i] = fmt.Sprintf("%s%v %s", in.Name, in.Shape, in.Type)
	}
	return out
}

// Info returns the model's detected task, layout and class names.
func (m *Model) Info() postprocess.Model { return m.info }

// InputSize returns the model's fixed input height and width, or zeros when
// the axes are dynamic.
func (m *Model) InputSize() (h, w int) { return m.fixedH, m.fixedW }

// Close releases the sessions. Calls in flight must have returned.
func (m *Model) Close() error { return m.sessions.close() }

func (m *Model) warmup() error {
	h, w := m.targetSize(0, m.defaultSize, m.defaultSize)
	buf := make([]float32, 3*h*w)
	for _, sess := range m.sessions.all() {
		if _, err := m.run(sess, buf, nil, h, w); err != nil {
			return err
		}
	}
	return nil
}

// targetSize returns the model input height and width for an image of
// srcW×srcH. Fixed models use their own size. Dynamic models use imgsz (or the
// default) rounded up to the stride, then shrink the padded axis to the
// smallest stride multiple that holds the resized image, as Ultralytics'
// letterbox does with auto=True for dynamic exports.
func (m *Model) targetSize(imgsz, srcW, srcH int) (h, w int) {
	if m.fixedW > 0 {
		return m.fixedH, m.fixedW
	}
	if imgsz <= 0 {
		imgsz = m.defaultSize
	}
	s := m.stride
	size := (imgsz + s - 1) / s * s
	if m.info.Task == postprocess.TaskClassify {
		return size, size
	}
	lb := vision.ComputeLetterbox(srcW, srcH, size, size)
	w = (lb.NewW + s - 1) / s * s
	h = (lb.NewH + s - 1) / s * s
	return h, w
}

// decodeSlots bounds the decodes running at once in the process. Decoding
// is CPU-bound, so more decodes than cores add no throughput, and each one
// holds a full-resolution image (up to 3 bytes per pixel of MaxPixels, plus
// the decoder's own buffers) until the letterbox has run.
var decodeSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

// Predict decodes an encoded image and runs the pipeline on it.
func (m *Model) Predict(ctx context.Context, data []byte, p Params) (*Result, error) {
	start := time.Now()
	select {
	case decodeSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to decode: %w", ctx.Err())
	}
	img, _, err := vision.Decode(data, vision.DecodeOptions{MaxPixels: m.cfg.MaxPixels})
	if err != nil {
		<-decodeSlots
		return nil, err
	}
	decoded := time.Now()
	res, err := m.predictImage(ctx, img, p, func() { <-decodeSlots })
	if err != nil {
		return nil, err
	}
	res.Timings.Set(accounting.Decode, decoded.Sub(start))
	res.Timings.Total = time.Since(start)
	return res, nil
}

// PredictImage runs preprocess, session and postprocess on a decoded image.
func (m *Model) PredictImage(ctx context.Context, img *vision.Image, p Params) (*Result, error) {
	return m.predictImage(ctx, img, p, func() {})
}

// predictImage calls preprocessed once the full-resolution image is no
// longer needed, which releases the decode slot.
func (m *Model) predictImage(ctx context.Context, img *vision.Image, p Params, preprocessed func()) (*Result, error) {
	res := &Result{Task: m.info.Task, Width: img.W, Height: img.H}
	t0 := time.Now()

	h, w := m.targetSize(p.ImgSz, img.W, img.H)
	buf := m.getBuffer(3 * h * w)
	defer m.bufs.Put(buf)
	frame := m.preprocess(img, h, w, *buf)
	preprocessed()
	t1 := time.Now()
	res.Timings.Set(accounting.Preprocess, t1.Sub(t0))

	sess, err := m.sessions.acquire(ctx)
	if err != nil {
		return nil, err
	}
	t2 := time.Now()
	res.Timings.Set(accounting.Queue, t2.Sub(t1))
	outputs, err := m.run(sess, *buf, nil, h, w)
	m.sessions.release(sess)
	if err != nil {
		return nil, fmt.Errorf("run model: %w", err)
	}
	t3 := time.Now()
	res.Timings.Set(accounting.Inference, t3.Sub(t2))

	dets, err := m.info.Postprocess(outputs, frame, postprocess.Params{
		Conf: p.Conf, IoU: p.IoU, MaxDet: p.MaxDet, TopK: 5,
	})
	if err != nil {
		return nil, fmt.Errorf("postprocess: %w", err)
	}
	res.Detections = dets
	res.Timings.Set(accounting.Postprocess, time.Since(t3))
	res.Timings.Total = time.Since(t0)
	return res, nil
}

// preprocess fills buf with the model input and returns the frame that maps
// model coordinates back to the image. The letterbox geometry computed here
// is the one postprocessing uses; it is never recomputed.
func (m *Model) preprocess(img *vision.Image, h, w int, buf []float32) postprocess.Frame {
	if m.info.Task == postprocess.TaskClassify {
		vision.ClassifyCHW(img, w, buf)
		return postprocess.Frame{OrigW: img.W, OrigH: img.H, InW: w, InH: h, Scale: 1}
	}
	lb := vision.LetterboxCHW(img, w, h, buf)
	return postprocess.Frame{
		OrigW: img.W, OrigH: img.H, InW: w, InH: h,
		Scale: lb.Scale, PadX: float64(lb.Left), PadY: float64(lb.Top),
	}
}

func (m *Model) getBuffer(n int) *[]float32 {
	if b, ok := m.bufs.Get().(*[]float32); ok && cap(*b) >= n {
		*b = (*b)[:n]
		return b
	}
	b := make([]float32, n)
	return &b
}

// run feeds one NCHW image of h×w to sess, converting to float16 when the
// model's input is float16.
func (m *Model) run(sess *inference.Session, buf []float32, half []uint16, h, w int) ([]tensor.Tensor, error) {
	shape := []int64{1, 3, int64(h), int64(w)}
	if m.input.Type == tensor.Float16 {
		if cap(half) < len(buf) {
			half = make([]uint16, len(buf))
		}
		half = half[:len(buf)]
		inference.Float32sToFloat16s(half, buf)
		return sess.RunFloat16(half, shape)
	}
	return sess.Run(buf, shape)
}

// RawRunner returns a function that runs the model once on a prepared input
// at the model's default size, with no decode, preprocess or postprocess,
// choosing sessions as predicts do. It measures the most this machine can
// do with the model. Concurrent calls are safe.
func (m *Model) RawRunner() func() error {
	h, w := m.targetSize(0, m.defaultSize, m.defaultSize)
	buf := make([]float32, 3*h*w)
	for i := range buf {
		buf[i] = float32(math.Mod(float64(i)*0.618, 1))
	}
	return func() error {
		sess, err := m.sessions.acquire(context.Background())
		if err != nil {
			return err
		}
		defer m.sessions.release(sess)
		_, err = m.run(sess, buf, nil, h, w)
		return err
	}
}
