package repo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a model repository: the file, the field (with its line and
// offending value when known), what is wrong and how to fix it. Its text reads
//
//	models/sr/config.yaml:7: inputs[0].name "x": the model has no input "x"; its inputs are: input [N,3,H,W] float32
type Problem struct {
	File  string // the file (or directory) at fault, as the repository path was given
	Line  int    // line in File, 0 when not applicable
	Field string // the config field path, e.g. "inputs[0].name"; "" for the whole file
	Value string // the offending value, formatted for display ("" when none)
	Msg   string // what is wrong
	Fix   string // how to fix it ("" when Msg says it all)
}

func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(p.Line))
	}
	if p.Field != "" {
		b.WriteString(": ")
		b.WriteString(p.Field)
		if p.Value != "" {
			b.WriteString(" ")
			b.WriteString(p.Value)
		}
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	if p.Fix != "" {
		b.WriteString("; ")
		b.WriteString(p.Fix)
	}
	return b.String()
}

// Is makes every Problem match ErrInvalid.
func (p *Problem) Is(target error) bool { return target == ErrInvalid }

// Problems is a list of problems; as an error it prints one per line.
type Problems []*Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the problems to errors.Is and errors.As.
func (ps Problems) Unwrap() []error {
	out := make([]error, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// Err returns ps as an error, or nil when it is empty.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// AsProblems returns the problems inside err (a Problems or a *Problem), or nil.
func AsProblems(err error) Problems {
	var ps Problems
	if errors.As(err, &ps) {
		return ps
	}
	var p *Problem
	if errors.As(err, &p) {
		return Problems{p}
	}
	return nil
}

// Errors of the repository. Every error is one of them or wraps one.
var (
	// ErrInvalid: the repository, a config or a model breaks the format (see Problem).
	ErrInvalid = errors.New("repo: invalid model repository")
	// ErrUnknownModel: no model of that name is being served.
	ErrUnknownModel = errors.New("repo: unknown model")
	// ErrUnavailable: the model exists but has no version that is serving (being removed, or none
	// loaded).
	ErrUnavailable = errors.New("repo: model unavailable")
	// ErrLoad: a version could not be loaded or warmed up.
	ErrLoad = errors.New("repo: model load failed")
	// ErrClosed: the manager is closed.
	ErrClosed = errors.New("repo: manager closed")
)

// LoadError is a version that could not be opened or warmed up: File is the model file (or the
// config of a model without one).
type LoadError struct {
	File string
	Err  error
}

func (e *LoadError) Error() string { return e.File + ": " + e.Err.Error() }

// Unwrap exposes the cause; errors.Is(err, ErrLoad) holds too.
func (e *LoadError) Unwrap() []error { return []error{ErrLoad, e.Err} }

func quote(s string) string { return strconv.Quote(s) }

func fmtValue(v any) string {
	switch x := v.(type) {
	case string:
		return quote(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
