package macho

import (
	"crypto/sha1"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Requirement language opcodes and match operations (requirement.h).
const (
	opFalse              = 0
	opTrue               = 1
	opIdent              = 2
	opAppleAnchor        = 3
	opAnchorHash         = 4
	opInfoKeyValue       = 5
	opAnd                = 6
	opOr                 = 7
	opCDHash             = 8
	opNot                = 9
	opInfoKeyField       = 10
	opCertField          = 11
	opTrustedCert        = 12
	opTrustedCerts       = 13
	opCertGeneric        = 14
	opAppleGenericAnchor = 15
	opEntitlementField   = 16
	opCertPolicy         = 17
	opNamedAnchor        = 18
	opNamedCode          = 19
	opPlatform           = 20
	opNotarized          = 21
	opCertFieldDate      = 22
	opLegacyDevID        = 23

	matchExists       = 0
	matchEqual        = 1
	matchContains     = 2
	matchBeginsWith   = 3
	matchEndsWith     = 4
	matchLessThan     = 5
	matchGreaterThan  = 6
	matchLessEqual    = 7
	matchGreaterEqual = 8
	matchOn           = 9
	matchBefore       = 10
	matchAfter        = 11
	matchOnOrBefore   = 12
	matchOnOrAfter    = 13
	matchAbsent       = 14

	exprForm = 1
)

// oidAppleWWDR marks Apple's WWDR intermediates.
var oidAppleWWDR = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 2, 1}

// reqWriter writes requirement expressions.
type reqWriter struct{ b []byte }

func (w *reqWriter) u32(v uint32) { w.b = binary.BigEndian.AppendUint32(w.b, v) }

func (w *reqWriter) data(d []byte) {
	w.u32(uint32(len(d)))
	w.b = append(w.b, d...)
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
}

// isSelfSigned reports whether cert is its own issuer.
func isSelfSigned(cert *x509.Certificate) bool {
	// Not CheckSignatureFrom: it insists the issuer be a CA, and a
	// self-signed leaf (a test identity) is not.
	return string(cert.RawIssuer) == string(cert.RawSubject) &&
		cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil
}

func designatedRequirement(identifier string, leaf *x509.Certificate) (string, []byte) {
	w := &reqWriter{}
	w.u32(exprForm)
	if leaf == nil || isSelfSigned(leaf) {
		// codesign's designated requirement for a certificate that is
		// not Apple-issued (DRMaker::nonAppleAnchor): pin the
		// certificate by hash, as "root" when the leaf names an
		// organization (the chain up to the anchor shares it), else as
		// "leaf".
		var h [20]byte
		slot := uint32(0xffffffff) // anchor
		if leaf != nil {
			h = sha1.Sum(leaf.Raw)
			if len(leaf.Subject.Organization) == 0 {
				slot = 0
			}
		}
		w.u32(opAnd)
		w.u32(opIdent)
		w.data([]byte(identifier))
		w.u32(opAnchorHash)
		w.u32(slot)
		w.data(h[:])
	} else {
		cn := leaf.Subject.CommonName
		oid, _ := asn1.Marshal(oidAppleWWDR)
		w.u32(opAnd)
		w.u32(opIdent)
		w.data([]byte(identifier))
		w.u32(opAnd)
		w.u32(opAppleGenericAnchor)
		w.u32(opAnd)
		w.u32(opCertField)
		w.u32(0) // leaf
		w.data([]byte("subject.CN"))
		w.u32(matchEqual)
		w.data([]byte(cn))
		w.u32(opCertGeneric)
		w.u32(1)
		w.data(oid[2:])
		w.u32(matchExists)
	}
	req := blob(magicRequirement, w.b)
	text, err := decompileRequirement(req)
	if err != nil {
		panic("macho: internal error: " + err.Error())
	}
	return text, req
}

// requirementSet wraps a designated requirement in a requirement set.
func requirementSet(designated []byte) []byte {
	p := make([]byte, 12)
	binary.BigEndian.PutUint32(p, 1)
	binary.BigEndian.PutUint32(p[4:], requirementDesignated)
	binary.BigEndian.PutUint32(p[8:], 20)
	return blob(magicRequirements, append(p, designated...))
}

var requirementTypes = map[uint32]string{1: "host", 2: "guest", 3: "designated", 4: "library", 5: "plugin"}

// decompileRequirementSet renders a requirement set, one line per requirement.
func decompileRequirementSet(b []byte) (string, error) {
	be := binary.BigEndian
	if len(b) < 12 || be.Uint32(b) != magicRequirements || int(be.Uint32(b[4:])) != len(b) {
		return "", fmt.Errorf("%w: malformed requirement set", ErrBadSignature)
	}
	n := be.Uint32(b[8:])
	if uint64(n) > uint64(len(b)-12)/8 {
		return "", fmt.Errorf("%w: requirement set count %d", ErrBadSignature, n)
	}
	var lines []string
	for i := 0; i < int(n); i++ {
		t := be.Uint32(b[12+8*i:])
		off := be.Uint32(b[16+8*i:])
		if uint64(off)+8 > uint64(len(b)) {
			return "", fmt.Errorf("%w: requirement offset %d", ErrBadSignature, off)
		}
		l := be.Uint32(b[off+4:])
		if l < 8 || uint64(off)+uint64(l) > uint64(len(b)) {
			return "", fmt.Errorf("%w: requirement length %d", ErrBadSignature, l)
		}
		text, err := decompileRequirement(b[off : off+l])
		if err != nil {
			return "", err
		}
		name := requirementTypes[t]
		if name == "" {
			name = strconv.Itoa(int(t))
		}
		lines = append(lines, name+" => "+text)
	}
	return strings.Join(lines, "\n"), nil
}

// decompileRequirement renders a requirement blob in the text form
// codesign -d -r- prints.
func decompileRequirement(b []byte) (string, error) {
	be := binary.BigEndian
	if len(b) < 12 || be.Uint32(b) != magicRequirement || int(be.Uint32(b[4:])) != len(b) {
		return "", fmt.Errorf("%w: malformed requirement", ErrBadSignature)
	}
	if k := be.Uint32(b[8:]); k != exprForm {
		return "", fmt.Errorf("%w: requirement kind %d", ErrBadSignature, k)
	}
	r := &reqReader{b: b[12:]}
	s, err := r.expr(0, 0)
	if err != nil {
		return "", err
	}
	return s, nil
}

type reqReader struct {
	b []byte
	p int
}

var errBadRequirement = fmt.Errorf("%w: malformed requirement expression", ErrBadSignature)

func (r *reqReader) u32() (uint32, error) {
	if r.p+4 > len(r.b) {
		return 0, errBadRequirement
	}
	v := binary.BigEndian.Uint32(r.b[r.p:])
	r.p += 4
	return v, nil
}

func (r *reqReader) data() ([]byte, error) {
	n, err := r.u32()
	if err != nil {
		return nil, err
	}
	if uint64(n) > uint64(len(r.b)-r.p) {
		return nil, errBadRequirement
	}
	d := r.b[r.p : r.p+int(n)]
	r.p += (int(n) + 3) &^ 3
	if r.p > len(r.b) {
		r.p = len(r.b)
	}
	return d, nil
}

func quote(d []byte) string {
	s := string(d)
	return strconv.Quote(s)
}

func certSlot(v uint32) string {
	switch int32(v) {
	case 0:
		return "leaf"
	case -1:
		return "root"
	}
	return strconv.Itoa(int(int32(v)))
}

func oidString(d []byte) string {
	var oid asn1.ObjectIdentifier
	full := append([]byte{0x06, byte(len(d))}, d...)
	if len(d) < 128 {
		if _, err := asn1.Unmarshal(full, &oid); err == nil {
			return oid.String()
		}
	}
	return "H\"" + hex.EncodeToString(d) + "\""
}

func (r *reqReader) match() (string, error) {
	op, err := r.u32()
	if err != nil {
		return "", err
	}
	switch op {
	case matchExists:
		return " /* exists */", nil
	case matchAbsent:
		return " absent", nil
	}
	v, err := r.data()
	if err != nil {
		return "", err
	}
	q := quote(v)
	switch op {
	case matchEqual:
		return " = " + q, nil
	case matchContains:
		return " ~ " + q, nil
	case matchBeginsWith:
		return " = " + quote(append(append([]byte{}, v...), '*')), nil
	case matchEndsWith:
		return " = " + quote(append([]byte{'*'}, v...)), nil
	case matchLessThan, matchBefore:
		return " < " + q, nil
	case matchGreaterThan, matchAfter:
		return " > " + q, nil
	case matchLessEqual, matchOnOrBefore:
		return " <= " + q, nil
	case matchGreaterEqual, matchOnOrAfter:
		return " >= " + q, nil
	case matchOn:
		return " = " + q, nil
	}
	return "", fmt.Errorf("%w: match operation %d", ErrBadSignature, op)
}

// expr renders one expression; parent is the enclosing operator, used to
// parenthesize an "or" inside an "and".
func (r *reqReader) expr(parent uint32, depth int) (string, error) {
	if depth > 64 {
		return "", errBadRequirement
	}
	op, err := r.u32()
	if err != nil {
		return "", err
	}
	switch op &^ 0x80000000 {
	case opFalse:
		return "never", nil
	case opTrue:
		return "always", nil
	case opIdent:
		d, err := r.data()
		return "identifier " + quote(d), err
	case opAppleAnchor:
		return "anchor apple", nil
	case opAppleGenericAnchor:
		return "anchor apple generic", nil
	case opAnchorHash:
		slot, err := r.u32()
		if err != nil {
			return "", err
		}
		d, err := r.data()
		return "certificate " + certSlot(slot) + " = H\"" + hex.EncodeToString(d) + "\"", err
	case opInfoKeyValue:
		d, err := r.data()
		if err != nil {
			return "", err
		}
		v, err := r.data()
		return "info[" + string(d) + "] = " + quote(v), err
	case opInfoKeyField, opEntitlementField:
		d, err := r.data()
		if err != nil {
			return "", err
		}
		m, err := r.match()
		name := "info"
		if op == opEntitlementField {
			name = "entitlement"
		}
		return name + "[" + string(d) + "]" + m, err
	case opCertField, opCertGeneric, opCertPolicy, opCertFieldDate:
		slot, err := r.u32()
		if err != nil {
			return "", err
		}
		d, err := r.data()
		if err != nil {
			return "", err
		}
		m, err := r.match()
		var field string
		switch op &^ 0x80000000 {
		case opCertField:
			field = string(d)
		case opCertGeneric:
			field = "field." + oidString(d)
		case opCertPolicy:
			field = "policy." + oidString(d)
		case opCertFieldDate:
			field = "timestamp." + oidString(d)
		}
		return "certificate " + certSlot(slot) + "[" + field + "]" + m, err
	case opTrustedCert:
		slot, err := r.u32()
		return "certificate " + certSlot(slot) + " trusted", err
	case opTrustedCerts:
		return "anchor trusted", nil
	case opCDHash:
		d, err := r.data()
		return "cdhash H\"" + hex.EncodeToString(d) + "\"", err
	case opNamedAnchor:
		d, err := r.data()
		return "anchor apple " + string(d), err
	case opNamedCode:
		d, err := r.data()
		return "(" + string(d) + ")", err
	case opPlatform:
		v, err := r.u32()
		return "platform = " + strconv.Itoa(int(v)), err
	case opNotarized:
		return "notarized", nil
	case opLegacyDevID:
		return "legacy", nil
	case opNot:
		s, err := r.expr(opNot, depth+1)
		return "! " + s, err
	case opAnd, opOr:
		a, err := r.expr(op, depth+1)
		if err != nil {
			return "", err
		}
		b, err := r.expr(op, depth+1)
		if err != nil {
			return "", err
		}
		word := " and "
		if op == opOr {
			word = " or "
		}
		s := a + word + b
		if op == opOr && (parent == opAnd || parent == opNot) {
			s = "(" + s + ")"
		}
		return s, nil
	}
	return "", fmt.Errorf("%w: unknown requirement opcode %d", ErrBadSignature, op)
}
