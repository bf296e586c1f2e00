// Package ipabench measures the IPA re-signing of storesign against the
// floor of reading the same archive once:
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/ipa/
//
// It builds a deterministic IPA of about 400 MiB (STORESIGN_BENCH_MIB to
// change it; cached in the temp folder) with a large main executable,
// several frameworks with multi-MB binaries, an app extension and
// thousands of resource files, some deflated and some stored.
//
// BenchmarkFloor reads, inflates and hashes (SHA-1 and SHA-256) every
// entry once, with one worker per core (GOMAXPROCS, the parallelism
// storesign has too): no re-signing tool can do less.
// BenchmarkResign runs the storesign binary (built for the benchmark):
// `storesign ipa resign`, which also verifies its output before renaming
// it into place. It alternates the floor and storesign b.N times (use
// -benchtime 3x on a shared machine) and reports medians: wall and CPU
// time of each, the ratio of each run to the floor measured just before
// it (target: 1.5 or less), the peak RSS (target: under 150 MB) and the
// size of the output relative to the input.
// BenchmarkResignFile times ipa.ResignFile in process, for -cpuprofile
// (STORESIGN_BENCH_LEVEL sets the compression level of rewritten
// entries); BenchmarkResignLibrary times ipa.Resign alone.
//
// The synthetic binaries deflate about 4:3, worse than real code; the
// signed binaries are stored by default, so the output is 1.23 times the
// input's size (STORESIGN_BENCH_LEVEL=1 for BenchmarkResignFile deflates
// them instead). STORESIGN_BENCH_CODE=<a large binary> fills the binaries
// with that file's bytes instead (e.g. the Go toolchain's compile, 2.6:1
// at level 1), for a second IPA cached beside the first.
package ipabench
