package gapi

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestCredentialsClient(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.json")
	for _, tc := range []struct {
		name    string
		c       Credentials
		wantErr string // "" for success
		auth    bool   // the client authenticates
	}{
		{name: "anonymous", c: Credentials{Name: "x", Anonymous: true}},
		{name: "token", c: Credentials{Name: "x", Token: "ya29.abc", Anonymous: true}, auth: true},
		{name: "token with space", c: Credentials{Name: "x", Token: "Bearer ya29"}, wantErr: "x: the access token has spaces"},
		{name: "missing file", c: Credentials{Name: "x", File: missing}, wantErr: "x: reading credentials: open "},
		{name: "not JSON", c: Credentials{Name: "x", JSON: []byte("hello")}, wantErr: "x: reading credentials: not a JSON credentials file"},
		{name: "unknown type", c: Credentials{Name: "x", JSON: []byte(`{"type":"api_key"}`)}, wantErr: `x: reading credentials: unsupported credentials type "api_key"`},
		{name: "subject without key", c: Credentials{Name: "x", Subject: "u@example.com", JSON: []byte(`{"type":"authorized_user","client_id":"i","client_secret":"s","refresh_token":"r"}`)}, wantErr: "x: --subject (domain-wide delegation) needs a service account key, not authorized_user credentials"},
		{name: "authorized user", c: Credentials{Name: "x", Scope: "s", JSON: []byte(`{"type":"authorized_user","client_id":"i","client_secret":"s","refresh_token":"r"}`)}, auth: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := &http.Transport{}
			hc, _, err := tc.c.Client(context.Background(), base)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tc.wantErr)
				}
				if tc.c.Token != "" && strings.Contains(err.Error(), tc.c.Token) {
					t.Errorf("the error shows the token")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, isAuth := hc.Transport.(*oauth2.Transport)
			if isAuth != tc.auth || (!tc.auth && hc.Transport != base) {
				t.Errorf("transport %T, want authenticating %v over base", hc.Transport, tc.auth)
			}
		})
	}
}

func TestCredentialsFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "creds.json")
	data := `{"type":"external_account","audience":"//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q","subject_token_type":"urn:ietf:params:oauth:token-type:jwt","token_url":"https://sts.googleapis.com/v1/token","credential_source":{"file":"/dev/null"},"service_account_impersonation_url":"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/ci@proj.iam.gserviceaccount.com:generateAccessToken"}`
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	_, account, err := Credentials{Name: "x", File: p, Scope: "https://www.googleapis.com/auth/drive"}.Client(context.Background(), http.DefaultTransport)
	if err != nil {
		t.Fatal(err)
	}
	if account != "ci@proj.iam.gserviceaccount.com" {
		t.Errorf("account = %q", account)
	}
}

func TestClientEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"client_email":"a@p.iam.gserviceaccount.com"}`, "a@p.iam.gserviceaccount.com"},
		{`{"service_account_impersonation_url":"https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/b@p.iam.gserviceaccount.com:generateAccessToken"}`, "b@p.iam.gserviceaccount.com"},
		{`{"type":"authorized_user"}`, ""},
		{`not json`, ""},
	} {
		if got := ClientEmail([]byte(tc.in)); got != tc.want {
			t.Errorf("ClientEmail(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzClientEmail(f *testing.F) {
	f.Add([]byte(`{"client_email":"a@p.iam.gserviceaccount.com"}`))
	f.Add([]byte(`{"service_account_impersonation_url":".../serviceAccounts/b@p:generateAccessToken"}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = ClientEmail(data)
	})
}

func TestTokenError(t *testing.T) {
	for _, tc := range []struct {
		re   *oauth2.RetrieveError
		want string
	}{
		{&oauth2.RetrieveError{ErrorCode: "invalid_grant", ErrorDescription: "Invalid JWT Signature."}, "invalid_grant: Invalid JWT Signature."},
		{&oauth2.RetrieveError{Body: []byte(`{"error":"invalid_client","error_description":"disabled"}`)}, "invalid_client: disabled"},
		{&oauth2.RetrieveError{Response: &http.Response{Status: "502 Bad Gateway"}, Body: []byte("<html>")}, "502 Bad Gateway"},
	} {
		if got := TokenError(tc.re); got != tc.want {
			t.Errorf("TokenError = %q, want %q", got, tc.want)
		}
	}
}
