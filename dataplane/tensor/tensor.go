// Package tensor defines the plain tensor descriptions that the inference,
// vision and postprocess packages exchange. It has no cgo and no state.
package tensor

// ElementType names a tensor element type as ONNX spells it in lower case:
// "float32", "float16", "uint8", "int64" and so on.
type ElementType string

const (
	Float32 ElementType = "float32"
	Float16 ElementType = "float16"
)

// Info describes a model input or output. A dynamic axis has size -1 and its
// symbolic name, when the model gives one, in DimNames at the same index.
type Info struct {
	Name     string
	Type     ElementType
	Shape    []int64
	DimNames []string
}

// Dynamic reports whether any axis of the tensor has no fixed size.
func (i Info) Dynamic() bool {
	for _, d := range i.Shape {
		if d < 0 {
			return true
		}
	}
	return false
}

// Tensor is a dense row-major float32 tensor. Outputs stored as float16 are
// converted to float32 before they reach postprocessing.
type Tensor struct {
	Shape []int64
	Data  []float32
}

// Len returns the number of elements the shape describes.
func (t Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= int(d)
	}
	return n
}
