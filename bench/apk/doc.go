// Package apkbench times `storesign apk sign` against `apksigner sign`
// (35.0.2) on the same large APK, in one run:
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/apk/
//
// BenchmarkSignVsApksigner builds a deterministic, unaligned APK of about
// 600 MB in a temporary folder (STORESIGN_BENCH_MB to change the size):
// deflated dex and XML files, stored PNG, resources.arsc and assets, and
// stored native libraries for two ABIs, about 6,000 entries. It then
// builds the storesign binary and signs the APK with it and with
// apksigner35, both with v1, v2 and v3 and the default alignment (4 bytes,
// 16 KiB for native libraries), and reports each wall time, peak RSS
// (getrusage's ru_maxrss of the child), CPU time (user and system) and
// the ratios: the medians of the runs (-benchtime 5x for five). Before
// each run the tool's previous output is deleted, every dirty page is
// synced to disk and the input is read into the page cache, so that
// neither tool pays for the other's I/O. On a busy machine wall times depend on the share of CPU
// each process gets; CPU time does not. storesign's time
// includes the verification of its output it does before renaming it into
// place; apksigner does not verify, so the benchmark also times
// `apksigner verify` on apksigner's output, the check its users run, and
// reports the ratio with it (speedup-checked-x) beside the one without
// (speedup-x). The outputs are compared too: they should be
// byte-identical.
//
// Set STORESIGN_BENCH_DIR to build the APK in that folder and reuse it in
// later runs.
//
// Targets: storesign at least 4 times faster, with at most 1/8 of
// apksigner's peak RSS. The benchmark skips when apksigner35 is not
// installed, unless STORESIGN_REQUIRE_ORACLES=1. Like every benchmark it
// does not run under plain `go test ./...`.
//
// Where the time goes (2 cores with SHA extensions, November 2026):
// storesign uses about 2.2 CPU seconds, 1.4 of them SHA-256 at about
// 1.75 GB/s per core: signing hashes the 600 MB twice (the v1 digest of
// every entry, the v2/v3 chunk digests) and the check of the output,
// which recomputes everything from the file, twice again. The rest is
// reading and writing the file (0.4 s, system time), inflating the dex
// files for their v1 digests (0.2 s, once per pass) and the rest of the
// work. Both cores are busy nearly throughout (1.2 s of wall time), so
// the wall time cannot drop much below 1.1 s on two cores without
// hashing less; apksigner takes about 3 s there (4.4 CPU seconds).
// Signing alone (0.7 s) is more than 4 times faster.
package apkbench
