package postprocess

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/yoloplane/yoloplane/dataplane/tensor"
)

// The helpers below read just enough of an ONNX ModelProto to feed Inspect
// with a real model's metadata_props and tensor shapes, without a
// protobuf dependency. Field numbers are from onnx.proto: ModelProto graph
// 7 and metadata_props 14; GraphProto input 11 and output 12;
// ValueInfoProto name 1 and type 2; TypeProto tensor_type 1; Tensor
// shape 2; TensorShapeProto dim 1; Dimension dim_value 1 and dim_param 2.

type protoField struct {
	num   int
	wire  int
	value uint64
	bytes []byte
}

func protoFields(b []byte) ([]protoField, error) {
	var out []protoField
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return nil, errors.New("bad field key")
		}
		b = b[n:]
		f := protoField{num: int(key >> 3), wire: int(key & 7)}
		switch f.wire {
		case 0:
			v, n := binary.Uvarint(b)
			if n <= 0 {
				return nil, errors.New("bad varint")
			}
			f.value, b = v, b[n:]
		case 1:
			if len(b) < 8 {
				return nil, errors.New("short fixed64")
			}
			b = b[8:]
		case 5:
			if len(b) < 4 {
				return nil, errors.New("short fixed32")
			}
			b = b[4:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				return nil, errors.New("bad length")
			}
			f.bytes, b = b[n:n+int(l)], b[n+int(l):]
		default:
			return nil, fmt.Errorf("unsupported wire type %d", f.wire)
		}
		out = append(out, f)
	}
	return out, nil
}

// onnxModelInfo returns the metadata, graph inputs and graph outputs of
// an ONNX file's bytes.
func onnxModelInfo(b []byte) (map[string]string, []tensor.Info, []tensor.Info, error) {
	fields, err := protoFields(b)
	if err != nil {
		return nil, nil, nil, err
	}
	meta := map[string]string{}
	var inputs, outputs []tensor.Info
	for _, f := range fields {
		switch f.num {
		case 14:
			kv, err := protoFields(f.bytes)
			if err != nil {
				return nil, nil, nil, err
			}
			var k, v string
			for _, e := range kv {
				if e.num == 1 {
					k = string(e.bytes)
				} else if e.num == 2 {
					v = string(e.bytes)
				}
			}
			meta[k] = v
		case 7:
			if inputs, outputs, err = graphIO(f.bytes); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	return meta, inputs, outputs, nil
}

func graphIO(b []byte) (inputs, outputs []tensor.Info, err error) {
	fields, err := protoFields(b)
	if err != nil {
		return nil, nil, err
	}
	for _, f := range fields {
		if f.num != 11 && f.num != 12 {
			continue
		}
		info, err := valueInfo(f.bytes)
		if err != nil {
			return nil, nil, err
		}
		if f.num == 11 {
			inputs = append(inputs, info)
		} else {
			outputs = append(outputs, info)
		}
	}
	return inputs, outputs, nil
}

// sub returns the bytes of the first field number num.
func sub(b []byte, num int) []byte {
	fields, _ := protoFields(b)
	for _, f := range fields {
		if f.num == num {
			return f.bytes
		}
	}
	return nil
}

func valueInfo(b []byte) (tensor.Info, error) {
	info := tensor.Info{Name: string(sub(b, 1)), Type: tensor.Float32}
	shape := sub(sub(sub(b, 2), 1), 2)
	dims, err := protoFields(shape)
	if err != nil {
		return info, err
	}
	for _, d := range dims {
		if d.num != 1 {
			continue
		}
		df, err := protoFields(d.bytes)
		if err != nil {
			return info, err
		}
		size, name := int64(-1), ""
		for _, e := range df {
			if e.num == 1 {
				size = int64(e.value)
			} else if e.num == 2 {
				name = string(e.bytes)
			}
		}
		info.Shape = append(info.Shape, size)
		info.DimNames = append(info.DimNames, name)
	}
	return info, nil
}
