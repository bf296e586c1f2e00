package actions

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSecretsDir(t *testing.T) {
	tmp := t.TempDir()
	a, _ := newTest(t, map[string]string{"RUNNER_TEMP": tmp})
	dir, err := a.NewSecretsDir()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != tmp {
		t.Errorf("secrets folder %s is not in RUNNER_TEMP", dir)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want 0700", fi.Mode().Perm())
	}
	p, err := WriteSecret(dir, "identity.p12", []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := WriteSecret(dir, "identity.p12", []byte("other")); err == nil {
		t.Errorf("WriteSecret overwrote a file")
	}
	if _, err := WriteSecret(dir, "../escape", []byte("x")); err == nil {
		t.Errorf("WriteSecret wrote outside the folder")
	}
	other := t.TempDir()
	if err := RemoveSecretsDir(other); !errors.Is(err, ErrNotSecretsDir) {
		t.Errorf("RemoveSecretsDir(%s) = %v", other, err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("RemoveSecretsDir removed a folder it did not make")
	}
	if err := RemoveSecretsDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the secrets folder is still there")
	}
	if err := RemoveSecretsDir(""); err != nil {
		t.Errorf("RemoveSecretsDir(\"\") = %v", err)
	}
}

func TestMaskJSONKey(t *testing.T) {
	key := "{\n  \"type\": \"service_account\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n\",\n  \"x\": [\n  ],\n}\n"
	a, log := newTest(t, map[string]string{"INPUT_CREDENTIALS_JSON": key})
	a.SecretInput("credentials-json")
	for _, l := range []string{"{", "}", "],", "]"} {
		if a.masked[l] {
			t.Errorf("%q is masked: every one in the log would be hidden", l)
		}
	}
	if !a.masked[`"private_key": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",`] {
		t.Errorf("the private key line is not masked; log:\n%s", log)
	}
	a2, _ := newTest(t, map[string]string{"INPUT_P12_PASSWORD": "pw\n"})
	if a2.SecretInput("p12-password"); !a2.masked["pw"] {
		t.Errorf("a short one-line password is not masked")
	}
}
