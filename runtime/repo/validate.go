package repo

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/nnrp-gpu/nnrp-gpu/gpu"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/backend"
)

// Report is the outcome of Validate.
type Report struct {
	Dir    string
	Models []ModelReport
	// Problems lists everything wrong, in repository order; empty means the repository is valid.
	Problems []error
}

// ModelReport is what Validate checked of one model.
type ModelReport struct {
	Name     string
	Backend  string
	Versions []VersionStatus // the versions that loaded and warmed up
}

// ValidateOptions configure Validate.
type ValidateOptions struct {
	Logger  *slog.Logger
	Staging *gpu.Staging // nil: private pools
}

// Validate checks a repository completely, as a server would load it but without stopping at the
// first problem: the layout, every config, every version folder of every model (each loaded with
// its backend, checked against the config and warmed up, then closed), and the degraded variants
// (present, with the same I/O contract).
func Validate(ctx context.Context, dir string, o ValidateOptions) *Report {
	r := &Report{Dir: dir}
	scan, err := ScanDir(dir)
	if err != nil {
		r.Problems = append(r.Problems, err)
		return r
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	st := o.Staging
	if st == nil {
		st = gpu.NewStaging(gpu.StagingOptions{MaxIdleBytes: -1})
		defer func() { _ = st.Close() }()
	}
	ld := loader{log: log, staging: st}
	for _, p := range scan.Problems {
		r.Problems = append(r.Problems, p)
	}
	configs := map[string]*Config{}
	for i := range scan.Models {
		md := &scan.Models[i]
		for _, p := range md.Problems {
			r.Problems = append(r.Problems, p)
		}
		mr := ModelReport{Name: md.Name}
		cfg, cfgData, err := readConfig(md)
		if err != nil {
			r.Problems = append(r.Problems, flatten(err)...)
			r.Models = append(r.Models, mr)
			continue
		}
		configs[md.Name] = cfg
		mr.Backend = cfg.Backend
		versions := md.Versions
		if cfg.Backend == backend.KindEcho && len(versions) == 0 {
			versions = []VersionDir{{Version: 0, Path: md.Path}}
		}
		if len(versions) == 0 {
			r.Problems = append(r.Problems, &Problem{File: md.Path, Msg: "has no version folder",
				Fix: fmt.Sprintf("add a folder named 1 holding %s", cfg.File)})
		}
		for _, v := range versions {
			c, err := readCandidate(md.Name, cfg, md.ConfigPath, cfgData, v)
			if err == nil {
				var mod *Model
				if mod, err = ld.load(ctx, c); err == nil {
					mr.Versions = append(mr.Versions, versionStatus(mod))
					_ = mod.close()
				}
			}
			if err != nil {
				r.Problems = append(r.Problems, flatten(err)...)
			}
		}
		r.Models = append(r.Models, mr)
	}
	for i := range scan.Models {
		md := &scan.Models[i]
		cfg := configs[md.Name]
		if cfg == nil || cfg.Degraded == "" {
			continue
		}
		p := &Problem{File: md.ConfigPath, Line: cfg.line("degraded"), Field: "degraded", Value: quote(cfg.Degraded)}
		switch t, ok := configs[cfg.Degraded]; {
		case cfg.Degraded == md.Name:
			p.Msg, p.Fix = "names the model itself", "name a cheaper model with the same I/O contract"
		case !ok && !hasModel(scan, cfg.Degraded):
			p.Msg, p.Fix = "is not a model of this repository", fmt.Sprintf("add models/%s or remove the field", cfg.Degraded)
		case !ok:
			continue // its own config problems are reported above
		default:
			why := contractDiff(cfg, t)
			if why == "" {
				continue
			}
			p.Msg, p.Fix = "has another I/O contract: "+why, "a degraded variant must take and return the same tiles"
		}
		r.Problems = append(r.Problems, p)
	}
	return r
}

func hasModel(s *Scan, name string) bool {
	for _, m := range s.Models {
		if m.Name == name {
			return true
		}
	}
	return false
}

func readConfig(md *ModelDir) (*Config, []byte, error) {
	if md.Config == nil {
		return nil, nil, &Problem{File: md.ConfigPath, Msg: "does not exist",
			Fix: "every model directory needs a config.yaml (backend, inputs, outputs, tile_sizes, …)"}
	}
	data, err := os.ReadFile(md.ConfigPath)
	if err != nil {
		return nil, nil, &Problem{File: md.ConfigPath, Msg: "cannot be read: " + errText(err), Fix: "check its permissions"}
	}
	cfg, err := ParseConfig(md.ConfigPath, data)
	return cfg, data, err
}

// flatten splits Problems into their elements.
func flatten(err error) []error {
	if ps, ok := err.(Problems); ok { //nolint:errorlint // only the direct list is split
		out := make([]error, len(ps))
		for i, p := range ps {
			out[i] = p
		}
		return out
	}
	return []error{err}
}
