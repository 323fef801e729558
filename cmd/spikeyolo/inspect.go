package main

import (
	"fmt"
	"io"
)

func runInspect(args []string, stdout, stderr io.Writer) error {
	var mf modelFlags
	fs := newFlags("inspect", "[flags]", "Lists the layers of a detector with their output shapes, parameters and MACs, and totals.", stdout)
	mf.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	m, err := mf.load()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "model %s\n%s", m.name, m.net.Describe())
	return nil
}
