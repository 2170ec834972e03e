package modelgen

import (
	"crypto/sha256"
	_ "embed" // LICENSE.websr
	"encoding/hex"
	"fmt"
)

// The pinned source of the shipped super-resolution weights.
const (
	// WeightsPackage is the npm package the weights come from (`npm pack @websr/websr@0.0.15`).
	WeightsPackage = "@websr/websr@0.0.15"
	// WeightsTarballSHA256 is the sha256 of websr-websr-0.0.15.tgz as `npm pack` writes it.
	WeightsTarballSHA256 = "306586dcaceae60a5fe6a399eedd1d0c6ac9d8a7139fb5cf167df3095a81b214"
	// WeightsPath is the weights file inside the tarball.
	WeightsPath = "package/weights/anime4k/cnn-2x-s-rl.json"
	// WeightsJSONSHA256 is the sha256 of that file: Anime4K CNN 2× S retrained by websr on
	// real-life video ("rl").
	WeightsJSONSHA256 = "28f9853f8a4640dbc2bef0617e8dc5929590f46c16c5a5fd50a9de2502f8724b"
	// WeightsSource is written into the metadata of the models built from these weights.
	WeightsSource = WeightsPackage + " " + WeightsPath
)

// WebsrLicense is the MIT license of @websr/websr (package/LICENSE of the tarball, verbatim). It
// must be shipped next to any model built from the weights, as ShippedLicense.
//
//go:embed LICENSE.websr
var WebsrLicense string

// Names of the files BuildShipped returns.
const (
	ShippedSR       = "anime4k-cnn2x-s-rl-tile.onnx" // super-resolution, valid tile variant
	ShippedBilinear = "bilinear2x-tile.onnx"         // its degraded twin
	ShippedLicense  = "LICENSE.websr"                // the weights' license, to sit next to ShippedSR
)

// BuildShipped builds the models the product ships from the pinned websr weights JSON: the
// Anime4K tile model (ShippedSR), its bilinear twin (ShippedBilinear) and the weights' license
// (ShippedLicense), keyed by file name. The output is byte-for-byte reproducible. It refuses
// weights whose sha256 differs from WeightsJSONSHA256, so the shipped files always match their
// documented source; use ParseAnime4KS and BuildAnime4KTile for other weights.
func BuildShipped(weightsJSON []byte) (map[string][]byte, error) {
	sum := sha256.Sum256(weightsJSON)
	if got := hex.EncodeToString(sum[:]); got != WeightsJSONSHA256 {
		return nil, fmt.Errorf("modelgen: weights JSON has sha256 %s, want %s (%s from `npm pack %s`); fetch the pinned file (make models)",
			got, WeightsJSONSHA256, WeightsPath, WeightsPackage)
	}
	w, err := ParseAnime4KS(weightsJSON)
	if err != nil {
		return nil, err
	}
	sr, err := BuildAnime4KTile(w)
	if err != nil {
		return nil, err
	}
	bl, err := BuildBilinearTile()
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		ShippedSR:       sr,
		ShippedBilinear: bl,
		ShippedLicense:  []byte(WebsrLicense),
	}, nil
}
