package main

import (
	"testing"

	"github.com/storesign/storesign/signing/ipa"
)

// TestIPACheckRefusal checks the one line of an IPA the checks refuse:
// the file, then the first error and what to do, as every error reads.
func TestIPACheckRefusal(t *testing.T) {
	for _, c := range []struct {
		errs []ipa.Finding
		want string
	}{
		{[]ipa.Finding{{Code: "ITMS-90046", Severity: ipa.SeverityError, Bundle: "Payload/A.app", Message: "signed with get-task-allow true", Fix: "re-sign with an App Store distribution profile"}},
			"build/A.ipa: App Store Connect would refuse it: 1 error(s), first ITMS-90046: Payload/A.app: signed with get-task-allow true: re-sign with an App Store distribution profile"},
		{[]ipa.Finding{{Code: "ITMS-90000", Severity: ipa.SeverityError, Bundle: "Payload/A.app", Message: "something is wrong"}, {Code: "ITMS-90001"}},
			"build/A.ipa: App Store Connect would refuse it: 2 error(s), first ITMS-90000: Payload/A.app: something is wrong: fix it, then check the IPA again"},
	} {
		if got := ipaCheckRefusal("build/A.ipa", c.errs).Error(); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}
