package macho

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
)

var errTODO = errors.New("macho: not implemented yet")

func sign(ctx context.Context, src io.ReaderAt, size int64, dst io.Writer, opts SignOptions) (*SignResult, error) {
	return nil, errTODO
}

func verify(ctx context.Context, r io.ReaderAt, size int64, opts VerifyOptions) (*Info, error) {
	return nil, errTODO
}

func isMachO(head []byte) bool { return false }

type file struct{ slices []slice }
type slice struct{ cryptID uint32 }

func parseFile(r io.ReaderAt, size int64) (*file, error) { return nil, errTODO }

func resolveChain(ctx context.Context, leaf *x509.Certificate, opts ChainOptions) ([]*x509.Certificate, error) {
	return nil, errTODO
}

func designatedRequirement(identifier string, leaf *x509.Certificate) (string, []byte) { return "", nil }
