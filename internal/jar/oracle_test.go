package jar

import (
	"archive/zip"
	"bytes"
	"crypto"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/signingtest"
)

// TestHashMapOrderJava compares HashMapOrder with java.util.HashMap.
func TestHashMapOrderJava(t *testing.T) {
	java := testenv.Tool(t, "java")
	dir := t.TempDir()
	src := `import java.util.*; import java.nio.file.*;
public class Order { public static void main(String[] a) throws Exception {
  for (String f : a) {
    HashMap<String, String> m = new HashMap<>();
    for (String s : Files.readAllLines(Path.of(f))) m.put(s, "");
    Files.write(Path.of(f + ".out"), m.keySet());
  }
}}`
	os.WriteFile(filepath.Join(dir, "Order.java"), []byte(src), 0o644)
	cases := map[string][]string{}
	for _, n := range []int{1, 5, 12, 13, 100, 777, 5000} {
		var keys []string
		for i := range n {
			keys = append(keys, fmt.Sprintf("res/drawable-%s/ic_%d.png", []string{"hdpi", "xhdpi", "mdpi"}[i%3], i))
		}
		cases[fmt.Sprint("n", n)] = keys
	}
	// "Aa" and "BB" share a hash: same bucket, insertion order kept.
	cases["collisions"] = []string{"BB", "Aa", "AaAa", "BBBB", "AaBB", "BBAa", "x", "C#", "Bb"}
	// Nine names in one bucket of a 16-slot table force an early resize.
	var nine []string
	for i := 0; len(nine) < 9; i++ {
		s := fmt.Sprint("k", i)
		h := javaStringHash(s)
		if (h^h>>16)&15 == 3 {
			nine = append(nine, s)
		}
	}
	cases["early resize"] = nine
	cases["unicode"] = []string{"assets/é.txt", "assets/日本.txt", "assets/😀.txt", "a", "b"}
	var args []string
	for name, keys := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
		os.WriteFile(p, []byte(strings.Join(keys, "\n")+"\n"), 0o644)
		args = append(args, p)
	}
	cmd := exec.Command(java, append([]string{"Order.java"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}
	for name, keys := range cases {
		out, err := os.ReadFile(filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".out"))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if got := HashMapOrder(keys); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: HashMapOrder differs from java.util.HashMap\n got %q\nwant %q", name, got, want)
		}
	}
}

// TestJarsignerBytes signs a jar with jarsigner and rebuilds its
// MANIFEST.MF, .SF and signature block with this package: for RSA keys
// all three must be byte for byte the same.
func TestJarsignerBytes(t *testing.T) {
	jarsigner := testenv.Tool(t, "jarsigner")
	ids := testIdentities(t)
	for _, name := range []string{"rsa", "rsa-chain", "ec-p256"} {
		t.Run(name, func(t *testing.T) {
			id := ids[name]
			dir := t.TempDir()
			jarPath := filepath.Join(dir, "in.jar")
			entries := writeTestJar(t, jarPath)
			ks := filepath.Join(dir, "ks.jks")
			os.WriteFile(ks, signingtest.JKS(id, "my.upload-key", "storepw", "storepw"), 0o600)
			cmd := exec.Command(jarsigner, "-keystore", ks, "-storepass:env", "KS_PASS", "-digestalg", "SHA-256", jarPath, "my.upload-key")
			cmd.Env = append(os.Environ(), "KS_PASS=storepw")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("jarsigner: %v\n%s", err, out)
			}
			files := readZip(t, jarPath)
			ext := BlockExtension(id.KeyAlgorithm())
			base := "META-INF/" + SignerName("my.upload-key")
			theirMF, theirSF, theirBlock := files["META-INF/MANIFEST.MF"], files[base+".SF"], files[base+"."+ext]
			if theirMF == nil || theirSF == nil || theirBlock == nil {
				t.Fatalf("jarsigner output lacks %s.SF/.%s: %v", base, ext, keys(files))
			}
			parsed, err := ParseManifest(theirMF)
			if err != nil {
				t.Fatal(err)
			}
			createdBy, _ := parsed.Main.Get("Created-By")

			mf := &Manifest{Main: Attributes{{"Manifest-Version", "1.0"}, {"Created-By", createdBy}}}
			for _, n := range HashMapOrder(entries) {
				mf.Sections = append(mf.Sections, &Section{Name: n, Attrs: Attributes{{"SHA-256-Digest", Digest(crypto.SHA256, files[n])}}})
			}
			ourMF := mf.Marshal()
			if !bytes.Equal(ourMF, theirMF) {
				t.Fatalf("MANIFEST.MF differs:\nours\n%s\njarsigner\n%s", ourMF, theirMF)
			}
			ourSF, err := BuildSignatureFile(ourMF, SignatureFileOptions{Main: Attributes{{"Created-By", createdBy}}, MainAttributesDigest: true})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ourSF, theirSF) {
				t.Fatalf(".SF differs:\nours\n%s\njarsigner\n%s", ourSF, theirSF)
			}
			sd, err := ParsePKCS7(theirBlock)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sd.Verify(theirSF); err != nil {
				t.Fatalf("verifying jarsigner's block: %v", err)
			}
			s := sd.Signers[0]
			if !s.SignedAttributes || !s.AlgorithmProtection || s.SigningTime.IsZero() {
				t.Fatalf("jarsigner block: signed attributes %v, protection %v, time %v", s.SignedAttributes, s.AlgorithmProtection, s.SigningTime)
			}
			ourBlock, err := SignPKCS7(id.Signer, id.Certificates(), ourSF, PKCS7Options{SignedAttributes: true, Now: func() time.Time { return s.SigningTime }})
			if err != nil {
				t.Fatal(err)
			}
			if ext == "EC" {
				// ECDSA signatures are randomized: compare all but the signature.
				ours, _ := ParsePKCS7(ourBlock)
				if a, b := withoutSignature(s), withoutSignature(ours.Signers[0]); a != b || len(ourBlock)-len(ours.Signers[0].Signature) != len(theirBlock)-len(s.Signature) {
					t.Fatalf("signature block differs beyond the ECDSA signature")
				}
				return
			}
			if !bytes.Equal(ourBlock, theirBlock) {
				t.Fatalf("signature block differs from jarsigner's")
			}
		})
	}
}

func withoutSignature(s *SignerInfo) string {
	return fmt.Sprintf("%x %v %v %x %x %x", s.Certificate.Raw, s.DigestAlgorithm, s.SignatureAlgorithm, s.SignatureParams, s.si.SignedAttributesDER(), s.si.DigestAlgorithm.Parameters)
}

func writeTestJar(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	names := []string{
		"BundleConfig.pb",
		"base/manifest/AndroidManifest.xml",
		"base/dex/classes.dex",
		"base/res/drawable/icon.png",
		"META-INF/com/android/build/gradle/app-metadata.properties",
		"base/assets/" + strings.Repeat("deep/", 20) + "file.txt",
	}
	for i, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: signingtest.Epoch})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "content %d of %s\n", i, n)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return names
}

func readZip(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = b
	}
	return out
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
