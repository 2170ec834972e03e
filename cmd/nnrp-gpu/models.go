package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/runtime/ortexec"
	"github.com/nnrp-gpu/nnrp-gpu/runtime/repo"
)

const modelsUsage = `usage: nnrp-gpu models <command> [flags]

commands:
  validate DIR   check a model repository completely: layout, configs, every version loaded with
                 its backend and warmed up, degraded variants; exit 1 listing every problem
  list DIR       load the repository as serve would and print models, versions, backend, I/O,
                 execution provider and CUDA fallback reason
  build          regenerate the shipped models (byte-identical) from the pinned websr weights

Run 'nnrp-gpu models <command> --help' for its flags.
`

func cmdModels(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, modelsUsage)
		return 2
	}
	switch args[0] {
	case "validate":
		return cmdModelsValidate(args[1:], os.Stdout, os.Stderr)
	case "list":
		return cmdModelsList(args[1:], os.Stdout, os.Stderr)
	case "build":
		return cmdModelsBuild(args[1:], os.Stdout, os.Stderr)
	case "-h", "--help", "help":
		fmt.Print(modelsUsage)
		return 0
	}
	fmt.Fprintf(os.Stderr, "nnrp-gpu models: unknown command %q\n\n%s", args[0], modelsUsage)
	return 2
}

// initORT loads the ONNX Runtime library from path (or ORT_LIB). It returns nil when neither is
// set (models with backend onnxruntime then fail to load, saying so) and an error when the library
// is set but unusable.
func initORT(path string) error {
	if path == "" {
		path = os.Getenv(ortexec.LibraryEnv)
	}
	if path == "" {
		return nil
	}
	return ortexec.Init(path)
}

// parseDirCommand parses `<cmd> [flags] DIR`, accepting flags after DIR too.
func parseDirCommand(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	rest := fs.Args()
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		dir := rest[0]
		if err := fs.Parse(rest[1:]); err != nil {
			return "", err
		}
		if fs.NArg() > 0 {
			return "", fmt.Errorf("unexpected arguments %q", fs.Args())
		}
		return dir, nil
	}
	return "", errors.New("give the repository directory, e.g. models")
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

func cmdModelsValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("models validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ortLib := fs.String("ort-lib", "", "ONNX Runtime library `FILE` (default $ORT_LIB)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nnrp-gpu models validate [flags] DIR\n\nflags:\n")
		fs.PrintDefaults()
	}
	dir, err := parseDirCommand(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "nnrp-gpu models validate:", err)
		return 2
	}
	ctx, stop := signalContext()
	defer stop()
	var problems []error
	if err := initORT(*ortLib); err != nil {
		problems = append(problems, err)
	} else if !ortexec.Initialized() {
		problems = append(problems, errors.New("ONNX Runtime is not loaded: set ORT_LIB (run `make ort`) or pass --ort-lib; models with backend onnxruntime cannot be checked without it"))
	}
	r := repo.Validate(ctx, dir, repo.ValidateOptions{})
	for _, m := range r.Models {
		var vs []string
		for _, v := range m.Versions {
			s := fmt.Sprintf("%d (%s", v.Version, v.Provider)
			if v.FallbackReason != "" {
				s += ", CUDA fallback"
			}
			s += fmt.Sprintf(", load %s, warm-up %s)", seconds(v.LoadSeconds), seconds(v.WarmupSeconds))
			vs = append(vs, s)
		}
		if len(vs) == 0 {
			vs = []string{"none loaded"}
		}
		fmt.Fprintf(stdout, "%-28s %-12s versions: %s\n", m.Name, m.Backend, strings.Join(vs, "; "))
	}
	problems = append(problems, r.Problems...)
	if len(problems) == 0 {
		fmt.Fprintf(stdout, "%s: %d models, no problems\n", dir, len(r.Models))
		return 0
	}
	fmt.Fprintf(stderr, "%s: %d problems:\n", dir, len(problems))
	for _, p := range problems {
		fmt.Fprintf(stderr, "  %s\n", strings.ReplaceAll(p.Error(), "\n", "\n    "))
	}
	return 1
}

func seconds(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(100 * time.Microsecond).String()
}

func cmdModelsList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("models list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ortLib := fs.String("ort-lib", "", "ONNX Runtime library `FILE` (default $ORT_LIB)")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nnrp-gpu models list [flags] DIR\n\nLoads the newest loadable version of every model (as serve does) and prints what serves.\n\nflags:\n")
		fs.PrintDefaults()
	}
	dir, err := parseDirCommand(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "nnrp-gpu models list:", err)
		return 2
	}
	if err := initORT(*ortLib); err != nil {
		fmt.Fprintln(stderr, "nnrp-gpu models list:", err)
		return 1
	}
	ctx, stop := signalContext()
	defer stop()
	mgr, err := repo.Open(ctx, repo.Options{Dir: dir, NoWatch: true, Rescan: -1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(stderr, "nnrp-gpu models list:", err)
		return 1
	}
	status, strays := mgr.Status()
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = mgr.Close(cctx)
	cancel()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		var strs []string
		for _, p := range strays {
			strs = append(strs, p.Error())
		}
		if err := enc.Encode(struct {
			Models   []repo.ModelStatus
			Problems []string
		}{status, strs}); err != nil {
			fmt.Fprintln(stderr, "nnrp-gpu models list:", err)
			return 1
		}
	} else {
		printStatus(stdout, status, strays)
	}
	for _, s := range status {
		if s.State != repo.StateServing {
			return 1
		}
	}
	return 0
}

func printStatus(w io.Writer, status []repo.ModelStatus, strays repo.Problems) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tVERSION\tSTATE\tBACKEND\tPROVIDER\tTILES\tSCALE\tHALO\tINPUTS\tOUTPUTS")
	for _, s := range status {
		if v := s.Serving; v != nil {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", s.Name, v.Version, s.State, v.Backend, v.Provider,
				dash(v.TileSizes), v.Scale, v.Halo, dash(strings.Join(v.Inputs, "; ")), dash(strings.Join(v.Outputs, "; ")))
		} else {
			fmt.Fprintf(tw, "%s\t-\t%s\t-\t-\t-\t-\t-\t-\t-\n", s.Name, s.State)
		}
	}
	_ = tw.Flush()
	for _, s := range status {
		var notes []string
		if len(s.Versions) > 0 {
			notes = append(notes, fmt.Sprintf("version folders: %v", s.Versions))
		}
		if v := s.Serving; v != nil {
			if v.FallbackReason != "" {
				notes = append(notes, "CUDA fallback: "+v.FallbackReason)
			}
			if v.Degraded != "" {
				notes = append(notes, "degraded variant: "+v.Degraded)
			}
			notes = append(notes, fmt.Sprintf("load %s, warm-up %s", seconds(v.LoadSeconds), seconds(v.WarmupSeconds)))
		}
		if s.Problem != "" {
			notes = append(notes, "problem: "+s.Problem)
		}
		for _, f := range s.Failures {
			if f.Error != s.Problem {
				notes = append(notes, fmt.Sprintf("version %d failed: %s", f.Version, f.Error))
			}
		}
		notes = append(notes, s.Warnings...)
		if len(notes) > 0 {
			fmt.Fprintf(w, "%s:\n", s.Name)
			for _, n := range notes {
				fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(n, "\n", "\n    "))
			}
		}
	}
	for _, p := range strays {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdModelsBuild(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("models build", flag.ContinueOnError)
	fs.SetOutput(stderr)
	weights := fs.String("weights", repo.DefaultWeightsPath, "the pinned websr weights `FILE` (cnn-2x-s-rl.json of @websr/websr@0.0.15)")
	out := fs.String("out", "models", "repository `DIR` to write")
	check := fs.Bool("check", false, "write nothing; exit 1 if DIR differs from what would be written")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nnrp-gpu models build [flags]\n\nRegenerates the shipped repository (%s, %s, %s) byte for byte.\nFiles are replaced atomically, so a running server picks them up safely.\n\nflags:\n",
			repo.ShippedSR, repo.ShippedBilinear, repo.ShippedEcho)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "nnrp-gpu models build: unexpected arguments %q\n", fs.Args())
		return 2
	}
	data, err := os.ReadFile(*weights)
	if err != nil {
		fmt.Fprintf(stderr, "nnrp-gpu models build: --weights: %v (run it from the source tree, or give the weights file)\n", err)
		return 1
	}
	files, err := repo.ShippedFiles(data)
	if err != nil {
		fmt.Fprintln(stderr, "nnrp-gpu models build:", err)
		return 1
	}
	if *check {
		diff, err := repo.DiffFiles(*out, files)
		if err != nil {
			fmt.Fprintln(stderr, "nnrp-gpu models build:", err)
			return 1
		}
		if len(diff) > 0 {
			fmt.Fprintf(stderr, "%s is not what `nnrp-gpu models build` writes:\n  %s\n", *out, strings.Join(diff, "\n  "))
			return 1
		}
		fmt.Fprintf(stdout, "%s: %d files up to date\n", *out, len(files))
		return 0
	}
	wrote, err := repo.WriteFiles(*out, files)
	for _, p := range wrote {
		fmt.Fprintln(stdout, "wrote", p)
	}
	if err != nil {
		fmt.Fprintln(stderr, "nnrp-gpu models build:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d files, %d changed\n", *out, len(files), len(wrote))
	return 0
}
