package ortexec

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCheckArgv(t *testing.T) {
	if err := checkArgv([]string{"nnrp-gpu", "serve", "--config", "/etc/nnrp.yaml"}); err != nil {
		t.Fatalf("a normal command line was refused: %v", err)
	}
	exact := []string{strings.Repeat("x", MaxArgvBytes-1)}
	if err := checkArgv(exact); err != nil {
		t.Fatalf("a command line of exactly MaxArgvBytes was refused: %v", err)
	}
	for name, args := range map[string][]string{
		"one long argument":   {"bin", strings.Repeat("x", 30000)},
		"many short ones":     append([]string{"bin"}, strings.Split(strings.Repeat("abc ", 7200), " ")...),
		"one byte over limit": {strings.Repeat("x", MaxArgvBytes)},
	} {
		err := checkArgv(args)
		if !errors.Is(err, ErrLibrary) || !strings.Contains(err.Error(), "command line") {
			t.Errorf("%s: %v, want ErrLibrary naming the command line", name, err)
		}
	}
}

func TestVersionMinor(t *testing.T) {
	for v, want := range map[string]int{"VERS_1.29.0": 29, "VERS_1.27.0": 27, "VERS_1.30.1": 30} {
		if got, ok := versionMinor(v); !ok || got != want {
			t.Errorf("versionMinor(%q) = %d, %v; want %d", v, got, ok, want)
		}
	}
	for _, v := range []string{"", "VERS_2.0.0", "GLIBC_2.28", "VERS_1"} {
		if _, ok := versionMinor(v); ok {
			t.Errorf("versionMinor(%q) parsed", v)
		}
	}
}

// elfHeader returns a minimal 64-bit little-endian ELF shared-object header for machine.
func elfHeader(machine uint16) []byte {
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6] = 2, 1, 1                     // ELFCLASS64, little endian, EV_CURRENT
	binary.LittleEndian.PutUint16(h[16:], 3)       // ET_DYN
	binary.LittleEndian.PutUint16(h[18:], machine) // e_machine
	binary.LittleEndian.PutUint32(h[20:], 1)       // e_version
	binary.LittleEndian.PutUint16(h[52:], 64)      // e_ehsize
	return h
}

func TestCheckLibrary(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	other := uint16(183) // EM_AARCH64
	if goarchELF["amd64"] != 62 {
		t.Fatal("EM_X86_64 mapping is wrong")
	}
	if m, ok := goarchELF[runtime.GOARCH]; ok && uint16(m) == other {
		other = 62
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		path string
		want string
	}{
		"missing":          {filepath.Join(dir, "nope.so"), "make ort"},
		"directory":        {dir, "not its directory"},
		"not ELF":          {write("text.so", []byte("hello, not a library")), "not an ELF"},
		"other arch":       {write("arm.so", elfHeader(other)), "No such file or directory"},
		"no OrtGetApiBase": {self, "OrtGetApiBase"},
	}
	for name, c := range cases {
		err := checkLibrary(c.path)
		if !errors.Is(err, ErrLibrary) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want ErrLibrary mentioning %q", name, err, c.want)
		}
	}
	if lib := os.Getenv(LibraryEnv); lib != "" {
		if err := checkLibrary(lib); err != nil {
			t.Errorf("the real library %s was refused: %v", lib, err)
		}
	}
}
