// Command nnrp-gpu is the NNRP/1 inference server and its tools.
//
//	nnrp-gpu serve    run the server
//	nnrp-gpu models   validate, list and build model repositories
//	nnrp-gpu token    mint an auth token for --auth-secret
//	nnrp-gpu version  print the version
package main

import (
	"fmt"
	"os"
	"runtime/debug"
)

var commands = []struct {
	name, summary string
	run           func(args []string) int
}{
	{"serve", "run the NNRP server", cmdServe},
	{"models", "validate, list and build model repositories", cmdModels},
	{"token", "mint an HMAC auth token accepted by serve --auth-secret", cmdToken},
	{"version", "print the version", cmdVersion},
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: nnrp-gpu <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun 'nnrp-gpu <command> --help' for the flags of a command.\n")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	if name == "-h" || name == "--help" || name == "help" {
		usage()
		return
	}
	for _, c := range commands {
		if c.name == name {
			os.Exit(c.run(os.Args[2:]))
		}
	}
	fmt.Fprintf(os.Stderr, "nnrp-gpu: unknown command %q\n\n", name)
	usage()
	os.Exit(2)
}

func cmdVersion([]string) int {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok {
		v = bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v += " " + s.Value
			}
		}
		fmt.Printf("nnrp-gpu %s (%s)\n", v, bi.GoVersion)
		return 0
	}
	fmt.Println("nnrp-gpu", v)
	return 0
}
