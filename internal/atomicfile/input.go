package atomicfile

import (
	"fmt"
	"os"
)

// OpenInput opens the input of a *File function (apk.SignFile,
// ipa.VerifyFile...) read-only and returns it with its size. A folder is
// refused with "<name> is a folder, not <what>"; other errors are the os
// package's, with the path.
func OpenInput(name, what string) (*os.File, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if st.IsDir() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is a folder, not %s", name, what)
	}
	return f, st.Size(), nil
}
