// Package ipabench measures the IPA re-signing of storesign against the
// floor of reading the same archive once, on two shapes of IPA:
//
//	PATH=$PATH:~/.cache/storesign-oracles/bin \
//	go test -run '^$' -bench 'Resign$' -benchtime 5x ./bench/ipa/
//
// (-bench 'Resign$/game' for one shape; -bench . for every benchmark).
// Each shape is built once, deterministically, into the temp folder
// (storesign-bench-ipa/, which the benchmarks reuse), in a child process:
//
//   - code: about 400 MiB of content, 40% in the main executable, 25% in
//     four frameworks and an app extension with multi-MB binaries, the
//     rest in thousands of resource files of 1 to 64 KiB, some deflated
//     and some stored;
//   - game: an IPA of about 320 MB shaped like an Unreal or Unity game:
//     70% of its bytes in five asset bundles of incompressible bytes
//     (three stored, two deflated), a 107 MB main executable, two
//     frameworks, a widget extension, a Settings.bundle, twelve .lproj
//     folders and about 3,900 small files (text, images, sounds,
//     shaders), every folder with its own entry as Xcode's ditto writes
//     them.
//
// STORESIGN_BENCH_MIB changes the size of both (the game's is then a
// little more than that many MiB).
//
// BenchmarkFloor reads, inflates and hashes (SHA-1 and SHA-256) every
// entry once, with one worker per core (GOMAXPROCS, the parallelism
// storesign has too): no re-signing tool can do less.
// The floor writes nothing; storesign also writes the output (about 1.1
// times the input for the game), checks it and syncs it to disk.
// BenchmarkResign runs the storesign binary (built for the benchmark):
// `storesign ipa resign`, which also verifies its output before renaming
// it into place. It alternates the floor and storesign b.N times (use
// -benchtime 5x on a shared machine), syncing dirty pages to disk before
// each pair, and reports medians: wall time (s/op-*), CPU time
// (cpu-s/op-*, of which sys-s/op-resign in the kernel) and the cores each
// kept busy on average (cores-*), the ratio of each run to the floor
// measured just before it (x-floor, x-floor-cpu; target: 1.5 or less),
// the peak RSS of storesign (MiB-peak-RSS, the largest of the runs;
// target: under 150 MB), the size of the output relative to the input,
// and the cores the rest of the machine used meanwhile
// (outside-cores-*, from /proc/stat: the noise of a shared machine; the
// load average before and after each shape is logged with -v).
// storesign is started from a re-exec of the test binary that reads its
// rusage: Linux counts in a child's peak RSS the peak of the process
// that started it, so the benchmark process's own memory must not be its
// parent's.
//
// BenchmarkResignFile times ipa.ResignFile in process, for -cpuprofile:
//
//	go test -run '^$' -bench 'ResignFile/game' -benchtime 3x \
//		-cpuprofile /tmp/game.prof ./bench/ipa/
//	go tool pprof -top bench/ipa.test /tmp/game.prof
//
// (STORESIGN_BENCH_LEVEL sets the compression level of rewritten
// entries); BenchmarkResignLibrary times ipa.Resign alone, without the
// check of the output.
//
// The synthetic binaries deflate about 4:3, worse than real code; the
// signed binaries are stored by default, so the output of the code shape
// is 1.23 times the input's size, of the game shape 1.1 times
// (STORESIGN_BENCH_LEVEL=1 for BenchmarkResignFile deflates them
// instead). STORESIGN_BENCH_CODE=<a large binary> fills the binaries with
// that file's bytes instead (e.g. the Go toolchain's compile, 2.6:1 at
// level 1), for IPAs cached beside the others.
package ipabench
