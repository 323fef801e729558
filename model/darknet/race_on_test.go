//go:build race

package darknet_test

// raceEnabled reports whether the test binary was built with -race, whose runtime reserves
// far more address space than the memory tests' 8 GB limit allows.
const raceEnabled = true
