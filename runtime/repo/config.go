package repo

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/backend"
)

// File names inside a model directory.
const (
	// ConfigFile is a model's configuration, next to its version folders.
	ConfigFile = "config.yaml"
	// DefaultModelFile is the model file inside each version folder unless the config names another.
	DefaultModelFile = "model.onnx"
)

// Limits of the config values; each bounds a resource or catches a typo.
const (
	maxRole          = 0xFFFF // section role ids are u16
	maxChannels      = 64     // more is certainly a typo for an image model
	maxTile          = 4096   // largest tile edge: one 4096² float32 RGB tile is 192 MiB
	maxScale         = 8      // output/input tile ratio
	maxHalo          = 64     // context pixels per side
	maxBatchTiles    = 1024   // slots per batch
	maxQueueDelay    = time.Second
	maxInstances     = 64      // ORT sessions per model
	maxThreads       = 256     // intra-op threads per session
	maxModelNameLen  = 128     // directory name = model name
	maxVersionNumber = 1 << 30 // version folder numbers
)

// Defaults of optional fields.
const (
	DefaultMaxBatchTiles = 16
	DefaultMaxQueueDelay = time.Millisecond
)

// Config is a model's config.yaml. See the repository format in the package documentation.
type Config struct {
	// Backend runs the model: "onnxruntime" or "echo".
	Backend string `yaml:"backend"`
	// Description is free text for operators.
	Description string `yaml:"description"`
	// File is the model file inside each version folder (default model.onnx).
	File string `yaml:"file"`
	// Inputs map NNRP tensor section roles to model inputs; Outputs map model outputs to the roles
	// of the result's sections.
	Inputs  []TensorMap `yaml:"inputs"`
	Outputs []TensorMap `yaml:"outputs"`
	// DType and Layout of every tensor: float32 and NCHW.
	DType  string `yaml:"dtype"`
	Layout string `yaml:"layout"`
	// TileSizes are the accepted tile sizes (width × height, without halo).
	TileSizes []TileSize `yaml:"tile_sizes"`
	// Scale is the output tile edge over the input tile edge (default 1).
	Scale int `yaml:"scale"`
	// Halo is the context in input pixels on each side of a tile (default 0).
	Halo int `yaml:"halo"`
	// Degraded names another model of the repository with the same I/O contract, for DEGRADED
	// results.
	Degraded  string    `yaml:"degraded"`
	Batching  Batching  `yaml:"batching"`
	Instances int       `yaml:"instances"`
	Execution Execution `yaml:"execution"`
	Warmup    Warmup    `yaml:"warmup"`

	lines map[string]int // line of each field present, by path
}

// TensorMap binds one NNRP tensor section role to a model input or output.
type TensorMap struct {
	Role     int    `yaml:"role"`
	Name     string `yaml:"name"`
	Channels int    `yaml:"channels"`
}

// Batching limits the batches the scheduler forms.
type Batching struct {
	// MaxBatchTiles is the most tile slots per batch (default 16).
	MaxBatchTiles int `yaml:"max_batch_tiles"`
	// MaxQueueDelay is how long a tile may wait for others to fill its batch (default 1ms).
	MaxQueueDelay Duration `yaml:"max_queue_delay"`
}

// Execution selects the execution provider and ORT's threads.
type Execution struct {
	Provider       string `yaml:"provider"` // auto (default), cpu, cuda
	Device         int    `yaml:"device"`   // CUDA device ordinal
	IntraOpThreads int    `yaml:"intra_op_threads"`
}

// Warmup lists the batch sizes run for every tile size when a version is loaded.
type Warmup struct {
	BatchSizes []int `yaml:"batch_sizes"`
}

// TileSize is a tile's width × height in input pixels, without halo. In YAML: 64 (64×64) or
// "128x64" (width 128, height 64).
type TileSize struct{ W, H int }

func (t TileSize) String() string { return fmt.Sprintf("%dx%d", t.W, t.H) }

// UnmarshalYAML reads 64 or "WxH".
func (t *TileSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("must be a number (64) or \"WIDTHxHEIGHT\" (\"128x64\")")
	}
	if v, err := strconv.Atoi(n.Value); err == nil {
		t.W, t.H = v, v
		return nil
	}
	w, h, ok := strings.Cut(strings.ToLower(n.Value), "x")
	wv, err1 := strconv.Atoi(w)
	hv, err2 := strconv.Atoi(h)
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("%q is not a tile size: write 64 for 64×64, or \"128x64\" for width 128 and height 64", n.Value)
	}
	t.W, t.H = wv, hv
	return nil
}

// MarshalYAML writes 64 or "WxH".
func (t TileSize) MarshalYAML() (any, error) {
	if t.W == t.H {
		return t.W, nil
	}
	return t.String(), nil
}

// Duration is a time.Duration written as in Go ("2ms", "500us").
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("%q is not a duration: write it with a unit, e.g. \"2ms\" or \"500us\"", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Spec returns the backend contract of the config.
func (c *Config) Spec() backend.Spec {
	s := backend.Spec{Halo: c.Halo, Scale: c.Scale}
	for _, t := range c.Inputs {
		s.Inputs = append(s.Inputs, backend.Tensor{Name: t.Name, Channels: t.Channels})
	}
	for _, t := range c.Outputs {
		s.Outputs = append(s.Outputs, backend.Tensor{Name: t.Name, Channels: t.Channels})
	}
	return s
}

// Tensors reports whether the config declares a tensor contract (inputs, outputs, tile sizes).
// An echo model without one echoes any frame unchanged.
func (c *Config) Tensors() bool { return len(c.Inputs) > 0 }

// AcceptsTile reports whether tiles of w×h are accepted.
func (c *Config) AcceptsTile(w, h int) bool {
	return slices.Contains(c.TileSizes, TileSize{W: w, H: h})
}

// TileList formats the accepted tile sizes ("64x64, 128x128").
func (c *Config) TileList() string {
	s := make([]string, len(c.TileSizes))
	for i, t := range c.TileSizes {
		s[i] = t.String()
	}
	return strings.Join(s, ", ")
}

// line returns the line of the field at path, or of its nearest present parent.
func (c *Config) line(path string) int {
	for p := path; p != ""; {
		if l, ok := c.lines[p]; ok {
			return l
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

func (c *Config) has(path string) bool {
	_, ok := c.lines[path]
	return ok
}

// ParseConfig decodes and validates a config file's bytes; file names it in problems. Decoding is
// strict: unknown fields, duplicate keys and values of the wrong type are problems. On failure it
// returns every problem found, as Problems.
func ParseConfig(file string, data []byte) (*Config, error) {
	d := decoder{file: file, lines: map[string]int{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Problems{d.yamlSyntax(err)}
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil, Problems{{File: file, Msg: "the file is empty", Fix: "it needs at least `backend: onnxruntime` or `backend: echo`"}}
	}
	c := &Config{}
	d.decode(root.Content[0], c, "")
	c.lines = d.lines
	decodeProbs := d.probs
	if len(decodeProbs) > 0 && root.Content[0].Kind != yaml.MappingNode {
		return nil, decodeProbs
	}
	// Check the values too, so that one run lists every problem, leaving out what a field that
	// failed to decode would trigger again.
	d.probs = nil
	d.validate(c)
	for _, p := range d.probs {
		if !coveredBy(p.Field, decodeProbs) {
			decodeProbs = append(decodeProbs, p)
		}
	}
	if len(decodeProbs) > 0 {
		return nil, decodeProbs
	}
	return c, nil
}

// coveredBy reports whether a problem about field repeats one of probs (the same field, or a
// field inside it).
func coveredBy(field string, probs Problems) bool {
	for _, p := range probs {
		if p.Field == "" || field == p.Field || strings.HasPrefix(field, p.Field+".") || strings.HasPrefix(field, p.Field+"[") {
			return true
		}
	}
	return false
}

// validate checks the values, fills in defaults and records problems.
func (d *decoder) validate(c *Config) {
	bad := func(path string, value any, msg, fix string) {
		d.probs = append(d.probs, &Problem{File: d.file, Line: c.line(path), Field: path, Value: fmtValue(value), Msg: msg, Fix: fix})
	}
	switch c.Backend {
	case backend.KindONNXRuntime, backend.KindEcho:
	case "":
		bad("backend", nil, "is missing", `set backend: onnxruntime (an ONNX model in each version folder) or backend: echo`)
		return
	default:
		bad("backend", c.Backend, "is not a backend", `use "onnxruntime" or "echo"`)
		return
	}
	ort := c.Backend == backend.KindONNXRuntime
	if ort || c.Tensors() || len(c.Outputs) > 0 || len(c.TileSizes) > 0 {
		d.validateContract(c, bad)
	} else {
		c.Scale = 1 // a protocol echo
	}
	if !ort {
		for _, f := range []string{"file", "degraded", "instances", "execution", "warmup"} {
			if c.has(f) {
				bad(f, nil, "has no effect with backend echo", "remove it")
			}
		}
		c.Instances = 1
		return
	}
	if c.File == "" {
		c.File = DefaultModelFile
	} else if c.File == "." || c.File == ".." || strings.ContainsAny(c.File, `/\`) {
		bad("file", c.File, "must be a file name inside the version folder", "write a plain name such as model.onnx")
	}
	if c.has("instances") {
		if c.Instances < 1 || c.Instances > maxInstances {
			bad("instances", c.Instances, fmt.Sprintf("must be 1..%d", maxInstances), "one ONNX Runtime session per instance; 1 is usual")
		}
	} else {
		c.Instances = 1
	}
	x := &c.Execution
	switch x.Provider {
	case "":
		x.Provider = "auto"
	case "auto", "cpu", "cuda":
	default:
		bad("execution.provider", x.Provider, "is not an execution provider", `use "auto" (CUDA when it works, else the CPU), "cpu" or "cuda"`)
	}
	if x.Device < 0 {
		bad("execution.device", x.Device, "must be ≥ 0", "it is the CUDA device ordinal")
	}
	if x.IntraOpThreads < 0 || x.IntraOpThreads > maxThreads {
		bad("execution.intra_op_threads", x.IntraOpThreads, fmt.Sprintf("must be 0..%d", maxThreads), "0 lets ONNX Runtime choose")
	}
	if c.Degraded != "" {
		if !validName(c.Degraded) {
			bad("degraded", c.Degraded, "is not a model name", "name another model directory of this repository")
		}
	}
	if c.has("warmup.batch_sizes") && len(c.Warmup.BatchSizes) == 0 {
		bad("warmup.batch_sizes", nil, "is empty", "list at least one batch size, e.g. [1]")
	}
	for i, n := range c.Warmup.BatchSizes {
		if n < 1 || n > c.Batching.MaxBatchTiles {
			bad(fmt.Sprintf("warmup.batch_sizes[%d]", i), n, fmt.Sprintf("must be 1..batching.max_batch_tiles (%d)", c.Batching.MaxBatchTiles), "")
		}
	}
	if !c.has("warmup.batch_sizes") {
		c.Warmup.BatchSizes = []int{1}
		if c.Batching.MaxBatchTiles > 1 {
			c.Warmup.BatchSizes = append(c.Warmup.BatchSizes, c.Batching.MaxBatchTiles)
		}
	}
}

// validateContract checks the tensor contract: roles, names, channels, dtype, layout, tiles,
// scale, halo, batching.
func (d *decoder) validateContract(c *Config, bad func(path string, value any, msg, fix string)) {
	ort := c.Backend == backend.KindONNXRuntime
	for _, io := range []struct {
		field string
		list  []TensorMap
	}{{"inputs", c.Inputs}, {"outputs", c.Outputs}} {
		if len(io.list) == 0 {
			bad(io.field, nil, "is missing", fmt.Sprintf("list the model's %s as {role: 1, name: <%s name>, channels: 3}", io.field, strings.TrimSuffix(io.field, "s")))
			continue
		}
		roles, names := map[int]int{}, map[string]int{}
		for i, t := range io.list {
			p := fmt.Sprintf("%s[%d]", io.field, i)
			if !c.has(p + ".role") {
				bad(p+".role", nil, "is missing", "give the NNRP tensor section role id (0..65535)")
			} else if t.Role < 0 || t.Role > maxRole {
				bad(p+".role", t.Role, "is not a section role", "role ids are 0..65535")
			} else if j, dup := roles[t.Role]; dup {
				bad(p+".role", t.Role, fmt.Sprintf("is also %s[%d].role", io.field, j), "each role maps to one tensor")
			}
			roles[t.Role] = i
			if t.Name == "" {
				bad(p+".name", nil, "is missing", fmt.Sprintf("give the model's %s name", strings.TrimSuffix(io.field, "s")))
			} else if j, dup := names[t.Name]; dup {
				bad(p+".name", t.Name, fmt.Sprintf("is also %s[%d].name", io.field, j), "each tensor is mapped once")
			}
			names[t.Name] = i
			if !c.has(p + ".channels") {
				bad(p+".channels", nil, "is missing", "give the channel count, e.g. 3 for RGB")
			} else if t.Channels < 1 || t.Channels > maxChannels {
				bad(p+".channels", t.Channels, fmt.Sprintf("must be 1..%d", maxChannels), "")
			}
		}
	}
	switch strings.ToLower(c.DType) {
	case "", "float32":
		c.DType = "float32"
	default:
		bad("dtype", c.DType, "is not supported", "tiles are staged as float32; use dtype: float32 (and a float32 model)")
	}
	switch strings.ToUpper(c.Layout) {
	case "", "NCHW":
		c.Layout = "NCHW"
	default:
		bad("layout", c.Layout, "is not supported", "use layout: NCHW (frames in other layouts are answered with a capability-mismatch drop)")
	}
	if len(c.TileSizes) == 0 {
		bad("tile_sizes", nil, "is missing", "list the accepted tile sizes, e.g. [64, 128]")
	}
	seen := map[TileSize]int{}
	for i, t := range c.TileSizes {
		p := fmt.Sprintf("tile_sizes[%d]", i)
		if t.W < 1 || t.H < 1 || t.W > maxTile || t.H > maxTile {
			bad(p, t.String(), fmt.Sprintf("is out of range: width and height must be 1..%d", maxTile), "")
		} else if j, dup := seen[t]; dup {
			bad(p, t.String(), fmt.Sprintf("repeats tile_sizes[%d]", j), "list each size once")
		}
		seen[t] = i
	}
	if c.has("scale") {
		if c.Scale < 1 || c.Scale > maxScale {
			bad("scale", c.Scale, fmt.Sprintf("must be 1..%d", maxScale), "it is the output tile edge over the input tile edge, e.g. 2 for a 2× upscaler")
		}
	} else {
		c.Scale = 1
	}
	if c.Halo < 0 || c.Halo > maxHalo {
		bad("halo", c.Halo, fmt.Sprintf("must be 0..%d", maxHalo), "it is the model's receptive-field radius in input pixels (4 for Anime4K S)")
	}
	if !ort && c.Scale != 1 {
		bad("scale", c.Scale, "must be 1 with backend echo", "echo returns its input tiles unchanged")
	}
	b := &c.Batching
	if c.has("batching.max_batch_tiles") {
		if b.MaxBatchTiles < 1 || b.MaxBatchTiles > maxBatchTiles {
			bad("batching.max_batch_tiles", b.MaxBatchTiles, fmt.Sprintf("must be 1..%d", maxBatchTiles), "")
		}
	} else {
		b.MaxBatchTiles = DefaultMaxBatchTiles
	}
	if c.has("batching.max_queue_delay") {
		if v := time.Duration(b.MaxQueueDelay); v < 0 || v > maxQueueDelay {
			bad("batching.max_queue_delay", v.String(), fmt.Sprintf("must be 0..%v", maxQueueDelay), "it is how long a tile may wait for others to fill its batch")
		}
	} else {
		b.MaxQueueDelay = Duration(DefaultMaxQueueDelay)
	}
	if !ort && len(c.Inputs) > 0 && len(c.Inputs) != len(c.Outputs) {
		bad("outputs", nil, fmt.Sprintf("has %d entries but inputs has %d", len(c.Outputs), len(c.Inputs)), "echo returns each input as the output of the same position")
	}
	if !ort {
		for i := range min(len(c.Inputs), len(c.Outputs)) {
			if c.Inputs[i].Channels != c.Outputs[i].Channels {
				bad(fmt.Sprintf("outputs[%d].channels", i), c.Outputs[i].Channels,
					fmt.Sprintf("differs from inputs[%d].channels (%d)", i, c.Inputs[i].Channels), "echo returns its input unchanged")
			}
		}
	}
}

// validName reports whether s can name a model (its directory).
func validName(s string) bool {
	if s == "" || len(s) > maxModelNameLen {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '.' || r == '_' || r == '-'):
		default:
			return false
		}
	}
	return true
}
