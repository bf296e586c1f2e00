package jsondoc

import (
	"math"

	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/ipa"
)

// VerifyDoc is the document of apk verify, aab verify and ipa verify:
// the same top-level fields for every platform, and one platform object.
type VerifyDoc struct {
	Header
	File File `json:"file"`
	// App is the app verified; left out when its manifest or Info.plist
	// could not be read.
	App *App `json:"app,omitempty"`
	// Verified reports that every signature verifies.
	Verified bool `json:"verified"`
	// Signers are the certificates the build is signed with (for an APK,
	// those apksigner reports: the newest v3.1 or v3 signer, else the v2,
	// else the v1 signers).
	Signers []Signer `json:"signers"`
	// Problems say why it does not verify; Warnings what verifies but
	// deserves a look.
	Problems []string `json:"problems"`
	Warnings []string `json:"warnings"`
	// One of APK, AAB and IPA is set, for the platform verified.
	APK *APKVerifyInfo `json:"apk,omitempty"`
	AAB *AABInfo       `json:"aab,omitempty"`
	IPA *IPAInfo       `json:"ipa,omitempty"`
}

// APKVerifyInfo is what only apk verify reports.
type APKVerifyInfo struct {
	// Schemes are the schemes the APK verified with: "v1", "v2", "v3",
	// "v3.1", and "v4" for a verified --v4-signature-file.
	Schemes []string `json:"schemes"`
	// MinSDKVersion and MaxSDKVersion are the API levels checked; the
	// maximum is left out when unbounded. TargetSDKVersion is the
	// manifest's (left out when unknown).
	MinSDKVersion    int `json:"minSdkVersion"`
	MaxSDKVersion    int `json:"maxSdkVersion,omitempty"`
	TargetSDKVersion int `json:"targetSdkVersion,omitempty"`
	// SchemeSigners are the signers of every scheme checked.
	SchemeSigners []SchemeSigner `json:"schemeSigners"`
	// Lineage is the signing certificate lineage of the v3 signers,
	// oldest first; left out without key rotation.
	Lineage []Signer `json:"lineage,omitempty"`
	// V4 is the outcome of the --v4-signature-file check, which (as in
	// apksigner) does not change the verdict; left out without one.
	V4 *V4Check `json:"v4,omitempty"`
	// SourceStamp is the source stamp checked by --verify-source-stamp
	// ([APKVerifyStamp]), which checks it alone: the schemes are then
	// not checked. Left out otherwise.
	SourceStamp *SourceStamp `json:"sourceStamp,omitempty"`
}

// SourceStamp is an APK's source stamp, as apk verify
// --verify-source-stamp checks it.
type SourceStamp struct {
	Verified bool `json:"verified"`
	// Signer is the stamp signer's certificate; left out when the stamp
	// block is missing or malformed.
	Signer *Signer `json:"signer,omitempty"`
	// Lineage is the stamp signer's lineage, oldest first; left out
	// without one.
	Lineage []Signer `json:"lineage,omitempty"`
	// Time is the time of stamping; left out without one.
	Time string `json:"time,omitempty"`
}

// SchemeSigner is a signer of one APK signature scheme.
type SchemeSigner struct {
	// Scheme is "v1", "v2", "v3" or "v3.1".
	Scheme string `json:"scheme"`
	// Name is the JAR signer name for v1 ("CERT"), "#1", "#2"... else.
	Name string `json:"name"`
	Signer
	// MinSDKVersion and MaxSDKVersion are the API levels a v3 or v3.1
	// signer targets, DevRelease a v3.1 signer that targets a development
	// release; left out for v1 and v2.
	MinSDKVersion int  `json:"minSdkVersion,omitempty"`
	MaxSDKVersion int  `json:"maxSdkVersion,omitempty"`
	DevRelease    bool `json:"devRelease,omitempty"`
}

// V4Check is the outcome of checking an APK Signature Scheme v4 file.
type V4Check struct {
	Verified bool     `json:"verified"`
	Problems []string `json:"problems"`
	// File is the .idsig found beside the APK and checked; left out for
	// one named by --v4-signature-file.
	File *File `json:"file,omitempty"`
}

// APKVerify is the document of apk verify, res and err what
// [apk.VerifyFile] returned for the APK at file. A nil res (the APK could
// not be read) gives a document that does not verify, err its problem.
// It reads the file.
func APKVerify(file string, res *apk.VerifyResult, err error) *VerifyDoc {
	d := &VerifyDoc{
		Header: header("apk verify"), File: newFile(file), App: androidApp(file),
		Signers: []Signer{}, Problems: []string{}, Warnings: []string{},
		APK: &APKVerifyInfo{Schemes: []string{}, SchemeSigners: []SchemeSigner{}},
	}
	if res == nil {
		if err != nil {
			d.Problems = []string{err.Error()}
		}
		return d
	}
	d.Verified = res.Verified
	d.Problems, d.Warnings = list(res.Errors), list(res.Warnings)
	if !res.Verified && len(d.Problems) == 0 && err != nil {
		d.Problems = []string{err.Error()}
	}
	for _, s := range res.Signers {
		if s.Certificate != nil {
			d.Signers = append(d.Signers, newSigner(s.Certificate))
		}
	}
	a := d.APK
	for _, v := range []struct {
		name string
		on   bool
	}{{"v1", res.V1}, {"v2", res.V2}, {"v3", res.V3}, {"v3.1", res.V31}, {"v4", res.V4}} {
		if v.on {
			a.Schemes = append(a.Schemes, v.name)
		}
	}
	a.MinSDKVersion, a.TargetSDKVersion = res.MinSDK, res.TargetSDK
	if res.MaxSDK != math.MaxInt32 && res.MaxSDK != math.MaxInt {
		a.MaxSDKVersion = res.MaxSDK
	}
	for _, l := range [][]*apk.VerifySigner{res.V1Signers, res.V2Signers, res.V3Signers, res.V31Signers} {
		for _, s := range l {
			if s.Certificate == nil {
				continue
			}
			j := SchemeSigner{Signer: newSigner(s.Certificate), Scheme: s.Scheme, Name: s.Name, DevRelease: s.DevRelease}
			if s.Scheme == "v3" || s.Scheme == "v3.1" {
				j.MinSDKVersion, j.MaxSDKVersion = s.MinSDK, s.MaxSDK
			}
			a.SchemeSigners = append(a.SchemeSigners, j)
		}
	}
	if len(res.Lineage) > 0 {
		a.Lineage = signers(res.Lineage...)
	}
	if res.V4 || len(res.V4Errors) > 0 || res.V4SignatureFile != "" {
		a.V4 = &V4Check{Verified: res.V4, Problems: list(res.V4Errors), File: optFile(res.V4SignatureFile)}
	}
	return d
}

// APKVerifyStamp is the document of apk verify --verify-source-stamp,
// res and err what [apk.VerifySourceStamp] returned for the APK at file:
// verified is the source stamp's verdict; the APK's signatures are not
// checked, so signers and the schemes are empty. A nil res (no stamp, or
// an APK that could not be read) gives a document that does not verify,
// err its problem. It reads the file.
func APKVerifyStamp(file string, res *apk.StampResult, err error) *VerifyDoc {
	d := &VerifyDoc{
		Header: header("apk verify"), File: newFile(file), App: androidApp(file),
		Signers: []Signer{}, Problems: []string{}, Warnings: []string{},
		APK: &APKVerifyInfo{Schemes: []string{}, SchemeSigners: []SchemeSigner{}, SourceStamp: &SourceStamp{}},
	}
	if res == nil {
		if err != nil {
			d.Problems = []string{err.Error()}
		}
		return d
	}
	d.Verified = res.Verified
	d.Problems, d.Warnings = list(res.Errors), list(res.Warnings)
	if !res.Verified && len(d.Problems) == 0 && err != nil {
		d.Problems = []string{err.Error()}
	}
	st := d.APK.SourceStamp
	st.Verified, st.Time = res.Verified, timeString(res.Time)
	if res.Certificate != nil {
		s := newSigner(res.Certificate)
		st.Signer = &s
	}
	if len(res.Lineage) > 0 {
		st.Lineage = signers(res.Lineage...)
	}
	return d
}

// AABVerify is the document of aab verify, res and err what
// [aab.VerifyFile] returned for the bundle at file: it verifies when err
// is nil. It reads the file.
func AABVerify(file string, res *aab.Result, err error) *VerifyDoc {
	d := &VerifyDoc{
		Header: header("aab verify"), File: newFile(file), App: androidApp(file),
		Verified: err == nil && res != nil, Problems: []string{}, Warnings: []string{},
	}
	if err != nil {
		d.Problems = []string{err.Error()}
		res = nil // the signers of a bundle that does not verify are not its signers
	}
	info, cs := aabInfo(res)
	d.AAB, d.Signers = info, signers(cs...)
	return d
}

// IPAVerify is the document of ipa verify, rep and err what
// [ipa.VerifyFile] returned for the IPA at file: it verifies when err is
// nil. The signers hold only the common name and expiry of each
// signature's leaf certificate, all the report gives. It reads the file.
func IPAVerify(file string, rep *ipa.Report, err error) *VerifyDoc {
	d := &VerifyDoc{
		Header: header("ipa verify"), File: newFile(file),
		Verified: err == nil && rep != nil, Signers: []Signer{}, Problems: ipaProblems(rep, err), Warnings: []string{},
		IPA: &IPAInfo{Bundles: []IPABundle{}},
	}
	if rep == nil {
		return d
	}
	d.App, d.Signers, d.Warnings, d.IPA = iosApp(rep), iosSigners(rep), list(rep.Warnings), ipaInfo(rep)
	for _, b := range rep.Bundles {
		for _, dev := range b.Deviations {
			d.Warnings = append(d.Warnings, b.Path+": not as codesign writes it: "+dev)
		}
	}
	return d
}
