package aab

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/jar"
	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing"
	"github.com/storesign/storesign/signing/signingtest"
)

const ksPass = "store-secret"

// keystore writes id to dir as a JKS or PKCS#12 keystore for jarsigner
// and returns its path and type.
func keystore(t *testing.T, dir string, id *signing.Identity, typ string) string {
	t.Helper()
	p := filepath.Join(dir, "upload."+strings.ToLower(typ))
	var data []byte
	switch typ {
	case "JKS":
		data = signingtest.JKS(id, "upload", ksPass, ksPass)
	case "PKCS12":
		data = signingtest.PKCS12(id, ksPass)
	}
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if len(id.Chain) > 0 {
		// jarsigner builds the signer's chain to a trusted certificate
		// entry: add the root as one.
		root := filepath.Join(dir, "root.pem")
		os.WriteFile(root, signingtest.CertPEM(id.Chain[len(id.Chain)-1]), 0o644)
		cmd := exec.Command(testenv.Tool(t, "keytool"), "-importcert", "-noprompt", "-alias", "root", "-file", root,
			"-keystore", p, "-storetype", typ, "-storepass:env", "KS_PASS")
		cmd.Env = append(os.Environ(), "KS_PASS="+ksPass)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("keytool -importcert: %v\n%s", err, out)
		}
	}
	return p
}

// jarsigner runs jarsigner with the keystore password in its
// environment, never on the command line.
func jarsigner(t *testing.T, args ...string) (string, error) {
	t.Helper()
	tool := testenv.Tool(t, "jarsigner")
	cmd := exec.Command(tool, args...)
	cmd.Env = append(os.Environ(), "KS_PASS="+ksPass)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// jarsignerVerify runs jarsigner -verify -strict, trusting the keystore's
// certificates (the test identities are self-signed or from a test CA).
func jarsignerVerify(t *testing.T, aab, ks, typ string) (string, error) {
	t.Helper()
	return jarsigner(t, "-verify", "-strict", "-keystore", ks, "-storetype", typ, "-storepass:env", "KS_PASS", aab)
}

// TestJarsignerVerifiesOurs: every bundle we sign passes
// jarsigner -verify -strict, for RSA and EC keys, trusting JKS and PKCS#12
// keystores made by signingtest.
func TestJarsignerVerifiesOurs(t *testing.T) {
	testenv.Tool(t, "jarsigner")
	in := signingtest.Bundle(signingtest.APKOptions{Assets: 5, NativeABIs: []string{"arm64-v8a", "armeabi-v7a"}})
	ids := testIdentities()
	for _, tc := range []struct{ id, ks string }{
		{"rsa-2048", "JKS"}, {"rsa-2048", "PKCS12"}, {"rsa-4096", "JKS"},
		{"ec-p256", "JKS"}, {"ec-p256", "PKCS12"}, {"ec-p384", "JKS"}, {"rsa-chain", "JKS"}, {"rsa-chain", "PKCS12"},
	} {
		t.Run(tc.id+"/"+tc.ks, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			out, _ := sign(t, in, ids[tc.id], testOptions(nil))
			p := filepath.Join(dir, "signed.aab")
			os.WriteFile(p, out, 0o644)
			msg, err := jarsignerVerify(t, p, keystore(t, dir, ids[tc.id], tc.ks), tc.ks)
			if err != nil || !strings.Contains(msg, "jar verified.") {
				t.Fatalf("jarsigner -verify -strict: %v\n%s", err, msg)
			}
		})
	}
}

// TestJarsignerRejectsTampered: what Verify rejects, jarsigner rejects.
func TestJarsignerRejectsTampered(t *testing.T) {
	testenv.Tool(t, "jarsigner")
	id := testIdentities()["rsa-2048"]
	signed, _ := sign(t, signingtest.Bundle(signingtest.APKOptions{}), id, testOptions(id))
	edit := func(target string, f func([]byte) []byte) []byte {
		return rewrite(t, signed, func(n string, d []byte) ([]byte, bool) {
			if n == target {
				return f(bytes.Clone(d)), true
			}
			return d, true
		}, nil)
	}
	dir := t.TempDir()
	ks := keystore(t, dir, id, "JKS")
	for name, in := range map[string][]byte{
		"entry changed": edit("base/dex/classes.dex", func(d []byte) []byte { d[100] ^= 1; return d }),
		"entry added":   rewrite(t, signed, nil, map[string][]byte{"base/assets/extra.txt": []byte("x")}),
		"sf changed": edit("META-INF/UPLOAD.SF", func(d []byte) []byte {
			return bytes.Replace(d, []byte("SHA-256-Digest: "), []byte("SHA-256-Digest: A"), 1)
		}),
		"block changed": edit("META-INF/UPLOAD.RSA", func(d []byte) []byte { d[len(d)-5] ^= 1; return d }),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := verify(in); err == nil {
				t.Error("Verify accepted the tampered bundle")
			}
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".aab")
			os.WriteFile(p, in, 0o644)
			if msg, err := jarsignerVerify(t, p, ks, "JKS"); err == nil {
				t.Errorf("jarsigner -verify -strict accepted the tampered bundle:\n%s", msg)
			}
		})
	}
}

// TestJarsignerSigned signs a bundle with jarsigner, then checks that
// Verify accepts it, that our signature files are byte for byte
// jarsigner's (given its Created-By and signing time), and that the
// bundle re-signs cleanly with another key.
func TestJarsignerSigned(t *testing.T) {
	testenv.Tool(t, "jarsigner")
	ids := testIdentities()
	in := signingtest.Bundle(signingtest.APKOptions{Assets: 30})
	for _, name := range []string{"rsa-2048", "rsa-4096", "ec-p384"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			id := ids[name]
			dir := t.TempDir()
			inPath := filepath.Join(dir, "in.aab")
			theirsPath := filepath.Join(dir, "jarsigner.aab")
			os.WriteFile(inPath, in, 0o644)
			ks := filepath.Join(dir, "studio.jks")
			os.WriteFile(ks, signingtest.JKS(id, "my.upload-key", ksPass, ksPass), 0o600)
			if msg, err := jarsigner(t, "-keystore", ks, "-storepass:env", "KS_PASS", "-signedjar", theirsPath, inPath, "my.upload-key"); err != nil {
				t.Fatalf("jarsigner: %v\n%s", err, msg)
			}
			theirs, err := os.ReadFile(theirsPath)
			if err != nil {
				t.Fatal(err)
			}
			v, err := verify(theirs)
			if err != nil {
				t.Fatalf("Verify of jarsigner's bundle: %v", err)
			}
			s := v.Signers[0]
			if s.Name != "MY_UPLOA" || !s.Certificate.Equal(id.Certificate) {
				t.Fatalf("signer %q %s", s.Name, s.Certificate.Subject)
			}
			_, theirFiles := entries(t, theirs)
			ext := jar.BlockExtension(id.KeyAlgorithm())

			// Same inputs as jarsigner: same MANIFEST.MF and .SF bytes, and
			// for RSA the same signature block.
			mf, _ := jar.ParseManifest(theirFiles["META-INF/MANIFEST.MF"])
			createdBy, _ := mf.Main.Get("Created-By")
			opts := Options{CreatedBy: createdBy, Now: func() time.Time { return s.SigningTime }, SignerName: "my.upload-key"}
			ours, _ := sign(t, in, id, opts)
			_, ourFiles := entries(t, ours)
			for _, f := range []string{"META-INF/MANIFEST.MF", "META-INF/MY_UPLOA.SF", "META-INF/MY_UPLOA." + ext} {
				if f == "META-INF/MY_UPLOA.EC" {
					continue // ECDSA signatures are randomized
				}
				if !bytes.Equal(ourFiles[f], theirFiles[f]) {
					t.Errorf("%s differs from jarsigner's:\nours\n%q\njarsigner\n%q", f, ourFiles[f], theirFiles[f])
				}
			}

			// Re-sign the studio's bundle with the publisher's key.
			pub := ids["ec-p256"]
			if name == "ec-p384" {
				pub = ids["rsa-2048"]
			}
			resigned, _ := sign(t, theirs, pub, testOptions(id))
			names, files := entries(t, resigned)
			for _, n := range names {
				if strings.HasPrefix(n, "META-INF/MY_UPLOA") {
					t.Errorf("old signature file %s kept", n)
				}
			}
			for n, d := range theirFiles {
				if !strings.HasPrefix(n, "META-INF/") && !bytes.Equal(files[n], d) {
					t.Errorf("%s changed", n)
				}
			}
			if v, err := verify(resigned); err != nil || !v.Signers[0].Certificate.Equal(pub.Certificate) {
				t.Fatalf("Verify of the re-signed bundle: %v", err)
			}
			p := filepath.Join(dir, "resigned.aab")
			os.WriteFile(p, resigned, 0o644)
			if msg, err := jarsignerVerify(t, p, keystore(t, dir, pub, "JKS"), "JKS"); err != nil {
				t.Fatalf("jarsigner -verify -strict of the re-signed bundle: %v\n%s", err, msg)
			}

			// Tampered after jarsigner signed it: both reject.
			tampered := rewrite(t, theirs, func(n string, d []byte) ([]byte, bool) {
				if n == "base/dex/classes.dex" {
					d = append(bytes.Clone(d), 0)
				}
				return d, true
			}, nil)
			if _, err := verify(tampered); err == nil {
				t.Error("Verify accepted jarsigner's bundle after tampering")
			}
			tp := filepath.Join(dir, "tampered.aab")
			os.WriteFile(tp, tampered, 0o644)
			if msg, err := jarsignerVerify(t, tp, ks, "JKS"); err == nil {
				t.Errorf("jarsigner accepted the tampered bundle:\n%s", msg)
			}
		})
	}
}

// TestJarsignerExistingManifest: a bundle that already has a manifest
// (main attributes and a per-entry attribute, no digests) gets the same
// MANIFEST.MF, .SF and signature block from us as from jarsigner.
func TestJarsignerExistingManifest(t *testing.T) {
	testenv.Tool(t, "jarsigner")
	id := testIdentities()["rsa-2048"]
	in := rewrite(t, signingtest.Bundle(signingtest.APKOptions{Assets: 12}), nil, map[string][]byte{
		"META-INF/MANIFEST.MF": []byte("Manifest-Version: 1.0\r\nCreated-By: Android Gradle 8.5.0\r\nBuilt-By: ci\r\n\r\n" +
			"Name: base/dex/classes.dex\r\nX-Android-Note: a per-entry attribute long enough to wrap past seventy-two bytes\r\n\r\n"),
	})
	dir := t.TempDir()
	inPath, theirsPath := filepath.Join(dir, "in.aab"), filepath.Join(dir, "theirs.aab")
	os.WriteFile(inPath, in, 0o644)
	ks := keystore(t, dir, id, "JKS")
	if msg, err := jarsigner(t, "-keystore", ks, "-storepass:env", "KS_PASS", "-signedjar", theirsPath, inPath, "upload"); err != nil {
		t.Fatalf("jarsigner: %v\n%s", err, msg)
	}
	theirs, _ := os.ReadFile(theirsPath)
	v, err := verify(theirs)
	if err != nil {
		t.Fatalf("Verify of jarsigner's bundle: %v", err)
	}
	_, theirFiles := entries(t, theirs)
	sf, _ := jar.ParseManifest(theirFiles["META-INF/UPLOAD.SF"])
	createdBy, _ := sf.Main.Get("Created-By")
	ours, _ := sign(t, in, id, Options{CreatedBy: createdBy, Now: func() time.Time { return v.Signers[0].SigningTime }})
	_, ourFiles := entries(t, ours)
	for _, f := range []string{"META-INF/MANIFEST.MF", "META-INF/UPLOAD.SF", "META-INF/UPLOAD.RSA"} {
		if !bytes.Equal(ourFiles[f], theirFiles[f]) {
			t.Errorf("%s differs from jarsigner's:\nours\n%q\njarsigner\n%q", f, ourFiles[f], theirFiles[f])
		}
	}
}

// jarStreamCheck reads a jar with java.util.jar.JarInputStream, which goes
// by the local headers (not the central directory) and checks CRCs, and
// prints how many entries it found signed; it fails on any unsigned file.
const jarStreamCheck = `import java.util.jar.*; import java.io.*;
public class StreamCheck { public static void main(String[] a) throws Exception {
  try (JarInputStream in = new JarInputStream(new FileInputStream(a[0]), true)) {
    if (in.getManifest() == null) throw new Exception("no manifest seen first");
    int signed = 0; JarEntry e; byte[] buf = new byte[8192];
    while ((e = in.getNextJarEntry()) != null) {
      while (in.read(buf) >= 0) {}
      String n = e.getName().toUpperCase();
      if (e.isDirectory() || n.startsWith("META-INF/") && !n.substring(9).contains("/") &&
          (n.endsWith(".SF") || n.endsWith(".RSA") || n.endsWith(".EC") || n.endsWith(".DSA"))) continue;
      if (e.getCodeSigners() == null) throw new Exception("unsigned: " + e.getName());
      signed++;
    }
    System.out.println("signed " + signed);
  }
}}`

// TestJarInputStream checks our output with Java's streaming reader:
// local headers agree with the central directory (data descriptors
// folded in), the manifest comes first, and every entry is signed.
func TestJarInputStream(t *testing.T) {
	java := testenv.Tool(t, "java")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "StreamCheck.java"), []byte(jarStreamCheck), 0o644)
	// archive/zip writes data descriptors; add a directory entry too.
	in := rewrite(t, signingtest.Bundle(signingtest.APKOptions{Assets: 4}), nil, map[string][]byte{"base/assets/dir/": nil})
	for name, id := range map[string]*signing.Identity{"rsa": testIdentities()["rsa-2048"], "ec": testIdentities()["ec-p384"]} {
		out, res := sign(t, in, id, testOptions(id))
		p := filepath.Join(dir, name+".aab")
		os.WriteFile(p, out, 0o644)
		cmd := exec.Command(java, "StreamCheck.java", p)
		cmd.Dir = dir
		msg, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: JarInputStream: %v\n%s", name, err, msg)
		}
		if want := "signed " + strconv.Itoa(res.Entries); strings.TrimSpace(string(msg)) != want {
			t.Errorf("%s: JarInputStream says %q, want %q", name, strings.TrimSpace(string(msg)), want)
		}
	}
}

// TestJarsignerSHA1: a bundle jarsigner signed with SHA-1 counts as
// unsigned for jarsigner 17, so Verify rejects it (unless told
// otherwise), and re-signing replaces it with a SHA-256 signature.
func TestJarsignerSHA1(t *testing.T) {
	testenv.Tool(t, "jarsigner")
	id := testIdentities()["rsa-2048"]
	dir := t.TempDir()
	inPath, theirsPath := filepath.Join(dir, "in.aab"), filepath.Join(dir, "sha1.aab")
	os.WriteFile(inPath, signingtest.Bundle(signingtest.APKOptions{}), 0o644)
	ks := keystore(t, dir, id, "JKS")
	if msg, err := jarsigner(t, "-keystore", ks, "-storepass:env", "KS_PASS", "-digestalg", "SHA-1", "-sigalg", "SHA1withRSA", "-signedjar", theirsPath, inPath, "upload"); err != nil {
		t.Fatalf("jarsigner: %v\n%s", err, msg)
	}
	if msg, err := jarsignerVerify(t, theirsPath, ks, "JKS"); err == nil {
		t.Fatalf("jarsigner -verify -strict accepted SHA-1:\n%s", msg)
	}
	theirs, _ := os.ReadFile(theirsPath)
	if _, err := verify(theirs); !errors.Is(err, ErrInvalidSignature) || !strings.Contains(err.Error(), "weak") {
		t.Fatalf("Verify: err = %v, want a weak algorithm error", err)
	}
	v, err := Verify(context.Background(), bytes.NewReader(theirs), int64(len(theirs)), VerifyOptions{AllowSHA1Unsafe: true})
	if err != nil || v.Signers[0].DigestAlgorithm != crypto.SHA1 || v.Signers[0].SignatureAlgorithm != "SHA1withRSA" {
		t.Fatalf("Verify with AllowSHA1Unsafe: %v", err)
	}
	resigned, _ := sign(t, theirs, id, testOptions(id))
	if v, err := verify(resigned); err != nil || v.Signers[0].DigestAlgorithm != crypto.SHA256 {
		t.Fatalf("Verify of the re-signed bundle: %v", err)
	}
	_, files := entries(t, resigned)
	if strings.Contains(string(files["META-INF/MANIFEST.MF"]), "SHA1") {
		t.Error("the re-signed manifest keeps SHA-1 digests")
	}
}

// TestJarsignerTwoSigners: jarsigner adds a second signer to a signed
// bundle; Verify reports both, and Sign replaces both with one.
func TestJarsignerTwoSigners(t *testing.T) {
	testenv.Tool(t, "jarsigner")
	ids := testIdentities()
	dir := t.TempDir()
	p := filepath.Join(dir, "app.aab")
	os.WriteFile(p, signingtest.Bundle(signingtest.APKOptions{}), 0o644)
	for _, s := range []struct{ id, alias string }{{"rsa-2048", "studio"}, {"ec-p256", "publisher"}} {
		ks := filepath.Join(dir, s.alias+".jks")
		os.WriteFile(ks, signingtest.JKS(ids[s.id], s.alias, ksPass, ksPass), 0o600)
		if msg, err := jarsigner(t, "-keystore", ks, "-storepass:env", "KS_PASS", p, s.alias); err != nil {
			t.Fatalf("jarsigner %s: %v\n%s", s.alias, err, msg)
		}
	}
	twice, _ := os.ReadFile(p)
	v, err := verify(twice)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range v.Signers {
		names = append(names, s.Name+"/"+s.BlockFile)
	}
	if got := strings.Join(names, " "); got != "PUBLISHE/META-INF/PUBLISHE.EC STUDIO/META-INF/STUDIO.RSA" && got != "STUDIO/META-INF/STUDIO.RSA PUBLISHE/META-INF/PUBLISHE.EC" {
		t.Fatalf("signers %s", got)
	}
	once, _ := sign(t, twice, ids["rsa-chain"], testOptions(nil))
	if v, err := verify(once); err != nil || len(v.Signers) != 1 || v.Signers[0].Name != "UPLOAD" {
		t.Fatalf("re-signed: %v, %d signers", err, len(v.Signers))
	}
}
