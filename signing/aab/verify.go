package aab

import (
	"context"
	"crypto"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/storesign/storesign/internal/atomicfile"
	"github.com/storesign/storesign/internal/jar"
	"github.com/storesign/storesign/internal/zipx"
)

// Verify checks the JAR signature of the bundle read from r (size bytes)
// as jarsigner -verify -strict does: every signature block verifies over
// its .SF, the .SF digests match the manifest (whole, or main attributes
// and section by section), every entry's digests match its manifest
// section, and every entry except the signature files is covered by a
// signature. It returns the signers. Like jarsigner and Android it does
// not judge certificate validity or trust.
//
// A bundle that does not verify gives an error wrapping [ErrNotSigned]
// or [ErrInvalidSignature], whose message says why, together with a
// non-nil Result (without signers): the verdict style of apk and ipa.
// Other errors come with a nil Result: [ErrNotBundle], zip errors from
// reading the archive, a cancelled ctx.
func Verify(ctx context.Context, r io.ReaderAt, size int64, opts VerifyOptions) (*Result, error) {
	res, err := verifyBundle(ctx, r, size, opts)
	if err != nil && (errors.Is(err, ErrNotSigned) || errors.Is(err, ErrInvalidSignature)) {
		return &Result{Size: size}, err
	}
	return res, err
}

func verifyBundle(ctx context.Context, r io.ReaderAt, size int64, opts VerifyOptions) (*Result, error) {
	log := discard(opts.Log)
	a, err := openBundle(r, size)
	if err != nil {
		return nil, err
	}
	var manifest *zipx.Entry
	sfs := map[string]*zipx.Entry{}    // base name (upper case) -> .SF
	blocks := map[string]*zipx.Entry{} // base name (upper case) -> block
	var sfOrder []string
	for _, e := range a.Entries {
		up := strings.ToUpper(e.Name)
		rest, ok := strings.CutPrefix(up, "META-INF/")
		if !ok || strings.Contains(rest, "/") {
			continue
		}
		switch {
		case rest == "MANIFEST.MF":
			if manifest == nil || e.Name == manifestName {
				manifest = e
			}
		case strings.HasSuffix(rest, ".SF"):
			base := strings.TrimSuffix(rest, ".SF")
			if sfs[base] != nil {
				return nil, fmt.Errorf("%w: two signature files for %s", ErrInvalidSignature, base)
			}
			sfs[base] = e
			sfOrder = append(sfOrder, base)
		case strings.HasSuffix(rest, ".RSA"), strings.HasSuffix(rest, ".EC"), strings.HasSuffix(rest, ".DSA"):
			base := rest[:strings.LastIndexByte(rest, '.')]
			if blocks[base] != nil {
				return nil, fmt.Errorf("%w: two signature blocks for %s", ErrInvalidSignature, base)
			}
			blocks[base] = e
		}
	}
	if manifest == nil || len(sfs) == 0 {
		return nil, ErrNotSigned
	}
	mfBytes, err := manifest.ReadAll(r, a.CDOffset, maxMetaFile)
	if err != nil {
		return nil, err
	}
	mf, err := jar.ParseManifest(mfBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalidSignature, manifest.Name, err)
	}
	sections := make(map[string]*jar.Section, len(mf.Sections))
	for _, s := range mf.Sections {
		if sections[s.Name] != nil {
			return nil, fmt.Errorf("%w: %s has two sections for %s", ErrInvalidSignature, manifest.Name, s.Name)
		}
		sections[s.Name] = s
	}

	// usable reports whether a digest algorithm counts, as
	// jdk.jar.disabledAlgorithms decides in JDK 17: SHA-1 does not.
	usable := func(h crypto.Hash) bool {
		return h != 0 && h.Available() && (h != crypto.SHA1 || opts.AllowSHA1Unsafe)
	}
	res := &Result{Size: size}
	signed := map[string]bool{} // entry names covered by a verified .SF
	for _, base := range sfOrder {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s, covered, err := verifySigner(r, a, sfs[base], blocks[base], mfBytes, mf, sections, usable)
		if err != nil {
			return nil, err
		}
		for _, n := range covered {
			signed[n] = true
		}
		res.Signers = append(res.Signers, s)
	}

	// Entries: each file must have a manifest section with digests that
	// match, and be covered by a signature.
	var jobs []digestJob
	var want [][]string
	for _, e := range a.Entries {
		if !isSigned(e) {
			continue
		}
		sec := sections[e.Name]
		if sec == nil {
			return nil, fmt.Errorf("%w: %s is not in the manifest (an entry added after signing)", ErrInvalidSignature, e.Name)
		}
		if !signed[e.Name] {
			return nil, fmt.Errorf("%w: %s is not covered by the signature file", ErrInvalidSignature, e.Name)
		}
		var hashes []crypto.Hash
		var values []string
		for _, at := range sec.Attrs {
			alg, ok := cutSuffixFold(at.Name, "-Digest")
			if !ok {
				continue
			}
			if h := jar.ParseDigestName(alg); usable(h) {
				hashes = append(hashes, h)
				values = append(values, at.Value)
			}
		}
		if len(hashes) == 0 {
			return nil, fmt.Errorf("%w: the manifest section of %s has no supported digest (SHA-1 counts as unsigned, as for jarsigner)", ErrInvalidSignature, e.Name)
		}
		jobs = append(jobs, digestJob{entry: e, hashes: hashes})
		want = append(want, values)
	}
	sums, err := digestEntries(ctx, r, a.CDOffset, jobs, opts.Workers)
	if err != nil {
		return nil, err
	}
	for i, j := range jobs {
		for k, sum := range sums[i] {
			if !digestEqual(want[i][k], sum) {
				return nil, fmt.Errorf("%w: %s does not match its %s digest in the manifest (modified after signing)", ErrInvalidSignature, j.entry.Name, jar.DigestName(j.hashes[k]))
			}
		}
	}
	res.Entries = len(jobs)
	log.Debug("verified bundle", "signers", len(res.Signers), "entries", res.Entries)
	return res, nil
}

// verifySigner checks one .SF and its block, and returns the signer and
// the names whose manifest sections the .SF covers.
func verifySigner(r io.ReaderAt, a *zipx.Archive, sfEntry, blockEntry *zipx.Entry, mfBytes []byte, mf *jar.Manifest, sections map[string]*jar.Section, usable func(crypto.Hash) bool) (*Signer, []string, error) {
	if blockEntry == nil {
		return nil, nil, fmt.Errorf("%w: %s has no signature block (.RSA, .EC or .DSA)", ErrInvalidSignature, sfEntry.Name)
	}
	sfBytes, err := sfEntry.ReadAll(r, a.CDOffset, maxMetaFile)
	if err != nil {
		return nil, nil, err
	}
	blockBytes, err := blockEntry.ReadAll(r, a.CDOffset, maxMetaFile)
	if err != nil {
		return nil, nil, err
	}
	sd, err := jar.ParsePKCS7(blockBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrInvalidSignature, blockEntry.Name, err)
	}
	certs, err := sd.Verify(sfBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s does not verify over %s: %v", ErrInvalidSignature, blockEntry.Name, sfEntry.Name, err)
	}
	si := sd.Signers[0]
	for _, s := range sd.Signers {
		if !usable(s.Hash) {
			return nil, nil, fmt.Errorf("%w: %s is signed with %s, a weak algorithm jarsigner treats as unsigned: sign the bundle again", ErrInvalidSignature, blockEntry.Name, javaSignatureAlgorithm(s.Hash, s.Certificate.PublicKey))
		}
	}
	sf, err := jar.ParseManifest(sfBytes)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrInvalidSignature, sfEntry.Name, err)
	}

	// Whole-manifest digest: when it matches, every section is covered.
	var entryHash crypto.Hash
	wholeOK, mainOK, mainSeen := false, true, false
	for _, at := range sf.Main {
		up := strings.ToUpper(at.Name)
		switch {
		case strings.HasSuffix(up, "-DIGEST-MANIFEST"):
			h := jar.ParseDigestName(at.Name[:len(at.Name)-len("-Digest-Manifest")])
			if usable(h) {
				entryHash = h
				if digestEqual(at.Value, sum(h, mfBytes)) {
					wholeOK = true
				}
			}
		case strings.HasSuffix(up, "-DIGEST-MANIFEST-MAIN-ATTRIBUTES"):
			h := jar.ParseDigestName(at.Name[:len(at.Name)-len("-Digest-Manifest-Main-Attributes")])
			if usable(h) {
				mainSeen = true
				if !digestEqual(at.Value, sum(h, mf.MainRaw)) {
					mainOK = false
				}
			}
		}
	}
	if !wholeOK && mainSeen && !mainOK {
		return nil, nil, fmt.Errorf("%w: %s does not match the main attributes of the manifest", ErrInvalidSignature, sfEntry.Name)
	}
	var covered []string
	for _, s := range sf.Sections {
		ms := sections[s.Name]
		if ms == nil {
			return nil, nil, fmt.Errorf("%w: %s names %s, which has no manifest section", ErrInvalidSignature, sfEntry.Name, s.Name)
		}
		if !wholeOK {
			checked := false
			for _, at := range s.Attrs {
				alg, ok := cutSuffixFold(at.Name, "-Digest")
				if !ok {
					continue
				}
				h := jar.ParseDigestName(alg)
				if !usable(h) {
					continue
				}
				if entryHash == 0 {
					entryHash = h
				}
				if !digestEqual(at.Value, sum(h, ms.Raw)) {
					return nil, nil, fmt.Errorf("%w: %s does not match the manifest section of %s", ErrInvalidSignature, sfEntry.Name, s.Name)
				}
				checked = true
			}
			if !checked {
				return nil, nil, fmt.Errorf("%w: %s has no supported digest for %s", ErrInvalidSignature, sfEntry.Name, s.Name)
			}
		}
		covered = append(covered, s.Name)
	}
	base := sfEntry.Name[len("META-INF/") : len(sfEntry.Name)-len(".SF")]
	signer := &Signer{
		Name:               base,
		SignatureFile:      sfEntry.Name,
		BlockFile:          blockEntry.Name,
		Certificate:        certs[0],
		DigestAlgorithm:    entryHash,
		BlockDigest:        si.Hash,
		SignatureAlgorithm: javaSignatureAlgorithm(si.Hash, certs[0].PublicKey),
		SigningTime:        si.SigningTime,
	}
	for _, c := range sd.Certificates {
		if !c.Equal(certs[0]) {
			signer.Chain = append(signer.Chain, c)
		}
	}
	return signer, covered, nil
}

func sum(h crypto.Hash, data []byte) []byte {
	d := h.New()
	d.Write(data)
	return d.Sum(nil)
}

// digestEqual compares a base64 digest attribute with a digest.
func digestEqual(b64 string, digest []byte) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	return err == nil && subtle.ConstantTimeCompare(got, digest) == 1
}

func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s[:len(s)-len(suffix)], true
	}
	return "", false
}

// VerifyFile verifies the bundle at path, as [Verify] does (a bundle
// that does not verify gives its Result and the error). Errors name the
// file.
func VerifyFile(ctx context.Context, path string, opts VerifyOptions) (*Result, error) {
	f, size, err := atomicfile.OpenInput(path, "an app bundle")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := Verify(ctx, f, size, opts)
	if err != nil {
		return res, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}
