// Package modelgen writes ONNX models from Go: a small graph builder on the generated onnxpb types,
// the converter of the published Anime4K CNN 2× S weights (@websr/websr@0.0.15) into the
// super-resolution models the product serves, and their bilinear degraded twin.
//
// Every model is byte-for-byte deterministic: node and value names are fixed, nothing depends on
// time, map order or the machine, and protobuf is marshalled in deterministic mode.
package modelgen

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/onnx/onnxpb"
)

// Versions written into every generated model. Opset 17 is the lowest opset at which Resize takes
// an empty roi input and Pad takes its pads as an input (research/anime4k.md §3); IR version 8 is
// what ONNX 1.12 (the onnx.proto in onnxpb) writes for opset 17.
const (
	IRVersion    = 8
	OpsetVersion = 17
	Producer     = "nnrp-gpu modelgen"
)

// Dim is one dimension of a graph input or output: a fixed size, or a symbolic name (dim_param).
// Inputs and outputs that use the same symbolic name have the same size at run time.
type Dim struct {
	Value int64  // fixed size when Param is empty
	Param string // symbolic name, e.g. "N"
}

// Fixed returns a dimension of the given size.
func Fixed(v int64) Dim { return Dim{Value: v} }

// Sym returns a symbolic dimension.
func Sym(name string) Dim { return Dim{Param: name} }

// Graph accumulates the nodes, initializers, inputs and outputs of one ONNX graph. Errors are
// sticky: the first misuse is kept and returned by Marshal, so a builder function can chain calls
// and check once.
type Graph struct {
	name     string
	doc      string
	nodes    []*onnxpb.NodeProto
	inits    []*onnxpb.TensorProto
	inputs   []*onnxpb.ValueInfoProto
	outputs  []*onnxpb.ValueInfoProto
	metadata []*onnxpb.StringStringEntryProto
	values   map[string]bool // every value name defined so far (inputs, initializers, node outputs)
	nodeSeen map[string]bool
	err      error
}

// NewGraph starts an empty graph with the given name and documentation string.
func NewGraph(name, doc string) *Graph {
	return &Graph{name: name, doc: doc, values: map[string]bool{}, nodeSeen: map[string]bool{}}
}

func (g *Graph) fail(format string, args ...any) {
	if g.err == nil {
		g.err = fmt.Errorf("modelgen: graph %q: "+format, append([]any{g.name}, args...)...)
	}
}

func (g *Graph) define(name string) {
	if name == "" {
		g.fail("a value has an empty name")
		return
	}
	if g.values[name] {
		g.fail("value %q is defined twice; every value name must be unique", name)
		return
	}
	g.values[name] = true
}

func valueInfo(name string, elem onnxpb.TensorProto_DataType, dims []Dim) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		td := &onnxpb.TensorShapeProto_Dimension{}
		if d.Param != "" {
			td.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d.Param}
		} else {
			td.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d.Value}
		}
		shape.Dim = append(shape.Dim, td)
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(elem)),
			Shape:    shape,
		}}},
	}
}

func (g *Graph) checkDims(what string, dims []Dim) {
	for i, d := range dims {
		if d.Param == "" && d.Value < 0 {
			g.fail("%s dimension %d is %d; fixed dimensions must be ≥ 0", what, i, d.Value)
		}
	}
}

// Input declares a graph input and returns its name.
func (g *Graph) Input(name string, elem onnxpb.TensorProto_DataType, dims ...Dim) string {
	g.define(name)
	g.checkDims("input "+name, dims)
	g.inputs = append(g.inputs, valueInfo(name, elem, dims))
	return name
}

// Output declares that the value name (produced by a node) is a graph output.
func (g *Graph) Output(name string, elem onnxpb.TensorProto_DataType, dims ...Dim) {
	g.checkDims("output "+name, dims)
	g.outputs = append(g.outputs, valueInfo(name, elem, dims))
}

// Metadata adds a key/value pair to the model's metadata_props.
func (g *Graph) Metadata(key, value string) {
	g.metadata = append(g.metadata, &onnxpb.StringStringEntryProto{Key: proto.String(key), Value: proto.String(value)})
}

func shapeSize(dims []int64) (int, bool) {
	n := 1
	for _, d := range dims {
		if d < 0 || (d > 0 && n > math.MaxInt32/int(d)) {
			return 0, false
		}
		n *= int(d)
	}
	return n, true
}

// Float32 adds a float32 initializer (little-endian raw_data) and returns its name.
func (g *Graph) Float32(name string, dims []int64, data []float32) string {
	n, ok := shapeSize(dims)
	if !ok || n != len(data) {
		g.fail("initializer %q has shape %v but %d values", name, dims, len(data))
		return name
	}
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	g.addInit(name, onnxpb.TensorProto_FLOAT, dims, raw)
	return name
}

// Int64 adds an int64 initializer (little-endian raw_data) and returns its name.
func (g *Graph) Int64(name string, dims []int64, data []int64) string {
	n, ok := shapeSize(dims)
	if !ok || n != len(data) {
		g.fail("initializer %q has shape %v but %d values", name, dims, len(data))
		return name
	}
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	g.addInit(name, onnxpb.TensorProto_INT64, dims, raw)
	return name
}

func (g *Graph) addInit(name string, dt onnxpb.TensorProto_DataType, dims []int64, raw []byte) {
	g.define(name)
	g.inits = append(g.inits, &onnxpb.TensorProto{
		Name:     proto.String(name),
		DataType: proto.Int32(int32(dt)),
		Dims:     append([]int64(nil), dims...),
		RawData:  raw,
	})
}

// Attr is a node attribute; build it with AttrInt, AttrInts, AttrFloat or AttrString.
type Attr = *onnxpb.AttributeProto

// AttrInt returns an INT attribute.
func AttrInt(name string, v int64) Attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

// AttrInts returns an INTS attribute.
func AttrInts(name string, v ...int64) Attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: append([]int64(nil), v...)}
}

// AttrFloat returns a FLOAT attribute.
func AttrFloat(name string, v float32) Attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

// AttrString returns a STRING attribute.
func AttrString(name, v string) Attr {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// Node appends a node of the default ONNX domain. Every name in inputs must already be defined,
// except "" which marks an omitted optional input. The node's single output is named after the
// node and returned.
func (g *Graph) Node(op, name string, inputs []string, attrs ...Attr) string {
	g.NodeN(op, name, inputs, []string{name}, attrs...)
	return name
}

// NodeN is Node with explicitly named outputs.
func (g *Graph) NodeN(op, name string, inputs, outputs []string, attrs ...Attr) {
	if g.nodeSeen[name] || name == "" {
		g.fail("node name %q is empty or used twice", name)
	}
	g.nodeSeen[name] = true
	for _, in := range inputs {
		if in != "" && !g.values[in] {
			g.fail("node %q reads %q, which is not defined before it", name, in)
		}
	}
	for _, out := range outputs {
		g.define(out)
	}
	g.nodes = append(g.nodes, &onnxpb.NodeProto{
		Name:      proto.String(name),
		OpType:    proto.String(op),
		Input:     append([]string(nil), inputs...),
		Output:    append([]string(nil), outputs...),
		Attribute: attrs,
	})
}

// Model assembles the ModelProto (IR version 8, default domain at opset 17).
func (g *Graph) Model() (*onnxpb.ModelProto, error) {
	if g.err != nil {
		return nil, g.err
	}
	if len(g.outputs) == 0 {
		return nil, fmt.Errorf("modelgen: graph %q has no outputs; declare them with Output", g.name)
	}
	for _, o := range g.outputs {
		if !g.values[o.GetName()] {
			return nil, fmt.Errorf("modelgen: graph %q: output %q is produced by no node", g.name, o.GetName())
		}
	}
	return &onnxpb.ModelProto{
		IrVersion:     proto.Int64(IRVersion),
		ProducerName:  proto.String(Producer),
		OpsetImport:   []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(OpsetVersion)}},
		DocString:     proto.String(g.doc),
		MetadataProps: g.metadata,
		Graph: &onnxpb.GraphProto{
			Name:        proto.String(g.name),
			Node:        g.nodes,
			Initializer: g.inits,
			Input:       g.inputs,
			Output:      g.outputs,
		},
	}, nil
}

// Marshal returns the serialized model, deterministically.
func (g *Graph) Marshal() ([]byte, error) {
	m, err := g.Model()
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("modelgen: marshal graph %q: %w", g.name, err)
	}
	return b, nil
}
