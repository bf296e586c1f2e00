// Package drivebench measures package drive against a plain HTTP copy of
// the same bytes on the same machine:
//
//	go test -run '^$' -bench . -benchtime 1x ./bench/drive/
//
// BenchmarkDrive moves a 1 GiB file (STORESIGN_BENCH_MIB to change it)
// down and up through a drivetest server on loopback, with every check
// package drive makes (MD5 and SHA-256 of the download, MD5 of the upload
// on both sides), and the same file down and up with net/http alone. It
// reports each throughput and the ratios drive/plain; the target is at
// least 0.8.
package drivebench
