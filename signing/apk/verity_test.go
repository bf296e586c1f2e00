package apk

import (
	"bytes"
	"crypto"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing/signingtest"
)

// unalignedVerityAPK signs, with a v2 verity signature, an APK whose
// APK Signing Block starts where its entries end, off a 4096-byte
// boundary: every digest and signature matches those bytes, but the
// VERITY_CHUNKED_SHA256 digest is only defined over page-aligned
// entries (apksig's VerityTreeBuilder refuses others).
func unalignedVerityAPK(t *testing.T) []byte {
	t.Helper()
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 24})
	a, err := zipx.Read(bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	entries, cd := in[:a.CDOffset], in[a.CDOffset:a.CDOffset+a.CDSize]
	if len(entries)%pageAlignment == 0 {
		t.Fatalf("the entries end on a page boundary (%d bytes)", len(entries))
	}
	off, on := false, true
	c, err := newConfig(signingtest.SelfSigned("unaligned verity", nil), 24, Options{
		V1SigningEnabled: &off, V2SigningEnabled: &on, V3SigningEnabled: &off, VerityEnabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	eocd := slices.Clone(a.EOCD)
	binary.LittleEndian.PutUint32(eocd[16:], uint32(len(entries)))
	var chunks [][]byte
	for _, b := range [][]byte{entries, cd, eocd} {
		chunks = append(chunks, chunkDigests(crypto.SHA256, b)...)
	}
	data := slices.Concat(entries, cd, eocd)
	_, root := merkleTree(merkleLeaves(data, veritySalt()), veritySalt())
	digests := map[crypto.Hash][]byte{
		crypto.SHA256: topDigest(crypto.SHA256, chunks),
		verityKey:     binary.LittleEndian.AppendUint64(root, uint64(len(data))),
	}
	block, err := c.signingBlock(digests, nil)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(eocd[16:], uint32(len(entries)+len(block)))
	return slices.Concat(entries, block, cd, eocd)
}

// TestVerifyRefusesUnalignedVerity refuses a verity signature over
// entries that do not end on a page boundary, as apksig and Android do,
// though its digests match; the chunked signature alone, below Android
// 9 (API 28) where verity signatures are not read, still verifies.
func TestVerifyRefusesUnalignedVerity(t *testing.T) {
	out := unalignedVerityAPK(t)
	res, err := Verify(t.Context(), bytes.NewReader(out), int64(len(out)), VerifyOptions{})
	if err == nil || res == nil || res.Verified {
		t.Fatalf("Verify = %+v, %v; want refused", res, err)
	}
	if !strings.Contains(strings.Join(res.Errors, "\n"), "not aligned on 4k boundary") {
		t.Errorf("errors %q, want one saying the block is not page aligned", res.Errors)
	}
	res, err = Verify(t.Context(), bytes.NewReader(out), int64(len(out)), VerifyOptions{MinSDK: 24, MaxSDK: 27})
	if err != nil || !res.Verified {
		t.Fatalf("Verify for API 24 to 27 = %+v, %v; want verified", res, err)
	}
}

// TestVerifyRefusesUnalignedVerityApksigner checks apksigner 35 refuses
// unalignedVerityAPK too.
func TestVerifyRefusesUnalignedVerityApksigner(t *testing.T) {
	tool := testenv.Tool(t, "apksigner35")
	path := filepath.Join(t.TempDir(), "unaligned-verity.apk")
	if err := os.WriteFile(path, unalignedVerityAPK(t), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", "-v", path).CombinedOutput()
	if err == nil {
		t.Fatalf("apksigner verify accepts it:\n%s", out)
	}
	t.Logf("apksigner 35: %v\n%s", err, out)
}

// TestVerifyV4WithVerity checks the .idsig of an APK with verity
// signatures, which names the verity content digest (as apksig's does,
// byte for byte: TestSignAgreesWithApksigner).
func TestVerifyV4WithVerity(t *testing.T) {
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 24, Assets: 3})
	var out, sig bytes.Buffer
	_, err := Sign(t.Context(), bytes.NewReader(in), int64(len(in)), &out, Options{
		Identity: signingtest.SelfSigned("v4 verity", nil), V4SigningEnabled: true, V4Signature: &sig, VerityEnabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Verify(t.Context(), bytes.NewReader(out.Bytes()), int64(out.Len()), VerifyOptions{
		V4Signature: bytes.NewReader(sig.Bytes()), V4SignatureSize: int64(sig.Len()),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.V4 || !res.V2 || !res.V3 {
		t.Fatalf("V2 %v, V3 %v, V4 %v (%q), want all", res.V2, res.V3, res.V4, res.V4Errors)
	}
}

// TestVerifyBrokenVeritySignature refuses an APK whose verity signature
// (the second of its v2 signer) does not verify, as apksigner 35 does,
// from Android 9 (API 28) on: below it the verity signature is not read.
func TestVerifyBrokenVeritySignature(t *testing.T) {
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 24})
	off := false
	var out bytes.Buffer
	_, err := Sign(t.Context(), bytes.NewReader(in), int64(len(in)), &out, Options{
		Identity:         signingtest.SelfSigned("broken verity", signingtest.RSAKey("broken verity", 2048)),
		V1SigningEnabled: &off, V3SigningEnabled: &off, VerityEnabled: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The VERITY_RSA_PKCS1_V1_5_WITH_SHA256 signature record: its length,
	// algorithm ID and a 256-byte signature.
	rec := binary.LittleEndian.AppendUint32(nil, 4+4+256)
	rec = binary.LittleEndian.AppendUint32(rec, 0x0421)
	rec = binary.LittleEndian.AppendUint32(rec, 256)
	apk := out.Bytes()
	i := bytes.Index(apk, rec)
	if i < 0 || bytes.Index(apk[i+1:], rec) >= 0 {
		t.Fatal("no single verity signature record")
	}
	apk[i+len(rec)+100] ^= 1
	for _, tc := range []struct {
		name   string
		opts   VerifyOptions
		args   []string
		verify bool
	}{
		{"default", VerifyOptions{}, nil, false},
		{"api28", VerifyOptions{MinSDK: 28}, []string{"--min-sdk-version", "28"}, false},
		{"api24-27", VerifyOptions{MinSDK: 24, MaxSDK: 27}, []string{"--min-sdk-version", "24", "--max-sdk-version", "27"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Verify(t.Context(), bytes.NewReader(apk), int64(len(apk)), tc.opts)
			if tc.verify != (err == nil) || res == nil || res.Verified != tc.verify {
				t.Fatalf("Verify = %v, want verified %v", err, tc.verify)
			}
			if !tc.verify && !strings.Contains(strings.Join(res.Errors, "\n"), "VERITY_RSA_PKCS1_V1_5_WITH_SHA256 signature over signed-data did not verify") {
				t.Errorf("errors %q, want the verity signature's", res.Errors)
			}
			tool := testenv.Tool(t, "apksigner35")
			path := filepath.Join(t.TempDir(), "broken-verity.apk")
			if err := os.WriteFile(path, apk, 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := exec.Command(tool, append(append([]string{"verify"}, tc.args...), path)...).CombinedOutput()
			if (err == nil) != tc.verify {
				t.Errorf("apksigner 35 verify: %v\n%s", err, got)
			}
		})
	}
}

// TestVeritySHA512Signer checks that VerityEnabled changes nothing for a
// key that signs over SHA-512 (RSA 4096), which apksig gives no verity
// variant.
func TestVeritySHA512Signer(t *testing.T) {
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 24})
	id := signingtest.SelfSigned("verity 4096", signingtest.RSAKey("verity 4096", 4096))
	sign := func(verity bool) []byte {
		var out bytes.Buffer
		if _, err := Sign(t.Context(), bytes.NewReader(in), int64(len(in)), &out, Options{Identity: id, VerityEnabled: verity}); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	if !bytes.Equal(sign(true), sign(false)) {
		t.Error("VerityEnabled changed the APK signed with an RSA 4096 key")
	}
}
