package ortexec

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/onnx/onnxpb"
)

// ElemType is an ONNX tensor element type (TensorProto.DataType), e.g. ElemFloat32.
type ElemType = onnxpb.TensorProto_DataType

// Element types ortexec names.
const (
	ElemFloat32 ElemType = onnxpb.TensorProto_FLOAT
	ElemFloat16 ElemType = onnxpb.TensorProto_FLOAT16
	ElemUint8   ElemType = onnxpb.TensorProto_UINT8
	ElemInt64   ElemType = onnxpb.TensorProto_INT64
)

// Dim is one declared dimension: a fixed size (Param == ""), a symbolic one (Param is its
// dim_param name, Value −1) or an unknown one (Param == "", Value −1).
type Dim struct {
	Value int64
	Param string
}

// Fixed reports whether the dimension has a declared size.
func (d Dim) Fixed() bool { return d.Value >= 0 }

func (d Dim) String() string {
	switch {
	case d.Param != "":
		return d.Param
	case d.Value >= 0:
		return fmt.Sprint(d.Value)
	}
	return "?"
}

// ValueInfo describes a model input or output as the model file declares it.
type ValueInfo struct {
	Name  string
	Elem  ElemType
	Shape []Dim // nil when the model declares no shape
	// Tensor is false for non-tensor values (sequences, maps, optionals); ortexec cannot run them.
	Tensor bool
}

func (v ValueInfo) String() string {
	dims := make([]string, len(v.Shape))
	for i, d := range v.Shape {
		dims[i] = d.String()
	}
	return fmt.Sprintf("%s %s[%s]", v.Name, strings.ToLower(v.Elem.String()), strings.Join(dims, ","))
}

// ModelInfo is what a model file declares about itself.
type ModelInfo struct {
	Inputs   []ValueInfo       // graph inputs without an initializer, in graph order
	Outputs  []ValueInfo       // graph outputs, in graph order
	Metadata map[string]string // metadata_props
	Opsets   map[string]int64  // opset per domain ("" = ai.onnx)
	Producer string
}

// ReadModelInfo parses an ONNX model and returns its declared inputs, outputs and metadata. It
// does not need ONNX Runtime. The whole model is unmarshalled, so it briefly holds a second copy of
// the weights.
func ReadModelInfo(model []byte) (*ModelInfo, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		return nil, fmt.Errorf("not an ONNX ModelProto: %w", err)
	}
	g := m.GetGraph()
	if g == nil {
		return nil, fmt.Errorf("the ModelProto has no graph")
	}
	info := &ModelInfo{Metadata: map[string]string{}, Opsets: map[string]int64{}, Producer: m.GetProducerName()}
	for _, p := range m.GetMetadataProps() {
		info.Metadata[p.GetKey()] = p.GetValue()
	}
	for _, o := range m.GetOpsetImport() {
		info.Opsets[o.GetDomain()] = o.GetVersion()
	}
	if len(info.Opsets) == 0 {
		return nil, fmt.Errorf("the model imports no opset")
	}
	inits := make(map[string]bool, len(g.GetInitializer()))
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	for _, in := range g.GetInput() {
		if inits[in.GetName()] {
			continue // an overridable initializer, not a required input
		}
		info.Inputs = append(info.Inputs, valueInfoOf(in))
	}
	for _, out := range g.GetOutput() {
		info.Outputs = append(info.Outputs, valueInfoOf(out))
	}
	return info, nil
}

func valueInfoOf(v *onnxpb.ValueInfoProto) ValueInfo {
	vi := ValueInfo{Name: v.GetName()}
	tt := v.GetType().GetTensorType()
	if tt == nil {
		return vi
	}
	vi.Tensor = true
	vi.Elem = ElemType(tt.GetElemType())
	if tt.GetShape() == nil {
		return vi
	}
	vi.Shape = make([]Dim, 0, len(tt.GetShape().GetDim()))
	for _, d := range tt.GetShape().GetDim() {
		switch x := d.GetValue().(type) {
		case *onnxpb.TensorShapeProto_Dimension_DimValue:
			vi.Shape = append(vi.Shape, Dim{Value: x.DimValue})
		case *onnxpb.TensorShapeProto_Dimension_DimParam:
			vi.Shape = append(vi.Shape, Dim{Value: -1, Param: x.DimParam})
		default:
			vi.Shape = append(vi.Shape, Dim{Value: -1})
		}
	}
	return vi
}
