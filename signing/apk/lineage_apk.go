package apk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrNoLineage means an APK's v3.1 and v3 signers carry no signing
// certificate lineage.
var ErrNoLineage = errors.New("apk: the APK's v3.1 and v3 signers carry no signing certificate lineage")

// LineageFromAPK reads the signing certificate lineage that an APK's
// v3.1 and v3 signers carry (their proof-of-rotation attributes), as
// apksigner does when given an APK for --lineage or `lineage --in`:
// when signers carry different lineages, each must be the start of the
// longest one, which is returned.
func LineageFromAPK(r io.ReaderAt, size int64) (*Lineage, error) {
	arch, err := readArchive(r, size)
	if err != nil {
		return nil, err
	}
	blocks, err := readSigningBlockPairs(r, arch)
	if err != nil {
		return nil, err
	}
	var lineages []*Lineage
	found := false
	for _, id := range []uint32{blockIDSchemeV31, blockIDSchemeV3} {
		b, ok := blocks[id]
		if !ok {
			continue
		}
		found = true
		signers := &lreader{b: (&lreader{b: b}).prefixed()}
		for len(signers.b) > 0 {
			signer := &lreader{b: signers.prefixed()}
			sd := &lreader{b: signer.prefixed()}
			sd.prefixed() // digests
			sd.prefixed() // certificates
			sd.u32()      // minSdkVersion
			sd.u32()      // maxSdkVersion
			attrs := &lreader{b: sd.prefixed()}
			if signers.err || signer.err || sd.err {
				return nil, fmt.Errorf("%w: truncated v3 signer", ErrMalformed)
			}
			for len(attrs.b) > 0 {
				attr := &lreader{b: attrs.prefixed()}
				if attrs.err {
					return nil, fmt.Errorf("%w: truncated v3 signer attribute", ErrMalformed)
				}
				if attr.u32() != attrProofOfRotation || attr.err {
					continue
				}
				l, err := parseLineage(attr.b)
				if err != nil {
					return nil, err
				}
				lineages = append(lineages, l)
			}
		}
	}
	if !found {
		return nil, errors.New("apk: the APK has neither a v3 nor a v3.1 signature block")
	}
	if len(lineages) == 0 {
		return nil, ErrNoLineage
	}
	longest := lineages[0]
	for _, l := range lineages[1:] {
		if l.Len() > longest.Len() {
			longest = l
		}
	}
	for _, l := range lineages {
		for i, n := range l.nodes {
			m := longest.nodes[i]
			if !bytes.Equal(n.cert.Raw, m.cert.Raw) || n.caps != m.caps || n.parentAlg != m.parentAlg || !bytes.Equal(n.sig, m.sig) {
				return nil, fmt.Errorf("%w: the APK's signers carry inconsistent lineages", ErrLineageMalformed)
			}
		}
	}
	return longest, nil
}
