package repo

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// Scan is one reading of a repository directory: its model directories with their version folders
// (file names, sizes and modification times; contents are read when a version is loaded), and the
// entries that break the layout.
type Scan struct {
	Dir      string
	Models   []ModelDir // sorted by name
	Problems Problems   // stray files and folders
}

// ModelDir is models/<name>/.
type ModelDir struct {
	Name       string
	Path       string
	ConfigPath string
	Config     *FileStat // nil when config.yaml is missing
	Versions   []VersionDir
	Problems   Problems // folders inside that are neither versions nor hidden
}

// VersionDir is models/<name>/<version>/.
type VersionDir struct {
	Version int
	Path    string
	Files   []FileStat // regular files directly inside, sorted by name
}

// FileStat is what a scan records about a file.
type FileStat struct {
	Name    string
	Size    int64
	ModTime time.Time
}

// Version returns the version folder numbered v, if present.
func (m *ModelDir) Version(v int) (VersionDir, bool) {
	for _, x := range m.Versions {
		if x.Version == v {
			return x, true
		}
	}
	return VersionDir{}, false
}

// Fingerprint summarises the names, sizes and modification times of everything a model's load
// depends on: config.yaml and every version folder's files. Any change gives another value.
func (m *ModelDir) Fingerprint() string {
	h := sha256.New()
	put := func(f FileStat) { fmt.Fprintf(h, "%s\x00%d\x00%d\n", f.Name, f.Size, f.ModTime.UnixNano()) }
	if m.Config != nil {
		put(*m.Config)
	}
	for _, v := range m.Versions {
		fmt.Fprintf(h, "v%d\n", v.Version)
		for _, f := range v.Files {
			put(f)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ScanDir reads a repository directory. Hidden entries (names starting with '.') are skipped at
// every level: copy a version folder in under a hidden name and rename it to install it
// atomically. The error is non-nil only when dir itself cannot be read.
func ScanDir(dir string) (*Scan, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: model repository %s: %w", ErrInvalid, dir, err)
	}
	s := &Scan{Dir: dir}
	for _, e := range entries {
		name := e.Name()
		if name[0] == '.' {
			continue
		}
		p := filepath.Join(dir, name)
		st, err := os.Stat(p) // follows symbolic links
		if err != nil {
			s.Problems = append(s.Problems, &Problem{File: p, Msg: "cannot be read: " + errText(err), Fix: "fix or remove it"})
			continue
		}
		if !st.IsDir() {
			continue // README and the like
		}
		if !validName(name) {
			s.Problems = append(s.Problems, &Problem{File: p, Msg: "is not a valid model name",
				Fix: fmt.Sprintf("model names are 1..%d letters, digits, '.', '_' and '-', starting with a letter or digit; prefix it with '.' to hide it", maxModelNameLen)})
			continue
		}
		s.Models = append(s.Models, scanModel(name, p))
	}
	sort.Slice(s.Models, func(i, j int) bool { return s.Models[i].Name < s.Models[j].Name })
	return s, nil
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func scanModel(name, dir string) ModelDir {
	m := ModelDir{Name: name, Path: dir, ConfigPath: filepath.Join(dir, ConfigFile)}
	if st, err := os.Stat(m.ConfigPath); err == nil && st.Mode().IsRegular() {
		m.Config = &FileStat{Name: ConfigFile, Size: st.Size(), ModTime: st.ModTime()}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		m.Problems = append(m.Problems, &Problem{File: dir, Msg: "cannot be read: " + errText(err), Fix: "check its permissions"})
		return m
	}
	for _, e := range entries {
		n := e.Name()
		if n[0] == '.' {
			continue
		}
		p := filepath.Join(dir, n)
		st, err := os.Stat(p)
		if err != nil || !st.IsDir() {
			continue // config.yaml, licenses, notes
		}
		v, ok := parseVersion(n)
		if !ok {
			m.Problems = append(m.Problems, &Problem{File: p, Msg: "is not a version folder",
				Fix: "version folders are named by positive integers without leading zeros (1, 2, …); prefix other folders with '.'"})
			continue
		}
		m.Versions = append(m.Versions, scanVersion(v, p))
	}
	sort.Slice(m.Versions, func(i, j int) bool { return m.Versions[i].Version < m.Versions[j].Version })
	return m
}

func parseVersion(s string) (int, bool) {
	if s == "" || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	v, err := strconv.Atoi(s)
	if err != nil || v > maxVersionNumber {
		return 0, false
	}
	return v, true
}

func scanVersion(v int, dir string) VersionDir {
	vd := VersionDir{Version: v, Path: dir}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return vd // the load reports the unreadable folder
	}
	for _, e := range entries {
		if e.Name()[0] == '.' {
			continue
		}
		st, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		vd.Files = append(vd.Files, FileStat{Name: e.Name(), Size: st.Size(), ModTime: st.ModTime()})
	}
	return vd
}
