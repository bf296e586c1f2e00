// Package drivebench measures package drive against a plain HTTP copy of
// the same bytes on the same machine:
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/drive/
//
// BenchmarkDrive moves a 1 GiB file (STORESIGN_BENCH_MIB to change it)
// down and up through a drivetest server on loopback, with every check
// package drive makes (MD5 and SHA-256 of the download, MD5 of the upload
// on both sides), and the same file down and up with net/http alone. It
// reports each throughput and the ratios drive/plain (the target is at
// least 0.8), the CPU seconds per GiB of each, how long an fsync of the
// plain copy's file takes (DownloadFile syncs its temp file before the
// rename) with the download ratio when the plain copy is charged it too,
// the cores each side keeps busy on average and the cores the machine
// spent outside the benchmark meanwhile (*-outside-cores: on a shared
// machine, read the ratios of quiet runs only), what MD5 and SHA-256
// cost per GiB here, with the ratio ceilings they set when the CPU is the
// limit: the plain copy's wall time over the least time the plain copy's
// CPU work plus the hashes can take on the machine's cores (see ceiling).
//
// The plain copy is net/http at its best: the server sends the file with
// sendfile, the upload client too (a PUT of an *os.File), the client's
// transport has 256 KiB buffers (its fastest setting), and uploads are
// kept on disk until the iteration ends, as the fake keeps its own. Each
// phase starts after a sync(2), with no dirty pages left by the one
// before.
package drivebench
