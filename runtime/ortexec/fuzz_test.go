package ortexec_test

import (
	"testing"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec"
)

// FuzzReadModelInfo: model files come from the models directory; whatever bytes it finds there,
// ReadModelInfo returns an error or a consistent description, never a panic.
func FuzzReadModelInfo(f *testing.F) {
	bil, err := modelgen.BuildBilinearTile()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bil)
	f.Add(tileModel(f))
	f.Add([]byte{})
	f.Add([]byte("\x3a\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ortexec.ReadModelInfo(b)
		if err != nil {
			return
		}
		if len(info.Opsets) == 0 {
			t.Fatal("a model without opsets was accepted")
		}
		for _, v := range append(info.Inputs, info.Outputs...) {
			_ = v.String()
			for _, d := range v.Shape {
				if d.Param != "" && d.Value != -1 {
					t.Fatalf("symbolic dim %q has value %d", d.Param, d.Value)
				}
			}
		}
	})
}
