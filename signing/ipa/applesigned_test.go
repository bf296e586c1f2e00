package ipa

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"

	"github.com/storesign/storesign/internal/testenv"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/signingtest"
)

// appleRequirements compiles the requirement set of code Apple signs
// itself: designated => identifier "<id>" and anchor apple.
func appleRequirements(id string) []byte {
	be := binary.BigEndian
	expr := be.AppendUint32(nil, 6) // and
	expr = be.AppendUint32(expr, 2) // identifier
	expr = be.AppendUint32(expr, uint32(len(id)))
	expr = append(expr, id...)
	for len(expr)%4 != 0 {
		expr = append(expr, 0)
	}
	expr = be.AppendUint32(expr, 3) // anchor apple
	req := be.AppendUint32(nil, 0xfade0c00)
	req = be.AppendUint32(req, uint32(12+len(expr)))
	req = be.AppendUint32(req, 1) // expression form
	req = append(req, expr...)
	set := be.AppendUint32(nil, 0xfade0c01)
	set = be.AppendUint32(set, uint32(20+len(req)))
	set = be.AppendUint32(set, 1)
	set = be.AppendUint32(set, 3) // designated
	set = be.AppendUint32(set, 20)
	return append(set, req...)
}

// TestKeepAppleSigned re-signs an app holding a framework Apple itself
// signed: it is left as it was, byte for byte, as Xcode leaves it, and the
// app's seal covers it.
func TestKeepAppleSigned(t *testing.T) {
	f := newFixture(t)
	const dir = "Frameworks/AppleKit.framework/"
	info := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>CFBundleExecutable</key>
	<string>AppleKit</string>
	<key>CFBundleIdentifier</key>
	<string>com.apple.AppleKit</string>
</dict>
</plist>
`)
	s1, s2 := sha1.Sum(info), sha256.Sum256(info)
	cr := buildCodeResources([]resource{{rel: "Info.plist", sum: fileSum{s1[:], s2[:]}}}, sealSHA256)
	bin := signingtest.IOSBinary(signingtest.IOSBinaryOptions{Dylib: true, Seed: "apple"})
	apple := signingtest.NewApple(signingtest.AppleOptions{TeamID: "APPLE00000", Organization: "Apple Inc."})
	var signed bytes.Buffer
	if _, err := macho.Sign(context.Background(), bytes.NewReader(bin), int64(len(bin)), &signed, macho.SignOptions{
		Identity: apple.Identity, Identifier: "com.apple.AppleKit", Requirements: appleRequirements("com.apple.AppleKit"),
		InfoPlist: info, CodeResources: cr, Now: func() time.Time { return signingtest.Epoch },
	}); err != nil {
		t.Fatal(err)
	}
	extra := []signingtest.IPAFile{
		{Name: dir + "Info.plist", Data: info},
		{Name: dir + "AppleKit", Data: signed.Bytes(), Mode: 0o755},
		{Name: dir + "_CodeSignature/CodeResources", Data: cr},
	}
	in := signingtest.IPA(signingtest.IPAOptions{Minimal: true, Extra: extra})
	out, rep := resign(t, in, f.opts())
	got := testenv.ZipFiles(t, out)
	for _, e := range extra {
		if !bytes.Equal(got["Payload/Example.app/"+e.Name], e.Data) {
			t.Errorf("%s: changed", e.Name)
		}
	}
	kept := false
	for _, b := range rep.Bundles {
		kept = kept || b.AppleSigned && b.Path == "Payload/Example.app/"+dir[:len(dir)-1]
	}
	if !kept {
		t.Errorf("the report does not say the framework was left as Apple signed it: %+v", rep.Bundles)
	}
	if _, err := Verify(context.Background(), bytes.NewReader(out), int64(len(out)), f.vopts()); err != nil {
		t.Fatal(err)
	}
}
