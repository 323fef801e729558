// Package benchmarks holds the project's Go benchmarks; benchmarks/RESULTS.md records their
// figures with the commands that measure them. Benchmarks that need the shared test data
// (see model/darknetref) skip without it.
package benchmarks
