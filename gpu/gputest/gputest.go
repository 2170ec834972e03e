// Package gputest holds test helpers for staging memory.
package gputest

import (
	"testing"

	"github.com/nnrp-gpu/nnrp-gpu/gpu"
)

// Staging returns tracking staging pools that fail the test at cleanup if any buffer was not
// released or was released twice.
func Staging(t testing.TB) *gpu.Staging {
	t.Helper()
	s := gpu.NewStaging(gpu.StagingOptions{Track: true})
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("staging memory: %v", err)
		}
	})
	return s
}
