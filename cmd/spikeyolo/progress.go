package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress is a progress bar on stderr, in ticks simulated, for the commands that run long:
// it shows the ticks done and the time left, and is silent with --quiet or when stderr is not
// a terminal (a log, a pipe, a test). A nil progress does nothing.
type progress struct {
	bar  *progressbar.ProgressBar
	base int // the ticks of the runs finished before the current one
}

// newProgress returns a bar for total ticks, described by what, or nil when it must be silent.
func newProgress(stderr io.Writer, quiet bool, total int, what string) *progress {
	f, ok := stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &progress{bar: progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))}
}

// run returns the callback for one run of ticks ticks (a chip.Probe's Progress), and counts
// the run as finished in the bar when the next one starts.
func (p *progress) run(ticks int) func(int) {
	if p == nil {
		return nil
	}
	base := p.base
	p.base += ticks
	return func(done int) { _ = p.bar.Set(base + done) }
}

// finish clears the bar.
func (p *progress) finish() {
	if p != nil {
		_ = p.bar.Finish()
	}
}
