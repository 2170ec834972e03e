package repo

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder decodes a YAML node tree into a struct strictly, field by field, so that every problem
// names the field path and line: unknown keys (with the known ones and a suggestion), duplicate
// keys, and values of the wrong kind or type.
type decoder struct {
	file  string
	probs Problems
	lines map[string]int // path of every field present → line
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

var yamlLine = regexp.MustCompile(`line (\d+)`)

func (d *decoder) yamlSyntax(err error) *Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	p := &Problem{File: d.file, Msg: "is not valid YAML: " + msg, Fix: "fix the syntax (indent with spaces; quote values containing ': ')"}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
	}
	return p
}

func (d *decoder) bad(n *yaml.Node, path, value, msg, fix string) {
	d.probs = append(d.probs, &Problem{File: d.file, Line: n.Line, Field: path, Value: value, Msg: msg, Fix: fix})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decode stores node n into the value v points to (a pointer to a struct at the root).
func (d *decoder) decode(n *yaml.Node, ptr any, path string) {
	d.value(n, reflect.ValueOf(ptr).Elem(), path)
}

func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		delete(d.lines, path) // `key:` with nothing after it: the field is absent
		return
	}
	if _, keyed := d.lines[path]; path != "" && !keyed {
		d.lines[path] = n.Line
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.bad(n, path, "", err.Error(), "")
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.mapping(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.bad(n, path, "", "must be a list", "write [a, b] or one `- item` per line")
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.value(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	default:
		if n.Kind != yaml.ScalarNode {
			d.bad(n, path, "", "must be "+kindName(v.Kind())+", not a list or mapping", "")
			return
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			var te *yaml.TypeError
			if errors.As(err, &te) {
				d.bad(n, path, quote(n.Value), "is not "+kindName(v.Kind()), "")
			} else {
				d.bad(n, path, quote(n.Value), err.Error(), "")
			}
		}
	}
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	t := v.Type()
	if n.Kind != yaml.MappingNode {
		where := "the file"
		if path != "" {
			where = path
		}
		d.bad(n, path, "", "must be a mapping of fields", fmt.Sprintf("%s takes: %s", where, strings.Join(knownFields(t), ", ")))
		return
	}
	fields := map[string]int{}
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" {
			fields[tag] = i
		}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.bad(k, p, "", fmt.Sprintf("is set twice (first on line %d)", line), "keep one")
			continue
		}
		seen[k.Value] = k.Line
		idx, ok := fields[k.Value]
		if !ok {
			fix := "known fields here: " + strings.Join(knownFields(t), ", ")
			if s := closest(k.Value, knownFields(t)); s != "" {
				fix = fmt.Sprintf("did you mean %q? %s", s, fix)
			}
			d.bad(k, p, "", "is not a known field", fix)
			continue
		}
		d.lines[p] = k.Line // the key's line, also for a list or mapping that starts below it
		d.value(val, v.Field(idx), p)
	}
}

func knownFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" {
			out = append(out, tag)
		}
	}
	return out
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "value"
}

// closest returns the candidate within edit distance 2 of s, if any.
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if dist := editDistance(s, c); dist < bestD {
			best, bestD = c, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = slices.Min([]int{prev[j] + 1, cur[j-1] + 1, prev[j-1] + cost})
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
