package apk

import (
	"fmt"
	"strings"
)

// LineageWithoutSignatures describes a lineage's certificates,
// algorithms and capabilities, leaving out the signatures, so that
// lineages with ECDSA signatures can be compared.
func LineageWithoutSignatures(l *Lineage) string {
	var b strings.Builder
	for _, n := range l.nodes {
		fmt.Fprintf(&b, "%x %#x %#x %#x\n", n.cert.Raw, n.parentAlg, n.alg, n.caps)
	}
	return b.String()
}
