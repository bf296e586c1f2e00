package aab

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/jar"
	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing"
)

const manifestName = "META-INF/MANIFEST.MF"

// Sign writes to dst the bundle read from src (size bytes), JAR-signed by
// opts.Identity as jarsigner signs it. Earlier signatures are dropped; the manifest
// of the input, if any, keeps its main attributes and per-entry
// attributes, with fresh SHA-256 digests. Sign does not verify its
// output (see [SignFile], and [Verify]).
func Sign(ctx context.Context, src io.ReaderAt, size int64, dst io.Writer, opts Options) (*Result, error) {
	return signTo(ctx, src, size, newStreamOutput(src, dst), opts)
}

// signTo is Sign writing to out.
func signTo(ctx context.Context, src io.ReaderAt, size int64, out output, opts Options) (*Result, error) {
	id := opts.Identity
	if id == nil || id.Signer == nil || id.Certificate == nil {
		return nil, errors.New("aab: signing needs an identity with a private key")
	}
	log := discard(opts.Log)
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	signTime := now()
	createdBy := opts.CreatedBy
	if createdBy == "" {
		createdBy = "storesign"
	}
	name := opts.SignerName
	if name == "" {
		name = id.Alias
	}
	name = jar.SignerName(name)
	if name == "" {
		name = "CERT"
	}
	blockHash, err := blockDigest(id.Signer.Public())
	if err != nil {
		return nil, err
	}

	a, err := openBundle(src, size)
	if err != nil {
		return nil, err
	}
	var oldManifest *zipx.Entry
	var jobs []digestJob
	for _, e := range a.Entries {
		switch {
		case strings.EqualFold(e.Name, manifestName):
			if oldManifest == nil || e.Name == manifestName {
				oldManifest = e
			}
		case isSigned(e):
			if e.Name == "" || strings.ContainsAny(e.Name, "\r\n") {
				return nil, fmt.Errorf("aab: entry name %q cannot be signed: a JAR manifest cannot hold it", e.Name)
			}
			jobs = append(jobs, digestJob{entry: e, hashes: []crypto.Hash{crypto.SHA256}})
		}
	}
	start := time.Now()
	sums, err := digestEntries(ctx, src, a.CDOffset, jobs, opts.Workers)
	if err != nil {
		return nil, err
	}
	log.Debug("hashed entries", "entries", len(jobs), "elapsed", time.Since(start))

	digests := make(map[string]string, len(jobs))
	var order []string
	for i, j := range jobs {
		digests[j.entry.Name] = base64.StdEncoding.EncodeToString(sums[i][0])
		order = append(order, j.entry.Name)
	}
	var old *jar.Manifest
	if oldManifest != nil {
		data, err := oldManifest.ReadAll(src, a.CDOffset, maxMetaFile)
		if err != nil {
			return nil, err
		}
		if old, err = jar.ParseManifest(data); err != nil {
			return nil, fmt.Errorf("reading %s: %w", oldManifest.Name, err)
		}
	}
	mf := buildManifest(old, order, digests, createdBy)
	sf, err := jar.BuildSignatureFile(mf, jar.SignatureFileOptions{
		Hash:                 crypto.SHA256,
		Main:                 jar.Attributes{{Name: "Created-By", Value: createdBy}},
		MainAttributesDigest: true,
	})
	if err != nil {
		return nil, err
	}
	block, err := jar.SignPKCS7(id.Signer, id.Certificates(), sf, jar.PKCS7Options{
		Hash:             blockHash,
		SignedAttributes: true,
		Now:              func() time.Time { return signTime },
		Rand:             opts.Rand,
	})
	if err != nil {
		return nil, err
	}
	sfName := "META-INF/" + name + ".SF"
	blockName := "META-INF/" + name + "." + jar.BlockExtension(id.KeyAlgorithm())

	// jarsigner's order: manifest, .SF, block, the other META-INF/ files,
	// then everything else, each group in the source's order.
	z := &zipWriter{out: out}
	for _, f := range []struct {
		name string
		data []byte
	}{{manifestName, mf}, {sfName, sf}, {blockName, block}} {
		if err := z.create(f.name, f.data, signTime); err != nil {
			return nil, fmt.Errorf("writing %s: %w", f.name, err)
		}
	}
	for _, meta := range []bool{true, false} {
		for _, e := range a.Entries {
			if isMetaInf(e.Name) != meta || jar.IsSignatureFile(e.Name) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := z.copyRaw(src, a.CDOffset, e); err != nil {
				return nil, err
			}
		}
	}
	if err := z.close(a.EOCD); err != nil {
		return nil, err
	}
	log.Debug("signed bundle", "signer", name, "entries", len(jobs), "bytes", z.n)
	return &Result{
		Signers: []*Signer{{
			Name:               name,
			SignatureFile:      sfName,
			BlockFile:          blockName,
			Certificate:        id.Certificate,
			Chain:              id.Chain,
			DigestAlgorithm:    crypto.SHA256,
			BlockDigest:        blockHash,
			SignatureAlgorithm: javaSignatureAlgorithm(blockHash, id.Certificate.PublicKey),
			SigningTime:        signTime.UTC().Truncate(time.Second),
		}},
		Entries: len(jobs),
		Size:    z.n,
	}, nil
}

// buildManifest returns the MANIFEST.MF jarsigner would write for the
// entries (names in archive order, digests by name): a new one, or the
// old one with its digests replaced and sections of vanished entries
// dropped. Sections come in java.util.HashMap order.
func buildManifest(old *jar.Manifest, order []string, digests map[string]string, createdBy string) []byte {
	const digestAttr = "SHA-256-Digest"
	mf := &jar.Manifest{}
	byName := map[string]*jar.Section{}
	var keys []string
	if old != nil {
		mf.Main = append(jar.Attributes(nil), old.Main...)
		if _, ok := mf.Main.Get("Manifest-Version"); !ok {
			mf.Main = append(jar.Attributes{{Name: "Manifest-Version", Value: "1.0"}}, mf.Main...)
		}
		for _, s := range old.Sections {
			if _, ok := digests[s.Name]; !ok || byName[s.Name] != nil {
				continue
			}
			attrs := append(jar.Attributes(nil), s.Attrs...)
			attrs.Delete(func(a jar.Attribute) bool {
				return strings.HasSuffix(strings.ToUpper(a.Name), "-DIGEST") && !strings.EqualFold(a.Name, digestAttr)
			})
			byName[s.Name] = &jar.Section{Name: s.Name, Attrs: attrs}
			keys = append(keys, s.Name)
		}
	} else {
		mf.Main = jar.Attributes{{Name: "Manifest-Version", Value: "1.0"}, {Name: "Created-By", Value: createdBy}}
	}
	for _, n := range order {
		if byName[n] == nil {
			byName[n] = &jar.Section{Name: n}
			keys = append(keys, n)
		}
		byName[n].Attrs.Set(digestAttr, digests[n])
	}
	for _, n := range jar.HashMapOrder(keys) {
		mf.Sections = append(mf.Sections, byName[n])
	}
	return mf.Marshal()
}

// blockDigest is the digest jarsigner 17 picks for a key's signature:
// SHA-256 up to 3072-bit RSA and P-256, SHA-384 for larger RSA keys and
// P-384, SHA-512 for RSA over 7680 bits and P-521.
func blockDigest(pub crypto.PublicKey) (crypto.Hash, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch bits := k.N.BitLen(); {
		case bits > 7680:
			return crypto.SHA512, nil
		case bits > 3072:
			return crypto.SHA384, nil
		}
		return crypto.SHA256, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P384():
			return crypto.SHA384, nil
		case elliptic.P521():
			return crypto.SHA512, nil
		}
		return crypto.SHA256, nil
	}
	return 0, signing.ErrUnsupportedKey
}

// javaSignatureAlgorithm names a signature as Java does: SHA256withRSA.
func javaSignatureAlgorithm(h crypto.Hash, pub crypto.PublicKey) string {
	alg := signing.KeyAlgorithm(pub)
	if alg == "EC" {
		alg = "ECDSA"
	}
	return strings.ReplaceAll(jar.DigestName(h), "-", "") + "with" + alg
}

// SignFile signs the bundle at in into out, as [Sign] does. The output is
// written to a temp file beside out, verified with [Verify] (unless
// opts.SkipVerify) and renamed to out only then; on any error no output
// is left and in is never modified. Errors name the file concerned.
func SignFile(ctx context.Context, in, out string, opts Options) (*Result, error) {
	f, size, err := atomicfile.OpenInput(in, "an app bundle")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tmp, err := atomicfile.Create(out, in)
	if err != nil {
		return nil, err
	}
	defer tmp.Abort()
	// Entries are copied by the kernel from the input to the output.
	res, err := signTo(ctx, f, size, newFileOutput(f, tmp.File, tmp.StartWriteback), opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in, err)
	}
	if !opts.SkipVerify {
		v, err := Verify(ctx, tmp, res.Size, VerifyOptions{Workers: opts.Workers, Log: opts.Log})
		if err != nil {
			return nil, fmt.Errorf("verifying the signed bundle: %w", err)
		}
		if len(v.Signers) != 1 || !v.Signers[0].Certificate.Equal(opts.Identity.Certificate) || v.Entries != res.Entries {
			return nil, errors.New("aab: internal error: the signed bundle does not verify as signed")
		}
	}
	if err := tmp.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}
