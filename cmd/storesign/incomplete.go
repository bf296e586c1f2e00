package main

import (
	"errors"
	"strings"

	"github.com/storesign/storesign/internal/zipx"
	"github.com/storesign/storesign/signing/ipa"
)

// incompleteInput is the error line of an input archive (an IPA, an APK
// or an app bundle) that is empty, or a zip cut short: a download or copy
// that stopped early, whatever the file was to be, so that nobody goes
// asking for another kind of file. It is nil for any other error.
func incompleteInput(name string, err error) error {
	switch {
	case errors.Is(err, zipx.ErrEmpty):
		return rephrase(name+" is empty: download it again", err)
	case errors.Is(err, zipx.ErrCutShort):
		return rephrase(name+" is truncated (a zip cut short): download it again", err)
	}
	return nil
}

// ipaInputError is the error line of an IPA the ipa package could not
// read: an empty or cut short file is downloaded again
// ([incompleteInput]), a file that is no zip at all is not an IPA, and
// any other error follows the file name without the library's "ipa: ".
func ipaInputError(name string, err error) error {
	if e := incompleteInput(name, err); e != nil {
		return e
	}
	err = pathErr(err)
	if errors.Is(err, ipa.ErrNotIPA) && errors.Is(err, zipx.ErrFormat) {
		return rephrase(name+" is not an IPA (not a zip archive): pass a .ipa file", err)
	}
	return rephrase(name+": "+strings.TrimPrefix(err.Error(), "ipa: "), err)
}
