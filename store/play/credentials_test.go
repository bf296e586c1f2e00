package play_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/play"
	"github.com/storesign/storesign/store/play/playtest"
)

// serviceAccount returns a service account key file whose token_uri is
// tokenURL.
func serviceAccount(t *testing.T, tokenURL string) ([]byte, string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(signingtest.RSAKey("play service account", 2048))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "storesign-test", "private_key_id": "k1",
		"private_key": keyPEM, "client_email": "releaser@storesign-test.iam.gserviceaccount.com",
		"client_id": "1", "token_uri": tokenURL,
	})
	return b, keyPEM
}

// TestServiceAccount: a service account key gets a token from its
// token_uri (a JWT grant), which Play then sees; a refused grant is an
// ErrAuth naming the account, without the key.
func TestServiceAccount(t *testing.T) {
	var grants atomic.Int32
	refuse := false
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		grants.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if refuse || !strings.Contains(string(body), "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer") {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
			return
		}
		io.WriteString(w, `{"access_token":"ya29.sa-token","token_type":"Bearer","expires_in":3600}`)
	}))
	defer tokens.Close()
	sa, keyPEM := serviceAccount(t, tokens.URL)

	e := newEnv(t, playtest.Options{Token: "ya29.sa-token"})
	c, err := play.New(context.Background(), play.WithEndpoint(e.url), play.WithoutEnvironment(), play.WithCredentialsJSON(sa))
	if err != nil {
		t.Fatal(err)
	}
	data := bundle(pkg, 2)
	if _, err := c.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), play.UploadOptions{Track: "internal"}); err != nil {
		t.Fatal(err)
	}
	if grants.Load() != 1 {
		t.Errorf("%d token grants, want 1 (the token is reused)", grants.Load())
	}

	refuse = true
	c, err = play.New(context.Background(), play.WithEndpoint(e.url), play.WithoutEnvironment(), play.WithCredentialsJSON(sa))
	if err != nil {
		t.Fatal(err)
	}
	data = bundle(pkg, 3)
	_, err = c.Upload(context.Background(), bytes.NewReader(data), int64(len(data)), play.UploadOptions{Track: "internal"})
	if !errors.Is(err, play.ErrAuth) || !strings.Contains(err.Error(), "releaser@storesign-test.iam.gserviceaccount.com") || !strings.Contains(err.Error(), "Invalid JWT Signature") {
		t.Fatalf("error %v, want ErrAuth naming the account", err)
	}
	for _, line := range strings.Split(keyPEM, "\n")[1:3] {
		if strings.Contains(err.Error(), line) {
			t.Error("the error holds the private key")
		}
	}
}
