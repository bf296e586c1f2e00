package drive

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/storesign/storesign/drive/drivetest"
	"github.com/storesign/storesign/signing/signingtest"
)

// tokenServer plays Google's OAuth token endpoint for service accounts:
// it checks the JWT's scope and subject and hands out short-lived tokens.
func tokenServer(t *testing.T, wantScope, wantSub string, issued *atomic.Int32) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		parts := strings.Split(r.Form.Get("assertion"), ".")
		if r.Form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || len(parts) != 3 {
			http.Error(w, `{"error":"invalid_grant"}`, 400)
			return
		}
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims struct {
			Scope string `json:"scope"`
			Sub   string `json:"sub"`
		}
		json.Unmarshal(b, &claims)
		if claims.Sub == "revoked@example.com" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			w.Write([]byte(`{"error":"unauthorized_client","error_description":"Client is unauthorized to retrieve access tokens using this method"}`))
			return
		}
		if claims.Scope != wantScope || claims.Sub != wantSub {
			t.Errorf("token request for scope %q sub %q", claims.Scope, claims.Sub)
		}
		issued.Add(1)
		w.Header().Set("Content-Type", "application/json")
		// expires_in 1: every request needs a fresh token, as hours into
		// a long transfer.
		w.Write([]byte(`{"access_token":"good","token_type":"Bearer","expires_in":1}`))
	}))
}

func serviceAccountJSON(t *testing.T, tokenURL string) []byte {
	key := signingtest.RSAKey("drive-sa", 2048)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "p", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "signer@p.iam.gserviceaccount.com", "client_id": "1",
		"token_uri": tokenURL,
	})
	return b
}

func TestServiceAccountCredentials(t *testing.T) {
	var issued atomic.Int32
	tok := tokenServer(t, string(ScopeReadOnly), "planner@example.com", &issued)
	defer tok.Close()
	creds := serviceAccountJSON(t, tok.URL)
	path := filepath.Join(t.TempDir(), "sa.json")
	os.WriteFile(path, creds, 0o600)

	s, c := newTest(t, drivetest.Options{Token: "good"}, WithCredentialsFile(path), WithScope(ScopeReadOnly), WithSubject("planner@example.com"))
	folder, _ := s.AddFolder("", "", "in")
	ctx := context.Background()
	for range 3 {
		if _, err := c.List(ctx, folder); err != nil {
			t.Fatal(err)
		}
	}
	if issued.Load() < 2 {
		t.Errorf("%d tokens issued: expired tokens were not refreshed", issued.Load())
	}
	// Errors name the account to share with, never the key.
	_, err := c.Stat(ctx, "1unknownunknownunknown")
	if err == nil || !strings.Contains(err.Error(), "share the file or folder with planner@example.com") {
		t.Errorf("got %v", err)
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Error("key material in an error")
	}

	// A token refused by Google fails at once, with advice.
	_, c2 := newTest(t, drivetest.Options{Token: "good"}, WithCredentialsFile(path), WithScope(ScopeReadOnly), WithSubject("revoked@example.com"))
	_, err = c2.List(ctx, folder)
	if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "getting an access token for revoked@example.com failed (unauthorized_client: Client is unauthorized") {
		t.Errorf("refused token: %v", err)
	}

	// A subject only works with a service account key.
	_, err = New(ctx, WithCredentialsJSON([]byte(`{"type":"authorized_user","client_id":"x","client_secret":"y","refresh_token":"z"}`)), WithSubject("a@b.c"))
	if err == nil || !strings.Contains(err.Error(), "needs a service account key") {
		t.Errorf("subject with user credentials: %v", err)
	}
}

func TestNoQuotaNamesServiceAccount(t *testing.T) {
	var issued atomic.Int32
	tok := tokenServer(t, string(ScopeDrive), "", &issued)
	defer tok.Close()
	s, c := newTest(t, drivetest.Options{Token: "good", NoQuota: true}, WithCredentialsJSON(serviceAccountJSON(t, tok.URL)))
	folder, _ := s.AddFolder("", "", "out")
	_, err := c.Upload(context.Background(), strings.NewReader("x"), 1, UploadOptions{Folder: folder, Name: "x.apk"})
	if err == nil || !strings.Contains(err.Error(), "shared drive where signer@p.iam.gserviceaccount.com is a Content manager") {
		t.Errorf("got %v", err)
	}
}
