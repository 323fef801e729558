//go:build linux

package darknet_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"spikeyolo/model/darknet"
)

// TestParseConfigHugeAllocation: ParseConfig allocates every convolution's parameters (and
// every yolo mask) as it reads the cfg. A cfg whose numbers ask for more memory than there
// is must give an error, not the runtime's fatal "out of memory", which recover cannot catch
// and which kills the program. Each cfg is parsed in a child process limited to 8 GB of
// address space, so that a failure here cannot take the test binary, or the machine, down.
func TestParseConfigHugeAllocation(t *testing.T) {
	if cfg, ok := os.LookupEnv("DARKNET_TEST_CHILD_CFG"); ok {
		lim := syscall.Rlimit{Cur: 8 << 30, Max: 8 << 30}
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
			os.Stdout.WriteString("setrlimit: " + err.Error() + "\n")
			os.Exit(4)
		}
		if _, err := darknet.ParseConfig(strings.NewReader(cfg), "x.cfg"); err == nil {
			os.Stdout.WriteString("no error\n")
			os.Exit(3)
		}
		os.Exit(0)
	}
	if raceEnabled {
		t.Skip("the race detector's runtime needs more than the 8 GB address-space limit; run without -race")
	}
	tests := []struct{ name, cfg string }{
		// Control: an ordinary error in the same setting.
		{"control", "[net]\n"},
		// Found by FuzzParseConfig: 6·777777771·3·3 weights, 168 GB.
		{"777777771 channels", "[net]\nwidth=1\nheight=1\nchannels=777777771\n[upsample]\nstride=3\n[convolutional]\nfilters=6\nsize=3\npadding=2\n[yolo]\nclasses=1\nanchors=1,2\n"},
		// Found by FuzzParseConfig: 4·666663² weights, 7 TB.
		{"depthwise size=666663", netHdr(4, 6, 4) + "[convolutional]\nfilters=4\ngroups=4\nsize=666663\npad=1\n"},
		{"filters=1000000 size=1000", netHdr(1, 1, 1) + "[convolutional]\nfilters=1000000\nsize=1000\npad=1\n"},
		// The default mask 0..num-1 is built before the anchors are counted.
		{"yolo num=10000000000", netHdr(1, 1, 1) + "[convolutional]\nfilters=6\n[yolo]\nnum=10000000000\nclasses=1\nanchors=1,2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestParseConfigHugeAllocation$")
			cmd.Env = append(os.Environ(), "DARKNET_TEST_CHILD_CFG="+tt.cfg)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var exit *exec.ExitError
			switch {
			case err == nil:
			case errors.As(err, &exit) && exit.ExitCode() == 3:
				t.Errorf("ParseConfig accepted the cfg:\n%s", tt.cfg)
			default:
				first, _, _ := strings.Cut(out.String(), "\n\n")
				t.Errorf("ParseConfig killed the process (%v):\n%s\ncfg:\n%s", err, first, tt.cfg)
			}
		})
	}
}
