package jsondoc

import (
	"crypto"
	"crypto/x509"
	"strings"

	"github.com/storesign/storesign/signing/aab"
	"github.com/storesign/storesign/signing/apk"
	"github.com/storesign/storesign/signing/ipa"
)

// SignDoc is the document of apk sign, aab sign and ipa resign: the same
// top-level fields for every platform, and one platform object.
type SignDoc struct {
	Header
	Input  File `json:"input"`
	Output File `json:"output"`
	// App is the app signed; left out when its manifest could not be
	// read.
	App *App `json:"app,omitempty"`
	// Signers are the certificates the output is signed with, the
	// original signer first when a key was rotated.
	Signers []Signer `json:"signers"`
	// Verified reports that the output was verified before it was
	// written, as the commands do unless told not to.
	Verified bool     `json:"verified"`
	Warnings []string `json:"warnings"`
	// One of APK, AAB and IPA is set, for the platform signed.
	APK *APKSignInfo `json:"apk,omitempty"`
	AAB *AABInfo     `json:"aab,omitempty"`
	IPA *IPAInfo     `json:"ipa,omitempty"`
}

// APKSignInfo is what only apk sign reports.
type APKSignInfo struct {
	// Schemes are the signature schemes written: "v1", "v2", "v3",
	// "v3.1", "v4".
	Schemes []string `json:"schemes"`
	// MinSDKVersion is the lowest API level the signatures were chosen
	// for.
	MinSDKVersion int `json:"minSdkVersion"`
	// V1SignerName is the base name of the JAR signature files
	// (META-INF/NAME.SF), V1Digest the JAR manifest's digest ("sha-256");
	// both left out without v1.
	V1SignerName string `json:"v1SignerName,omitempty"`
	V1Digest     string `json:"v1Digest,omitempty"`
	// Lineage is the signing certificate lineage signed with (key
	// rotation), oldest first; left out without one.
	Lineage []LineageSigner `json:"lineage,omitempty"`
	// Stamp is the source stamp signer; left out without a stamp.
	Stamp *Signer `json:"stamp,omitempty"`
	// Alignment says how the entries were aligned.
	Alignment Alignment `json:"alignment"`
	// Entries is the number of zip entries written.
	Entries int `json:"entries"`
	// V4SignatureFile is the .idsig written beside the output (v4 only).
	V4SignatureFile *File `json:"v4SignatureFile,omitempty"`
}

// Alignment is how apk sign aligned the entries.
type Alignment struct {
	// Preserved reports that the input's alignment was kept.
	Preserved bool `json:"preserved"`
	// LibPageAlignment is the alignment of stored native libraries in
	// bytes (0 when preserved).
	LibPageAlignment int `json:"libPageAlignment"`
	// Realigned counts the entries whose padding was rewritten.
	Realigned int `json:"realigned"`
}

// LineageSigner is a certificate of an APK signing certificate lineage,
// and what the lineage lets it do once the app has rotated from it.
type LineageSigner struct {
	Signer
	Capabilities Capabilities `json:"capabilities"`
}

// Capabilities are the capabilities of a lineage signer, as apksigner
// lineage --print-certs lists them.
type Capabilities struct {
	InstalledData bool `json:"installedData"`
	SharedUID     bool `json:"sharedUid"`
	Permission    bool `json:"permission"`
	Rollback      bool `json:"rollback"`
	Auth          bool `json:"auth"`
}

func lineageSigners(l *apk.Lineage) []LineageSigner {
	if l == nil {
		return nil
	}
	out := []LineageSigner{}
	for _, c := range l.Certificates() {
		caps, _ := l.Capabilities(c)
		out = append(out, LineageSigner{Signer: newSigner(c), Capabilities: Capabilities{
			InstalledData: caps.Has(apk.CapInstalledData),
			SharedUID:     caps.Has(apk.CapSharedUID),
			Permission:    caps.Has(apk.CapPermission),
			Rollback:      caps.Has(apk.CapRollback),
			Auth:          caps.Has(apk.CapAuth),
		}})
	}
	return out
}

// AABInfo is what only aab sign and aab verify report.
type AABInfo struct {
	// Entries is the number of entries the signatures cover.
	Entries int `json:"entries"`
	// Signatures are the bundle's JAR signatures, one per signer, in the
	// order of the top-level signers.
	Signatures []AABSignature `json:"signatures"`
}

// AABSignature is one JAR signature of an app bundle: its signer and
// files.
type AABSignature struct {
	// Name is the base name of the signature files ("UPLOAD");
	// SignatureFile and BlockFile their entry names.
	Name          string `json:"name"`
	SignatureFile string `json:"signatureFile"`
	BlockFile     string `json:"blockFile"`
	Signer
	// SignatureAlgorithm is named as Java names it ("SHA256withRSA");
	// DigestAlgorithm is the entries' digest ("sha-256").
	SignatureAlgorithm string `json:"signatureAlgorithm"`
	DigestAlgorithm    string `json:"digestAlgorithm"`
	// SigningTime is the signed signing time; left out when absent.
	SigningTime string `json:"signingTime,omitempty"`
}

func aabInfo(res *aab.Result) (*AABInfo, []*x509.Certificate) {
	info := &AABInfo{Signatures: []AABSignature{}}
	var certs []*x509.Certificate
	if res == nil {
		return info, nil
	}
	info.Entries = res.Entries
	for _, s := range res.Signers {
		certs = append(certs, s.Certificate)
		info.Signatures = append(info.Signatures, AABSignature{
			Signer: newSigner(s.Certificate), Name: s.Name,
			SignatureFile: s.SignatureFile, BlockFile: s.BlockFile,
			SignatureAlgorithm: s.SignatureAlgorithm, DigestAlgorithm: hashName(s.DigestAlgorithm),
			SigningTime: timeString(s.SigningTime),
		})
	}
	return info, certs
}

// hashName names h in lowercase: "sha-256"; "" for none.
func hashName(h crypto.Hash) string {
	if h == 0 {
		return ""
	}
	return strings.ToLower(h.String())
}

// APKSign is the document of apk sign: the APK signed from in to out
// with opts, res what [apk.SignFile] returned, warnings those the
// command printed. It reads both files.
func APKSign(in, out string, res *apk.Result, opts apk.Options, warnings []string) *SignDoc {
	d := &SignDoc{
		Header: header("apk sign"), Input: newFile(in), Output: newFile(out), App: androidApp(out),
		Signers: []Signer{}, Verified: res != nil && !opts.SkipVerify, Warnings: list(warnings),
		APK: &APKSignInfo{Schemes: []string{}},
	}
	if res == nil {
		return d
	}
	certs := []*x509.Certificate{res.Signer, res.RotatedSigner}
	if opts.Lineage == nil {
		for _, id := range opts.NextIdentities {
			if id != nil {
				certs = append(certs, id.Certificate)
			}
		}
	}
	d.Signers = signers(certs...)
	a := d.APK
	a.Schemes = list(res.Schemes())
	a.MinSDKVersion = res.MinSDKVersion
	if res.V1 {
		a.V1SignerName, a.V1Digest = res.V1Name, hashName(res.V1Digest)
	}
	a.Lineage = lineageSigners(opts.Lineage)
	if opts.StampSigner != nil {
		s := newSigner(opts.StampSigner.Certificate)
		a.Stamp = &s
	}
	a.Alignment = Alignment{Preserved: res.LibPageAlignment == 0, LibPageAlignment: res.LibPageAlignment, Realigned: res.Realigned}
	a.Entries = res.Entries
	if res.V4 {
		a.V4SignatureFile = optFile(out + ".idsig")
	}
	return d
}

// AABSign is the document of aab sign: the bundle signed from in to out
// with opts, res what [aab.SignFile] returned. It reads both files.
func AABSign(in, out string, res *aab.Result, opts aab.Options) *SignDoc {
	info, certs := aabInfo(res)
	return &SignDoc{
		Header: header("aab sign"), Input: newFile(in), Output: newFile(out), App: androidApp(out),
		Signers: signers(certs...), Verified: res != nil && !opts.SkipVerify, Warnings: []string{},
		AAB: info,
	}
}

// IPAResign is the document of ipa resign: the IPA re-signed from in to
// out with opts, rep what [ipa.ResignFile] returned. It reads both files.
func IPAResign(in, out string, rep *ipa.Report, opts ipa.Options) *SignDoc {
	d := &SignDoc{
		Header: header("ipa resign"), Input: newFile(in), Output: newFile(out),
		Signers: []Signer{}, Verified: rep != nil, Warnings: []string{}, IPA: &IPAInfo{Bundles: []IPABundle{}},
	}
	if opts.Identity != nil && rep != nil {
		d.Signers = signers(opts.Identity.Certificate)
	}
	if rep == nil {
		return d
	}
	d.App = iosApp(rep)
	d.Warnings = list(rep.Warnings)
	d.IPA = ipaInfo(rep)
	return d
}
