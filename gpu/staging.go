package gpu

import "errors"

// Purposes of the staging pools.
const (
	PurposeInput  = "staging-input"  // batch inputs [B, C, th+2·halo, tw+2·halo]
	PurposeOutput = "staging-output" // batch outputs [B, C, s·th, s·tw]
)

// Staging is the pair of pools the execution path stages batches in.
type Staging struct {
	Input, Output *Pool
}

// StagingOptions configure NewStaging. Zero values take the pool defaults.
type StagingOptions struct {
	Allocator Allocator
	// MaxInputBytes and MaxOutputBytes bound each pool (0: unbounded).
	MaxInputBytes, MaxOutputBytes int64
	MaxIdleBytes                  int64
	Track                         bool
}

// NewStaging creates the input and output pools.
func NewStaging(o StagingOptions) *Staging {
	mk := func(purpose string, max int64) *Pool {
		return NewPool(PoolOptions{Purpose: purpose, Allocator: o.Allocator, MaxBytes: max, MaxIdleBytes: o.MaxIdleBytes, Track: o.Track})
	}
	return &Staging{Input: mk(PurposeInput, o.MaxInputBytes), Output: mk(PurposeOutput, o.MaxOutputBytes)}
}

// Usage returns both pools' accounting.
func (s *Staging) Usage() []Usage { return []Usage{s.Input.Usage(), s.Output.Usage()} }

// Check is Pool.Check of both pools.
func (s *Staging) Check() error { return errors.Join(s.Input.Check(), s.Output.Check()) }

// Close closes both pools (Pool.Close).
func (s *Staging) Close() error { return errors.Join(s.Input.Close(), s.Output.Close()) }
