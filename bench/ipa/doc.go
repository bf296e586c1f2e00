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
// entry once, on every core: no re-signing tool can do less.
// BenchmarkResign runs the storesign binary (built for the benchmark):
// `storesign ipa resign`, which also verifies its output before renaming
// it into place, and reports its wall time, its ratio to the floor
// (target: 1.5 or less) and its peak RSS (target: under 150 MB).
// BenchmarkResignLibrary times ipa.Resign alone, in process.
package ipabench
