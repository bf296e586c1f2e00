package main

import (
	"errors"
	"strings"

	"github.com/storesign/storesign/signing/ipa"
	"github.com/storesign/storesign/signing/macho"
	"github.com/storesign/storesign/signing/provision"
)

// libraryAdvices say what to do about library errors whose message says
// what is wrong but not what to do. A row matches by sentinel or by text;
// cut drops the low-level detail after the match (an ASN.1 dump).
type libraryAdvice struct {
	is     error
	text   string
	cut    bool
	advice string
}

func libraryAdvices() []libraryAdvice {
	return []libraryAdvice{
		{is: provision.ErrNotProfile, cut: true, advice: "pass the .mobileprovision file downloaded from the Apple Developer site (Profiles)"},
		{text: "signing: not a valid PKCS#12 file", cut: true, advice: "export the certificate with its private key from Keychain Access as a .p12, and pass that file"},
		{text: "not a keystore (neither JKS nor PKCS#12)", advice: "pass the .jks or .p12 keystore the app is signed with"},
		{text: "not a valid private key", advice: "pass the PKCS#8 private key (.pk8 or PEM) that goes with the certificate"},
		{text: "not a valid certificate", cut: true, advice: "pass the X.509 certificate (PEM or DER) of the signing key"},
		{is: ipa.ErrBadPlist, advice: "fix the Info.plist (plutil -lint shows where) or rebuild the app in Xcode"},
		{is: macho.ErrNotMachO, advice: "the bundle's CFBundleExecutable must name its Mach-O binary: rebuild the app"},
		{is: macho.ErrTruncated, advice: "the binary is damaged: download the IPA again, or rebuild it"},
	}
}

// withAdvice is err's message with what to do appended, for the library
// errors of libraryAdvices. A verify failure keeps its own advice.
func withAdvice(err error) string {
	msg := err.Error()
	var nv *notVerifiedError
	if errors.As(err, &nv) {
		return msg
	}
	for _, a := range libraryAdvices() {
		match := a.text
		if a.is != nil {
			if !errors.Is(err, a.is) {
				continue
			}
			match = a.is.Error()
		} else if !strings.Contains(msg, a.text) {
			continue
		}
		if a.cut {
			if i := strings.Index(msg, match); i >= 0 {
				msg = msg[:i+len(match)]
			}
		}
		if !strings.Contains(msg, a.advice) {
			msg += ": " + a.advice
		}
		return msg
	}
	return msg
}
