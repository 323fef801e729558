// Command spikeyolo runs a trained darknet object detector the way a neuromorphic chip would.
//
// Usage:
//
//	spikeyolo detect [flags] [IMAGE...]   detect objects (embedded model and image by default)
//	spikeyolo map [flags]                 map a converted model onto a chip's cores
//	spikeyolo sweep [flags] [IMAGE...]    price every combination of cores, placement, routing, multicast
//	spikeyolo inspect [flags]             list a model's layers, shapes, parameters and MACs
//
// Run "spikeyolo COMMAND --help" for a command's flags. Exit status: 0 on success, 1 when a
// command fails (a bad file, an image that does not decode), 2 for a usage error.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// command is one subcommand of the tool.
type command struct {
	name, args, summary string
	run                 func(args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"detect", "[flags] [IMAGE...]", "detect objects in images (JPEG or PNG); with no image, darknet's dog.jpg", runDetect},
	{"convert", "[flags]", "convert a model into a spiking network and list its layers and factors", runConvert},
	{"map", "[flags]", "map a converted model onto a chip's cores; print the mapping, save it for --mapping", runMap},
	{"sweep", "[flags] [IMAGE...]", "run the detector on every combination of architectures, ticks, core counts, placements, routings and multicasts", runSweep},
	{"eval", "[flags] IMAGE...", "measure the spiking network's fidelity to the float one at several tick counts", runEval},
	{"inspect", "[flags]", "list a model's layers with output shapes, parameters and MACs", runInspect},
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run executes one command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		switch {
		case err == nil || errors.Is(err, pflag.ErrHelp):
			return 0
		case errors.As(err, new(usageError)):
			fmt.Fprintf(stderr, "spikeyolo %s: %v (see spikeyolo %s --help)\n", c.name, err, c.name)
			return 2
		default:
			fmt.Fprintf(stderr, "spikeyolo %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "spikeyolo: unknown command %q (commands: %s)\n", args[0], commandNames())
	return 2
}

func commandNames() string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "spikeyolo runs a trained darknet object detector the way a neuromorphic chip would.")
	fmt.Fprintln(w, "\nUsage:")
	for _, c := range commands {
		fmt.Fprintf(w, "  spikeyolo %-8s %-20s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'spikeyolo COMMAND --help' for a command's flags.")
}

// newFlags makes a command's flag set; parse errors become usage errors.
func newFlags(c, args, about string, stdout io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(c, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: spikeyolo %s %s\n\n%s\n\nFlags:\n%s", c, args, about, fs.FlagUsages())
	}
	return fs
}

// parse parses args; --help prints the usage (pflag calls fs.Usage) and returns
// pflag.ErrHelp.
func parse(fs *pflag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, pflag.ErrHelp) {
		return err
	}
	if err != nil {
		return usageError{err.Error()}
	}
	return nil
}
