// Package repotest holds test helpers for model repositories: the shipped files built from the
// pinned weights, and temporary repositories.
package repotest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/modelgen/modeltest"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
)

// Shipped returns the shipped repository's files (repo.ShippedFiles of the pinned weights).
func Shipped(t testing.TB) map[string][]byte {
	t.Helper()
	files, err := repo.ShippedFiles(modeltest.Weights(t))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Write writes files (slash-separated paths) under dir.
func Write(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for rel, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Dir returns a new temporary repository holding files.
func Dir(t testing.TB, files map[string][]byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "models")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	Write(t, dir, files)
	return dir
}

// Only returns the entries of files under the given model names.
func Only(files map[string][]byte, models ...string) map[string][]byte {
	out := map[string][]byte{}
	for rel, data := range files {
		for _, m := range models {
			if len(rel) > len(m) && rel[:len(m)+1] == m+"/" {
				out[rel] = data
			}
		}
	}
	return out
}
