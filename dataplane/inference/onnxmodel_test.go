//go:build cgo

package inference

import "encoding/binary"

// This file writes tiny ONNX models in protobuf wire format, so that tests
// can cover element types and shapes no fixture model has.

// ONNX TensorProto.DataType values.
const (
	onnxFloat   = 1
	onnxInt64   = 7
	onnxFloat16 = 10
)

type protoWriter []byte

func (p protoWriter) varint(field int, v uint64) protoWriter {
	p = binary.AppendUvarint(p, uint64(field)<<3)
	return binary.AppendUvarint(p, v)
}

func (p protoWriter) bytes(field int, b []byte) protoWriter {
	p = binary.AppendUvarint(p, uint64(field)<<3|2)
	p = binary.AppendUvarint(p, uint64(len(b)))
	return append(p, b...)
}

func (p protoWriter) str(field int, s string) protoWriter {
	return p.bytes(field, []byte(s))
}

// valueInfo describes a graph input or output. A dimension is an int64 size
// or a string naming a dynamic axis.
type valueInfo struct {
	name     string
	elemType int
	dims     []any
}

func (v valueInfo) encode() []byte {
	var shape protoWriter
	for _, d := range v.dims {
		var dim protoWriter
		switch d := d.(type) {
		case int:
			dim = dim.varint(1, uint64(d))
		case string:
			dim = dim.str(2, d)
		}
		shape = shape.bytes(1, dim)
	}
	tensorType := protoWriter(nil).varint(1, uint64(v.elemType)).bytes(2, shape)
	typeProto := protoWriter(nil).bytes(1, tensorType)
	return protoWriter(nil).str(1, v.name).bytes(2, typeProto)
}

// node is one operator. castTo, when nonzero, becomes Cast's "to" attribute.
type node struct {
	op      string
	inputs  []string
	outputs []string
	castTo  int
}

func (n node) encode() []byte {
	var p protoWriter
	for _, in := range n.inputs {
		p = p.str(1, in)
	}
	for _, out := range n.outputs {
		p = p.str(2, out)
	}
	p = p.str(4, n.op)
	if n.castTo != 0 {
		// AttributeProto: name, i, type INT (2).
		attr := protoWriter(nil).str(1, "to").varint(3, uint64(n.castTo)).varint(20, 2)
		p = p.bytes(5, attr)
	}
	return p
}

// onnxModel encodes a ModelProto with IR version 8 and opset 13.
func onnxModel(nodes []node, inputs, outputs []valueInfo, metadata map[string]string) []byte {
	var graph protoWriter
	for _, n := range nodes {
		graph = graph.bytes(1, n.encode())
	}
	graph = graph.str(2, "test")
	for _, in := range inputs {
		graph = graph.bytes(11, in.encode())
	}
	for _, out := range outputs {
		graph = graph.bytes(12, out.encode())
	}

	model := protoWriter(nil).varint(1, 8)
	model = model.bytes(8, protoWriter(nil).varint(2, 13))
	model = model.bytes(7, graph)
	for k, v := range metadata {
		model = model.bytes(14, protoWriter(nil).str(1, k).str(2, v))
	}
	return model
}

// unaryModel is a one-node model from input "x" to output "y".
func unaryModel(op string, castTo int, in, out valueInfo) []byte {
	in.name, out.name = "x", "y"
	return onnxModel([]node{{op: op, inputs: []string{"x"}, outputs: []string{"y"}, castTo: castTo}},
		[]valueInfo{in}, []valueInfo{out}, nil)
}
