package actions

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SecretsDirPrefix starts the name of every folder [Action.NewSecretsDir]
// makes; the cleanup step refuses to remove any other folder.
const SecretsDirPrefix = "storesign-secrets-"

// NewSecretsDir makes a private (0700) folder in the runner's temp folder
// for decoded secrets. The caller removes it with [RemoveSecretsDir]; the
// actions' cleanup step does so even when a step failed.
func (a *Action) NewSecretsDir() (string, error) {
	dir, err := os.MkdirTemp(a.TempDir(), SecretsDirPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("making the secrets folder: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("making the secrets folder private: %w", err)
	}
	return dir, nil
}

// WriteSecret writes data to a new file name in dir, readable by the owner
// only (0600), and returns its path. It refuses to overwrite a file.
func WriteSecret(dir, name string, data []byte) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("writing a secret: bad file name %q", name)
	}
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("writing a secret: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p)
		return "", fmt.Errorf("writing a secret: %w", err)
	}
	return p, nil
}

// ErrNotSecretsDir is returned by [RemoveSecretsDir] for a folder that
// [Action.NewSecretsDir] did not make.
var ErrNotSecretsDir = errors.New("actions: not a storesign secrets folder")

// RemoveSecretsDir removes a folder made by [Action.NewSecretsDir] and
// everything in it. An empty dir is no error; a folder of another name is
// left alone.
func RemoveSecretsDir(dir string) error {
	if dir == "" {
		return nil
	}
	if !strings.HasPrefix(filepath.Base(dir), SecretsDirPrefix) {
		return ErrNotSecretsDir
	}
	return os.RemoveAll(dir)
}
