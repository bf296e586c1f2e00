package zipx

import "errors"

// Kind names the kind of a zipx error, for callers that report or test
// it without matching each type: "format" (ErrFormat, ErrEmpty),
// "truncated" (ErrTruncated, ErrCutShort), "name" (*NameError), "unsupported" (*UnsupportedError),
// "limit" (*LimitError), "overlap" (*OverlapError), "mismatch"
// (*MismatchError), "duplicate" (*DuplicateError); "" for any other error.
func Kind(err error) string {
	var (
		name  *NameError
		unsup *UnsupportedError
		limit *LimitError
		over  *OverlapError
		mis   *MismatchError
		dup   *DuplicateError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &name):
		return "name"
	case errors.As(err, &unsup):
		return "unsupported"
	case errors.As(err, &limit):
		return "limit"
	case errors.As(err, &over):
		return "overlap"
	case errors.As(err, &mis):
		return "mismatch"
	case errors.As(err, &dup):
		return "duplicate"
	case errors.Is(err, ErrFormat):
		return "format"
	case errors.Is(err, ErrTruncated):
		return "truncated"
	}
	return ""
}
