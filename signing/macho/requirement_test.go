package macho_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/storesign/storesign/signing/macho"
)

// TestDesignatedRequirementBytes assembles, word by word, the
// requirement codesign's DRMaker::appleAnchor writes for an iOS
// signature (and zsign's SlotBuildRequirements copies), and compares.
func TestDesignatedRequirementBytes(t *testing.T) {
	var b []byte
	u32 := func(v ...uint32) {
		for _, x := range v {
			b = binary.BigEndian.AppendUint32(b, x)
		}
	}
	data := func(d []byte) {
		u32(uint32(len(d)))
		b = append(b, d...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	const (
		opIdent, opAnd, opCertField, opCertGeneric, opAppleGenericAnchor = 2, 6, 11, 14, 15
		matchExists, matchEqual                                          = 0, 1
	)
	u32(0xfade0c00, 0, 1) // magic, length (patched), expression form
	u32(opAnd, opIdent)
	data([]byte("com.example.app"))
	u32(opAnd, opAppleGenericAnchor, opAnd, opCertField, 0)
	data([]byte("subject.CN"))
	u32(matchEqual)
	data([]byte(testLeafCN))
	u32(opCertGeneric, 1)
	data([]byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x63, 0x64, 0x06, 0x02, 0x01}) // 1.2.840.113635.100.6.2.1
	u32(matchExists)
	binary.BigEndian.PutUint32(b[4:], uint32(len(b)))

	text, blob := macho.DesignatedRequirement("com.example.app", testApple().Identity.Certificate)
	if !bytes.Equal(blob, b) {
		t.Errorf("designated requirement\n got %x\nwant %x", blob, b)
	}
	if want := `identifier "com.example.app" and anchor apple generic and certificate leaf[subject.CN] = "` + testLeafCN + `" and certificate 1[field.1.2.840.113635.100.6.2.1] /* exists */`; text != want {
		t.Errorf("text %q", text)
	}
}
