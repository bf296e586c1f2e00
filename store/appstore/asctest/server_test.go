package asctest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/storesign/storesign/signing/signingtest"
	"github.com/storesign/storesign/store/appstore"
	"github.com/storesign/storesign/store/appstore/asctest"
)

// jwt signs header and claims with priv, as a client might get wrong.
func jwt(t *testing.T, priv *ecdsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	sum := sha256.Sum256([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return in + "." + enc.EncodeToString(sig)
}

func TestTokens(t *testing.T) {
	priv := signingtest.ECKey("asctest", elliptic.P256())
	other := signingtest.ECKey("asctest other", elliptic.P256())
	key, err := appstore.NewKey(priv, "KEY1", "issuer-1")
	if err != nil {
		t.Fatal(err)
	}
	s := asctest.New(asctest.Options{})
	s.AddKey(key, "")
	s.AddApp("com.example.app", "Example")
	srv := httptest.NewServer(s)
	defer srv.Close()
	now := time.Now().Unix()
	header := map[string]any{"alg": "ES256", "kid": "KEY1", "typ": "JWT"}
	claims := func(edit func(m map[string]any)) map[string]any {
		m := map[string]any{"iss": "issuer-1", "iat": now, "exp": now + 600, "aud": "appstoreconnect-v1"}
		if edit != nil {
			edit(m)
		}
		return m
	}
	good, err := key.Token(time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		token  string
		status int
	}{
		{"good", good, 200},
		{"handmade", jwt(t, priv, header, claims(nil)), 200},
		{"none", "", 401},
		{"garbage", "abc.def.ghi", 401},
		{"other-key", jwt(t, other, header, claims(nil)), 401},
		{"unknown-kid", jwt(t, priv, map[string]any{"alg": "ES256", "kid": "KEY2"}, claims(nil)), 401},
		{"alg-none", jwt(t, priv, map[string]any{"alg": "none", "kid": "KEY1"}, claims(nil)), 401},
		{"wrong-issuer", jwt(t, priv, header, claims(func(m map[string]any) { m["iss"] = "issuer-2" })), 401},
		{"wrong-aud", jwt(t, priv, header, claims(func(m map[string]any) { m["aud"] = "appstoreconnect-v2" })), 401},
		{"21-minutes", jwt(t, priv, header, claims(func(m map[string]any) { m["exp"] = now + 21*60 })), 401},
		{"expired", jwt(t, priv, header, claims(func(m map[string]any) { m["iat"], m["exp"] = now-1200, now-1 })), 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/v1/apps?filter[bundleId]=com.example.app", nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status == 401 && !strings.Contains(string(body), `"code":"NOT_AUTHORIZED"`) {
				t.Errorf("body %s", body)
			}
		})
	}
	s.ExpireTokens()
	req, _ := http.NewRequest("GET", srv.URL+"/v1/apps", nil)
	req.Header.Set("Authorization", "Bearer "+good)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("an expired token got %d", resp.StatusCode)
	}
}

func TestPresignedURLs(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	key, _ := appstore.NewKey(signingtest.ECKey("asctest", elliptic.P256()), "KEY1", "issuer-1")
	s := asctest.New(asctest.Options{PartSize: 4, Now: clock})
	s.AddKey(key, "")
	appID := s.AddApp("com.example.app", "Example")
	srv := httptest.NewServer(s)
	defer srv.Close()
	call := func(method, path, body string) map[string]any {
		t.Helper()
		tok, _ := key.Token(now, 0)
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		json.NewDecoder(resp.Body).Decode(&doc)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, doc)
		}
		return doc
	}
	up := call("POST", "/v1/buildUploads", `{"data":{"type":"buildUploads","attributes":{"cfBundleShortVersionString":"1.0","cfBundleVersion":"1","platform":"IOS"},"relationships":{"app":{"data":{"type":"apps","id":"`+appID+`"}}}}}`)
	upID := up["data"].(map[string]any)["id"].(string)
	f := call("POST", "/v1/buildUploadFiles", `{"data":{"type":"buildUploadFiles","attributes":{"fileName":"a.ipa","fileSize":6,"uti":"com.apple.ipa","assetType":"ASSET"},"relationships":{"buildUpload":{"data":{"type":"buildUploads","id":"`+upID+`"}}}}}`)
	ops := f["data"].(map[string]any)["attributes"].(map[string]any)["uploadOperations"].([]any)
	if len(ops) != 2 {
		t.Fatalf("operations %v", ops)
	}
	op := ops[0].(map[string]any)
	if op["offset"] != 0.0 || op["length"] != 4.0 || op["partNumber"] != 1.0 || op["method"] != "PUT" {
		t.Errorf("operation %v", op)
	}
	url := op["url"].(string)
	put := func(url string, body string, header map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest("PUT", url, strings.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ct := map[string]string{"Content-Type": "application/octet-stream"}
	tests := []struct {
		name   string
		url    string
		body   string
		header map[string]string
		want   int
	}{
		{"bad-signature", strings.Replace(url, "X-Signature=", "X-Signature=0", 1), "abcd", ct, 403},
		{"authorization", url, "abcd", map[string]string{"Content-Type": "application/octet-stream", "Authorization": "Bearer x"}, 400},
		{"content-type", url, "abcd", map[string]string{"Content-Type": "text/plain"}, 403},
		{"short", url, "abc", ct, 400},
		{"good", url, "abcd", ct, 200},
	}
	for _, tt := range tests {
		if got := put(tt.url, tt.body, tt.header); got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, got, tt.want)
		}
	}
	now = now.Add(2 * time.Hour)
	if got := put(ops[1].(map[string]any)["url"].(string), "ef", ct); got != 403 {
		t.Errorf("an expired URL: %d", got)
	}
}
