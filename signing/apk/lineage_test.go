package apk_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/signingtest"
)

// corpusLineages are the lineage files of apksig's test resources, with
// their number of signers and the capabilities of their first signer.
var corpusLineages = []struct {
	name  string
	n     int
	caps0 apk.Capabilities
}{
	{"ec-p256-lineage-2-signers", 2, apk.DefaultCapabilities},
	{"rsa-1024-lineage-2-signers", 2, apk.DefaultCapabilities},
	{"rsa-2048-lineage-2-signers", 2, apk.DefaultCapabilities},
	{"rsa-2048-lineage-2-signers-2-3", 2, apk.DefaultCapabilities},
	{"rsa-2048-lineage-3-signers", 3, apk.DefaultCapabilities},
	{"rsa-2048-lineage-3-signers-1-no-caps", 3, 0},
	{"rsa-2048-lineage-no-capabilities-first-signer", 2, 0},
	{"rsa-2048-to-4096-lineage-2-signers", 2, apk.DefaultCapabilities},
}

func readCorpus(t testing.TB, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(testenv.Corpus(t, elem...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadLineageCorpus parses every lineage file of the corpus and
// writes it back byte for byte.
func TestReadLineageCorpus(t *testing.T) {
	for _, c := range corpusLineages {
		t.Run(c.name, func(t *testing.T) {
			data := readCorpus(t, "android", c.name)
			l, err := apk.ReadLineage(data)
			if err != nil {
				t.Fatal(err)
			}
			if l.Len() != c.n {
				t.Errorf("%d signers, want %d", l.Len(), c.n)
			}
			certs := l.Certificates()
			caps, err := l.Capabilities(certs[0])
			if err != nil {
				t.Fatal(err)
			}
			if caps != c.caps0 {
				t.Errorf("first signer's capabilities %#x, want %#x", caps, c.caps0)
			}
			out, err := l.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, data) {
				t.Errorf("MarshalBinary differs from the file (%d and %d bytes)", len(out), len(data))
			}
		})
	}
}

// TestReadLineageBad refuses damaged lineage files with the error that
// says why.
func TestReadLineageBad(t *testing.T) {
	good := readCorpus(t, "android", "rsa-2048-lineage-2-signers")
	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"invalid-magic", readCorpus(t, "android", "rsa-2048-lineage-invalid-magic"), apk.ErrLineageMagic},
		{"invalid-version", readCorpus(t, "android", "rsa-2048-lineage-invalid-version"), apk.ErrLineageVersion},
		{"empty", nil, apk.ErrLineageMagic},
		{"truncated", good[:len(good)-1], apk.ErrLineageMalformed},
		{"trailing", append(bytes.Clone(good), 0), apk.ErrLineageMalformed},
		{"bad-signature", corrupt(good, func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), apk.ErrLineageMalformed},
		{"inner-version", corrupt(good, func(b []byte) []byte { b[12] = 2; return b }), apk.ErrLineageVersion},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := apk.ReadLineage(c.data)
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
}

// TestLineageCapabilities changes capabilities as `apksigner lineage`
// does: only the ones asked for.
func TestLineageCapabilities(t *testing.T) {
	l, err := apk.ReadLineage(readCorpus(t, "android", "rsa-2048-lineage-3-signers"))
	if err != nil {
		t.Fatal(err)
	}
	first := l.Certificates()[0]
	no, yes := false, true
	changed, err := l.SetCapabilities(first, apk.CapabilityChange{InstalledData: &no, Rollback: &yes})
	if err != nil || !changed {
		t.Fatalf("SetCapabilities: %v, %v", changed, err)
	}
	caps, _ := l.Capabilities(first)
	if want := apk.DefaultCapabilities&^apk.CapInstalledData | apk.CapRollback; caps != want {
		t.Errorf("capabilities %#x, want %#x", caps, want)
	}
	if changed, _ := l.SetCapabilities(first, apk.CapabilityChange{Rollback: &yes}); changed {
		t.Error("setting a set capability reported a change")
	}
	other := loadKeyCert(t, testenv.Corpus(t, "android", "ec-p256.pk8"), testenv.Corpus(t, "android", "ec-p256.x509.pem"))
	var notIn *apk.CertificateNotInLineageError
	if _, err := l.SetCapabilities(other.Certificate, apk.CapabilityChange{}); !errors.As(err, &notIn) {
		t.Errorf("certificate outside the lineage: %v", err)
	}
}

// rotateCase is one `apksigner rotate` run and the lineage storesign
// makes from the same inputs.
type rotateCase struct {
	name     string
	in       string // corpus lineage to extend, or ""
	old, new string // corpus key names
	args     []string
	oldCaps  apk.CapabilityChange
	newCaps  apk.CapabilityChange
	random   bool // ECDSA: compare all but the signatures
}

// TestRotateMatchesApksigner creates and extends lineages with apksigner
// 35's `rotate` and with [apk.NewLineage] and [apk.Lineage.Rotate], and
// compares the files.
func TestRotateMatchesApksigner(t *testing.T) {
	t.Parallel()
	tool := testenv.Tool(t, "apksigner35")
	no, yes := false, true
	cases := []*rotateCase{
		{name: "rsa-2048-to-2", old: "rsa-2048", new: "rsa-2048_2"},
		{name: "rsa-2048-to-4096", old: "rsa-2048", new: "rsa-4096"},
		{name: "rsa-4096-to-2048", old: "rsa-4096", new: "rsa-2048"},
		{name: "caps", old: "rsa-2048", new: "rsa-2048_2",
			args:    []string{"--old-signer", "--set-installed-data", "false", "--set-rollback", "true", "--new-signer", "--set-auth", "false"},
			oldCaps: apk.CapabilityChange{InstalledData: &no, Rollback: &yes}, newCaps: apk.CapabilityChange{Auth: &no}},
		{name: "extend", in: "rsa-2048-lineage-2-signers", old: "rsa-2048_2", new: "rsa-2048_3",
			args: []string{"--old-signer", "--set-permission", "false"}, oldCaps: apk.CapabilityChange{Permission: &no}},
		{name: "ec-p256", old: "ec-p256", new: "ec-p256_2", random: true},
		{name: "rsa-to-ec", old: "rsa-2048", new: "ec-p256"},
		{name: "ec-to-rsa", old: "ec-p256", new: "rsa-2048", random: true},
	}
	var runs []*toolRun
	for _, c := range cases {
		out := filepath.Join(t.TempDir(), "lineage")
		args := []string{"rotate", "--out", out}
		if c.in != "" {
			args = append(args, "--in", testenv.Corpus(t, "android", c.in))
		}
		// apksigner takes each signer's options after --old-signer or
		// --new-signer: put the key files first.
		args = append(args, signerArgs(t, "--old-signer", c.old, c.args)...)
		args = append(args, signerArgs(t, "--new-signer", c.new, c.args)...)
		runs = append(runs, &toolRun{tool: tool, args: args, output: out})
	}
	runTools(runs)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := runs[i].result(t)
			old := loadKeyCert(t, testenv.Corpus(t, "android", c.old+".pk8"), testenv.Corpus(t, "android", c.old+".x509.pem"))
			nw := loadKeyCert(t, testenv.Corpus(t, "android", c.new+".pk8"), testenv.Corpus(t, "android", c.new+".x509.pem"))
			var l *apk.Lineage
			var err error
			if c.in != "" {
				if l, err = apk.ReadLineage(readCorpus(t, "android", c.in)); err != nil {
					t.Fatal(err)
				}
				if _, err := l.SetCapabilities(old.Certificate, c.oldCaps); err != nil {
					t.Fatal(err)
				}
				l, err = l.Rotate(nil, old, nw.Certificate, c.newCaps.Apply(apk.DefaultCapabilities))
			} else {
				l, err = apk.NewLineage(nil, old, c.oldCaps.Apply(apk.DefaultCapabilities), nw.Certificate, c.newCaps.Apply(apk.DefaultCapabilities))
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := l.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if c.random {
				// ECDSA signatures differ: ours must verify (ReadLineage
				// checks them), and the rest must match.
				wl, err := apk.ReadLineage(want)
				if err != nil {
					t.Fatalf("apksigner's lineage: %v", err)
				}
				if _, err := apk.ReadLineage(got); err != nil {
					t.Fatalf("our lineage: %v", err)
				}
				if apk.LineageWithoutSignatures(l) != apk.LineageWithoutSignatures(wl) {
					t.Errorf("lineage differs from apksigner 35's apart from signatures")
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Errorf("lineage differs from apksigner 35's (%d and %d bytes)", len(got), len(want))
			}
		})
	}
}

// signerArgs returns flag followed by the key and certificate of the
// corpus key name, then the capability options that follow flag in
// caps (up to the next signer flag).
func signerArgs(t testing.TB, flag, name string, caps []string) []string {
	args := []string{flag, "--key", testenv.Corpus(t, "android", name+".pk8"), "--cert", testenv.Corpus(t, "android", name+".x509.pem")}
	in := false
	for _, a := range caps {
		if strings.HasSuffix(a, "-signer") {
			in = a == flag
			continue
		}
		if in {
			args = append(args, a)
		}
	}
	return args
}

// FuzzReadLineage reads arbitrary lineage files: no panic, and what
// parses writes back as it was read.
func FuzzReadLineage(f *testing.F) {
	dir := corpusDir()
	for _, c := range corpusLineages {
		if b, err := os.ReadFile(filepath.Join(dir, "android", c.name)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{0xd1, 0x39, 0xff, 0x3e, 1, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := apk.ReadLineage(data)
		if err != nil {
			return
		}
		out, err := l.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data) {
			t.Fatal("lineage does not round-trip")
		}
	})
}

// TestLineageFromAPK reads back the lineage an APK was signed with, from
// the v3.1 block (default rotation) or the v3.0 block (from Android 9).
func TestLineageFromAPK(t *testing.T) {
	old := loadKeyCert(t, testenv.Corpus(t, "android", "rsa-2048.pk8"), testenv.Corpus(t, "android", "rsa-2048.x509.pem"))
	nw := loadKeyCert(t, testenv.Corpus(t, "android", "rsa-2048_2.pk8"), testenv.Corpus(t, "android", "rsa-2048_2.x509.pem"))
	file := readCorpus(t, "android", "rsa-2048-lineage-2-signers")
	lin, err := apk.ReadLineage(file)
	if err != nil {
		t.Fatal(err)
	}
	in := signingtest.APK(signingtest.APKOptions{MinSDK: 24})
	for _, rotMin := range []int{0, 28} {
		out, _ := signBytes(t, in, old, apk.Options{NextIdentities: []*signing.Identity{nw}, Lineage: lin, RotationMinSDKVersion: rotMin})
		got, err := apk.LineageFromAPK(bytes.NewReader(out), int64(len(out)))
		if err != nil {
			t.Fatalf("rotation min %d: %v", rotMin, err)
		}
		if b, _ := got.MarshalBinary(); !bytes.Equal(b, file) {
			t.Errorf("rotation min %d: the lineage read differs from the one signed with", rotMin)
		}
	}
	plain, _ := signBytes(t, in, old, apk.Options{})
	if _, err := apk.LineageFromAPK(bytes.NewReader(plain), int64(len(plain))); !errors.Is(err, apk.ErrNoLineage) {
		t.Errorf("APK without rotation: %v", err)
	}
}
