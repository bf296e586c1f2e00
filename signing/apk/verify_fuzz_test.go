package apk

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/elliptic"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

// vFuzzSeeds returns signed APKs to seed the fuzzers: made by Sign, plus
// a few corpus APKs when the corpus is there (read, never copied).
func vFuzzSeeds(f *testing.F) [][]byte {
	f.Helper()
	// Small inputs: coverage instrumentation makes hashing and public key
	// arithmetic slow, and big seeds starve the fuzzer.
	rsaID := signingtest.SelfSigned("fuzz rsa", signingtest.RSAKey("fuzz rsa", 1024))
	ecID := signingtest.SelfSigned("fuzz ec", signingtest.ECKey("fuzz ec", elliptic.P256()))
	sign := func(minSDK int, id *signing.Identity) []byte {
		var in bytes.Buffer
		zw := zip.NewWriter(&in)
		w, _ := zw.Create("AndroidManifest.xml")
		w.Write(signingtest.AndroidManifest(signingtest.APKOptions{MinSDK: minSDK}))
		w, _ = zw.CreateHeader(&zip.FileHeader{Name: "classes.dex", Method: zip.Store})
		w.Write([]byte("dex\n035\x00 a tiny fuzz seed"))
		if err := zw.Close(); err != nil {
			f.Fatal(err)
		}
		var out bytes.Buffer
		if _, err := Sign(context.Background(), bytes.NewReader(in.Bytes()), int64(in.Len()), &out, Options{Identity: id, Rand: signingtest.Reader("fuzz")}); err != nil {
			f.Fatal(err)
		}
		return out.Bytes()
	}
	seeds := [][]byte{sign(21, rsaID), sign(28, ecID)}
	if dir := os.Getenv("STORESIGN_CORPUS"); dir != "" && !testing.Short() {
		for _, name := range []string{"v31-ec-p256-2-tgt-33-1-tgt-28-targetSdk-30.apk", "v1-only-10-signers.apk", "v2-only-two-signers.apk"} {
			if b, err := os.ReadFile(filepath.Join(dir, "android", "verify", name)); err == nil {
				seeds = append(seeds, b)
			}
		}
	}
	return seeds
}

// vBlocks returns the v2/v3/v3.1 block values of an APK.
func vBlocks(apk []byte) [][]byte {
	a, err := zipx.Read(bytes.NewReader(apk), int64(len(apk)))
	if err != nil {
		return nil
	}
	blk, err := findSigningBlockForVerify(bytes.NewReader(apk), a)
	if err != nil {
		return nil
	}
	var out [][]byte
	for _, id := range []uint32{vBlockIDV2, vBlockIDV3, vBlockIDV31} {
		if v, err := blk.find(id); err == nil {
			out = append(out, v)
		}
	}
	return out
}

// FuzzVerify runs the whole verifier on arbitrary archives: it must not
// panic, and must give either an error or a result.
func FuzzVerify(f *testing.F) {
	for _, s := range vFuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Verify(context.Background(), bytes.NewReader(data), int64(len(data)), VerifyOptions{})
		if err == nil && res == nil {
			t.Fatal("no result and no error")
		}
		if err == nil && (!res.Verified || len(res.Signers) == 0) {
			t.Fatalf("no error, but verified=%v with %d signers", res.Verified, len(res.Signers))
		}
		if errors.Is(err, ErrNotVerified) && (res == nil || res.Verified || len(res.Errors) == 0) {
			t.Fatalf("%v without a result saying why", err)
		}
	})
}

// FuzzSigningBlock fuzzes the APK Signing Block locator and its ID-value
// pairs, with the bytes placed before a central directory.
func FuzzSigningBlock(f *testing.F) {
	for _, s := range vFuzzSeeds(f) {
		a, err := zipx.Read(bytes.NewReader(s), int64(len(s)))
		if err != nil {
			continue
		}
		if blk, err := findSigningBlockForVerify(bytes.NewReader(s), a); err == nil {
			f.Add(s[blk.offset:a.CDOffset])
		}
	}
	f.Add([]byte("APK Sig Block 42"))
	f.Fuzz(func(t *testing.T, block []byte) {
		// An empty zip (EOCD only) whose central directory starts after
		// the block.
		eocd := make([]byte, 22)
		copy(eocd, []byte{0x50, 0x4b, 0x05, 0x06})
		eocd[16] = byte(len(block))
		eocd[17] = byte(len(block) >> 8)
		eocd[18] = byte(len(block) >> 16)
		eocd[19] = byte(len(block) >> 24)
		apk := append(bytes.Clone(block), eocd...)
		a, err := zipx.Read(bytes.NewReader(apk), int64(len(apk)))
		if err != nil {
			return
		}
		blk, err := findSigningBlockForVerify(bytes.NewReader(apk), a)
		if err != nil {
			return
		}
		for _, id := range []uint32{vBlockIDV2, vBlockIDV3, vBlockIDV31, 0} {
			blk.find(id)
		}
	})
}

// FuzzSchemeSigners fuzzes the v2/v3 signer parser (and the lineage
// parser behind it) on block values.
func FuzzSchemeSigners(f *testing.F) {
	for _, s := range vFuzzSeeds(f) {
		for _, b := range vBlocks(s) {
			f.Add(b, uint8(0))
			f.Add(b, uint8(1))
		}
	}
	f.Fuzz(func(t *testing.T, block []byte, scheme uint8) {
		p := &vSchemeParams{scheme: []int{vSchemeV2, vSchemeV3, vSchemeV31}[int(scheme)%3], minSDK: 24, maxSDK: 1<<31 - 1,
			supported: vSupportedSchemes(1<<31 - 1), found: map[int]bool{}}
		res, _ := parseSignersForVerify(block, p)
		if p.scheme != vSchemeV2 && !res.hasErrors() {
			checkV3RangesForVerify(res, p)
		}
		parseLineageForVerify(block)
	})
}

// FuzzJarSignatureBlock fuzzes the PKCS#7 parser of v1 signature blocks.
func FuzzJarSignatureBlock(f *testing.F) {
	for _, s := range vFuzzSeeds(f) {
		a, err := zipx.Read(bytes.NewReader(s), int64(len(s)))
		if err != nil {
			continue
		}
		for _, e := range a.Entries {
			if filepath.Ext(e.Name) == ".RSA" || filepath.Ext(e.Name) == ".EC" {
				if b, err := e.ReadAll(bytes.NewReader(s), a.CDOffset, 1<<20); err == nil {
					f.Add(b)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		p, err := vParsePKCS7(der)
		if err != nil {
			return
		}
		for i := range p.signers {
			if c := p.findCert(p.signers[i]); c != nil {
				p.chain(c)
			}
		}
	})
}

// FuzzJarManifest fuzzes the lenient manifest parser: sections lie in
// the input, in order, without overlap.
func FuzzJarManifest(f *testing.F) {
	f.Add([]byte("Manifest-Version: 1.0\r\nCreated-By: 1.0 (Android)\r\n\r\nName: classes.dex\r\nSHA-256-Digest: abc=\r\n\r\n"))
	f.Add([]byte("Signature-Version: 1.0\nX-Android-APK-Signed: 2, 3\n\nName: a\n b\nSHA1-Digest: x\n\n\n\nName: c\rSHA1-Digest: y"))
	f.Add([]byte("Name : odd\r\nnovalue\r\n \r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		main, secs := vParseMF(data)
		end := main.start + main.size
		if main.start < 0 || end > len(data) {
			t.Fatalf("main section [%d,%d) outside %d bytes", main.start, end, len(data))
		}
		for _, s := range secs {
			if s.start < end || s.start+s.size > len(data) || s.size <= 0 {
				t.Fatalf("section [%d,+%d) overlaps or leaves the input (%d bytes, previous end %d)", s.start, s.size, len(data), end)
			}
			end = s.start + s.size
		}
	})
}
