// Package repo is the model repository: its on-disk format, strict validation of configs against
// the ONNX files they describe, loading and warming up versions, and serving them with hot swap.
//
// # Layout
//
//	models/
//	  <name>/               a model; the directory name is the model name
//	    config.yaml         how the model is served (below)
//	    1/model.onnx        version 1
//	    2/model.onnx        version 2 (the newest loadable version serves)
//	  .<anything>           hidden entries are ignored at every level
//
// Model names are 1–128 letters, digits, '.', '_' and '-', starting with a letter or digit.
// Version folders are positive integers without leading zeros. Other files (licenses, notes) may
// sit anywhere; other folders are reported as problems.
//
// # config.yaml
//
// Decoding is strict: unknown fields, duplicate keys and values of the wrong type are errors, and
// every error names the file, the line, the field and the fix. Fields:
//
//	backend: onnxruntime          # or echo
//	description: free text
//	file: model.onnx              # model file in each version folder (default)
//	inputs:                       # NNRP tensor section role → model input
//	  - {role: 1, name: input, channels: 3}
//	outputs:                      # model output → role of the result section
//	  - {role: 1, name: output, channels: 3}
//	dtype: float32                # the only dtype (default)
//	layout: NCHW                  # the only layout (default)
//	tile_sizes: [64, "128x64"]    # accepted tiles, width x height without halo
//	scale: 2                      # output tile edge / input tile edge (default 1)
//	halo: 4                       # context pixels per side in each input slot (default 0)
//	degraded: other-model         # same I/O contract, for DEGRADED results
//	batching:
//	  max_batch_tiles: 16         # slots per batch (default 16)
//	  max_queue_delay: 2ms        # longest wait to fill a batch (default 1ms)
//	instances: 1                  # ONNX Runtime sessions (default 1)
//	execution:
//	  provider: auto              # auto (CUDA, else CPU), cpu, cuda
//	  device: 0                   # CUDA device ordinal
//	  intra_op_threads: 0         # 0: ONNX Runtime's default
//	warmup:
//	  batch_sizes: [1, 16]        # run for every tile size at load (default [1, max_batch_tiles])
//
// A model input slot is [N, C, th+2·halo, tw+2·halo] and an output slot [N, C, s·th, s·tw]. The
// ONNX file must declare exactly the mapped inputs and outputs as float32 rank-4 tensors; its fixed
// dimensions must agree with the config (symbolic ones are free, but a dim_param shared by two
// tensors must get one value per tile size). Loading then warms every instance up with every
// warm-up batch size for every tile size, which also checks scale and halo against what the model
// computes. A `backend: echo` model needs no version folder; without inputs it returns every frame
// unchanged.
//
// # Hot swap
//
// Manager watches the directory (fsnotify, plus a periodic rescan). A model directory whose file
// names, sizes or times changed is acted on once two scans at least Settle apart agree, so a copy
// in progress is not loaded half-written (installing a version by renaming a finished hidden folder
// is atomic and needs no waiting). The newest version whose config and model content has not
// already failed is loaded and warmed up, then swapped in atomically: frames that acquired the old
// version finish on it, and it is closed once drained. A version that fails to load or warm up
// leaves the serving one in place and is reported (log, nnrp_model_load_failures_total, Status);
// it is retried when its files change. The serving version is never replaced by an older one while
// its folder exists. Config edits are validated and applied the same way. A removed model directory
// stops admitting sessions (Acquire fails with ErrUnavailable) and its serving version drains.
package repo
