package predictapi

import (
	"math"
	"strconv"

	"github.com/yoloplane/yoloplane/dataplane/accounting"
	"github.com/yoloplane/yoloplane/dataplane/postprocess"
	"github.com/yoloplane/yoloplane/dataplane/predict"
)

// Meta is the service information reported in the contract's metadata.
type Meta struct {
	ModelName string
	// AliveSeconds is the time since the service started.
	AliveSeconds float64
	// CallSeconds is the time the whole call took.
	CallSeconds float64
	Version     string
}

// numberWriter appends JSON numbers rounded to a fixed number of decimals.
type numberWriter struct {
	decimals  int
	normalize bool
	w, h      float64
}

func (n numberWriter) value(dst []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		// Postprocessing drops non-finite values; this guard keeps the JSON
		// valid if one ever slips through.
		return append(dst, '0')
	}
	if n.decimals < 0 {
		return strconv.AppendFloat(dst, v, 'f', -1, 32)
	}
	p := math.Pow10(n.decimals)
	r := math.Round(v*p) / p
	if r == 0 {
		r = 0 // avoid "-0"
	}
	return strconv.AppendFloat(dst, r, 'f', -1, 64)
}

func (n numberWriter) x(dst []byte, v float32) []byte {
	if n.normalize && n.w > 0 {
		return n.value(dst, float64(v)/n.w)
	}
	return n.value(dst, float64(v))
}

func (n numberWriter) y(dst []byte, v float32) []byte {
	if n.normalize && n.h > 0 {
		return n.value(dst, float64(v)/n.h)
	}
	return n.value(dst, float64(v))
}

func newNumberWriter(req *Request, res *predict.Result) numberWriter {
	return numberWriter{decimals: req.Decimals, normalize: req.Normalize, w: float64(res.Width), h: float64(res.Height)}
}

// AppendSeed appends the ID-route response:
// {"success":true,"predictions":[{"class":"person","confidence":0.9,"box":{...}}]}.
func AppendSeed(dst []byte, req *Request, res *predict.Result) []byte {
	nw := newNumberWriter(req, res)
	dst = append(dst, `{"success":true,"predictions":[`...)
	for i := range res.Detections {
		d := &res.Detections[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"class":`...)
		dst = strconv.AppendQuote(dst, d.Name)
		dst = append(dst, `,"confidence":`...)
		dst = nw.value(dst, float64(d.Confidence))
		dst = appendShapes(dst, nw, res.Task, d)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// AppendContract appends the owner-route PredictResponse with one image.
func AppendContract(dst []byte, req *Request, res *predict.Result, meta Meta) []byte {
	nw := newNumberWriter(req, res)
	dst = append(dst, `{"images":[{"shape":[`...)
	dst = strconv.AppendInt(dst, int64(res.Height), 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(res.Width), 10)
	dst = append(dst, `],"speed":{"preprocess":`...)
	dst = appendMillis(dst, res.Timings.Get(accounting.Decode)+res.Timings.Get(accounting.Preprocess))
	dst = append(dst, `,"inference":`...)
	dst = appendMillis(dst, res.Timings.Get(accounting.Inference))
	dst = append(dst, `,"postprocess":`...)
	dst = appendMillis(dst, res.Timings.Get(accounting.Postprocess))
	dst = append(dst, `},"results":[`...)
	for i := range res.Detections {
		d := &res.Detections[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"name":`...)
		dst = strconv.AppendQuote(dst, d.Name)
		dst = append(dst, `,"class":`...)
		dst = strconv.AppendInt(dst, int64(d.Class), 10)
		dst = append(dst, `,"confidence":`...)
		dst = nw.value(dst, clamp01(float64(d.Confidence)))
		dst = appendShapes(dst, nw, res.Task, d)
		dst = append(dst, '}')
	}
	dst = append(dst, `]}],"metadata":{"imageCount":1,"functionTimeAlive":`...)
	dst = strconv.AppendFloat(dst, meta.AliveSeconds, 'f', 3, 64)
	dst = append(dst, `,"functionTimeCall":`...)
	dst = strconv.AppendFloat(dst, meta.CallSeconds, 'f', 4, 64)
	if meta.ModelName != "" {
		dst = append(dst, `,"model":`...)
		dst = strconv.AppendQuote(dst, meta.ModelName)
	}
	dst = append(dst, `,"task":`...)
	dst = strconv.AppendQuote(dst, string(res.Task))
	dst = append(dst, `,"version":{"yoloplane":`...)
	dst = strconv.AppendQuote(dst, meta.Version)
	return append(dst, "}}}"...)
}

func clamp01(v float64) float64 {
	return math.Min(1, math.Max(0, v))
}

func appendMillis(dst []byte, d interface{ Seconds() float64 }) []byte {
	return strconv.AppendFloat(dst, d.Seconds()*1000, 'f', 3, 64)
}

// appendShapes appends the box, segments and keypoints a task produces.
// Classification results carry no box.
func appendShapes(dst []byte, nw numberWriter, task postprocess.Task, d *postprocess.Detection) []byte {
	if task == postprocess.TaskClassify {
		return dst
	}
	dst = appendBox(dst, nw, d)
	if len(d.Segment) > 0 {
		dst = append(dst, `,"segments":{"x":[`...)
		for i, p := range d.Segment {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = nw.x(dst, p[0])
		}
		dst = append(dst, `],"y":[`...)
		for i, p := range d.Segment {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = nw.y(dst, p[1])
		}
		dst = append(dst, "]}"...)
	}
	if len(d.Keypoints) > 0 {
		dst = appendKeypoints(dst, nw, d.Keypoints)
	}
	return dst
}

func appendBox(dst []byte, nw numberWriter, d *postprocess.Detection) []byte {
	if d.Corners != nil {
		dst = append(dst, `,"box":{`...)
		for i, c := range d.Corners {
			if i > 0 {
				dst = append(dst, ',')
			}
			n := strconv.Itoa(i + 1)
			dst = append(dst, `"x`+n+`":`...)
			dst = nw.x(dst, c[0])
			dst = append(dst, `,"y`+n+`":`...)
			dst = nw.y(dst, c[1])
		}
		return append(dst, '}')
	}
	dst = append(dst, `,"box":{"x1":`...)
	dst = nw.x(dst, d.Box[0])
	dst = append(dst, `,"y1":`...)
	dst = nw.y(dst, d.Box[1])
	dst = append(dst, `,"x2":`...)
	dst = nw.x(dst, d.Box[2])
	dst = append(dst, `,"y2":`...)
	dst = nw.y(dst, d.Box[3])
	return append(dst, '}')
}

func appendKeypoints(dst []byte, nw numberWriter, kpts [][3]float32) []byte {
	dst = append(dst, `,"keypoints":{"x":[`...)
	for i, k := range kpts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = nw.x(dst, k[0])
	}
	dst = append(dst, `],"y":[`...)
	for i, k := range kpts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = nw.y(dst, k[1])
	}
	dst = append(dst, `],"visible":[`...)
	for i, k := range kpts {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = nw.value(dst, float64(k[2]))
	}
	return append(dst, "]}"...)
}
