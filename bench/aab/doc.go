// Package aabbench times `storesign aab sign` against jarsigner 17 on
// the same large app bundle, in one run:
//
//	go test -run '^$' -bench SignVsJarsigner -benchtime 1x ./bench/aab/
package aabbench
