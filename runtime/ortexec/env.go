package ortexec

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// LibraryEnv is the environment variable Init reads when it is given no path (set by the Makefile).
const LibraryEnv = "ORT_LIB"

// RequiredAPIVersion is the ONNX Runtime C API version onnxruntime_go v1.35.0 requests. A library
// works when its minor version is at least this (ORT ≥ 1.29.0).
const RequiredAPIVersion = 29

// MaxArgvBytes is the largest command line (the sum of len(arg)+1 over os.Args) Init accepts.
// ONNX Runtime 1.29.0 and 1.30.0 crash with SIGSEGV inside CreateEnv when the command line is
// larger than about 28.9 KB (measured: a single 28,900-byte argument works, 29,000 bytes crash,
// and 7,200 four-byte arguments crash); the limit leaves a margin below that.
const MaxArgvBytes = 24 << 10

var env struct {
	mu      sync.Mutex
	path    string // set once the environment is up
	version string
}

// Init loads the ONNX Runtime shared library at libPath (LibraryEnv when libPath is empty) and
// creates the process-wide ORT environment. It is called once per process; later calls with the
// same library return nil, with a different one an error. Before the library is opened it checks
// what dlopen and CreateEnv report badly or not at all: a missing file, a library built for another
// architecture (dlopen says "No such file or directory" for an arm64 .so on amd64), one too old
// for API version 29, and a command line large enough to crash CreateEnv.
func Init(libPath string) error {
	env.mu.Lock()
	defer env.mu.Unlock()
	if libPath == "" {
		libPath = os.Getenv(LibraryEnv)
	}
	const fetch = "run `make ort` and export ORT_LIB=<repo>/third_party/onnxruntime/libonnxruntime.so.1.29.0"
	if libPath == "" {
		return newError("init", ErrLibrary, fetch, fmt.Errorf("no library path given and %s is not set", LibraryEnv))
	}
	abs, err := filepath.Abs(libPath)
	if err != nil {
		return newError("init", ErrLibrary, "pass an absolute library path", err)
	}
	if env.path != "" {
		if env.path == abs {
			return nil
		}
		return newError("init", ErrLibrary, "use one library per process",
			fmt.Errorf("already initialised with %s, asked for %s", env.path, abs))
	}
	if err := checkLibrary(abs); err != nil {
		return err
	}
	if err := checkArgv(os.Args); err != nil {
		return err
	}
	ort.SetSharedLibraryPath(abs)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		hint := fetch
		if strings.Contains(err.Error(), "Error setting ORT API base") {
			hint = fmt.Sprintf("the library does not provide ORT C API version %d; onnxruntime_go v1.35.0 needs ONNX Runtime ≥ 1.29.0", RequiredAPIVersion)
		}
		return fromORT("init "+abs, err, ErrLibrary, hint)
	}
	env.path = abs
	env.version = ort.GetVersion()
	return nil
}

// Initialized reports whether Init succeeded.
func Initialized() bool {
	env.mu.Lock()
	defer env.mu.Unlock()
	return env.path != ""
}

// LibraryVersion returns the version of the loaded ONNX Runtime, e.g. "1.29.0", or "" before Init.
func LibraryVersion() string {
	env.mu.Lock()
	defer env.mu.Unlock()
	return env.version
}

// LibraryPath returns the absolute path of the loaded library, or "" before Init.
func LibraryPath() string {
	env.mu.Lock()
	defer env.mu.Unlock()
	return env.path
}

var goarchELF = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"386":     elf.EM_386,
	"arm":     elf.EM_ARM,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
	"riscv64": elf.EM_RISCV,
}

// checkLibrary validates the file before dlopen: it exists, is an ELF shared object for this
// architecture (on Linux), exports OrtGetApiBase, and its symbol version VERS_1.<minor>.<patch> is
// new enough.
func checkLibrary(path string) error {
	op := "init " + path
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return newError(op, ErrLibrary, "run `make ort` to fetch it, or point ORT_LIB at an existing libonnxruntime.so", err)
	}
	if err != nil {
		return newError(op, ErrLibrary, "check the file's permissions", err)
	}
	if st.IsDir() {
		return newError(op, ErrLibrary, "ORT_LIB must name the libonnxruntime.so file, not its directory", errors.New("is a directory"))
	}
	if runtime.GOOS != "linux" {
		return nil // dylib/dll: left to the loader
	}
	f, err := elf.Open(path)
	if err != nil {
		return newError(op, ErrLibrary, "ORT_LIB must be the linux libonnxruntime.so from onnxruntime-node 1.29.0 (make ort)", fmt.Errorf("not an ELF shared library: %w", err))
	}
	defer func() { _ = f.Close() }()
	if want, ok := goarchELF[runtime.GOARCH]; ok && f.Machine != want {
		return newError(op, ErrLibrary,
			fmt.Sprintf("use the %s build (make ort); dlopen would only say \"No such file or directory\"", runtime.GOARCH),
			fmt.Errorf("library is built for %v but this process is %s/%s", f.Machine, runtime.GOOS, runtime.GOARCH))
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return newError(op, ErrLibrary, "ORT_LIB must be libonnxruntime.so", fmt.Errorf("read dynamic symbols: %w", err))
	}
	for _, s := range syms {
		if s.Name != "OrtGetApiBase" {
			continue
		}
		minor, ok := versionMinor(s.Version)
		if ok && minor < RequiredAPIVersion {
			return newError(op, ErrLibrary,
				fmt.Sprintf("onnxruntime_go v1.35.0 requests C API version %d: use ONNX Runtime 1.29.0 (make ort)", RequiredAPIVersion),
				fmt.Errorf("library is ONNX Runtime %s", strings.TrimPrefix(s.Version, "VERS_")))
		}
		return nil
	}
	return newError(op, ErrLibrary, "ORT_LIB must be libonnxruntime.so", errors.New("the library does not export OrtGetApiBase"))
}

// versionMinor parses "VERS_1.29.0" → 29.
func versionMinor(v string) (int, bool) {
	parts := strings.Split(strings.TrimPrefix(v, "VERS_"), ".")
	if len(parts) < 2 || parts[0] != "1" {
		return 0, false
	}
	m, err := strconv.Atoi(parts[1])
	return m, err == nil
}

// checkArgv refuses command lines large enough to crash ORT's CreateEnv (see MaxArgvBytes).
func checkArgv(args []string) error {
	n := 0
	for _, a := range args {
		n += len(a) + 1
	}
	if n > MaxArgvBytes {
		return newError("init", ErrLibrary,
			"pass long lists through a file or an environment variable instead of the command line",
			fmt.Errorf("the command line is %d bytes (%d arguments); ONNX Runtime 1.29 crashes in CreateEnv above about 28.9 KB, so ortexec refuses more than %d", n, len(args), MaxArgvBytes))
	}
	return nil
}
