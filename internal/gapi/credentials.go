package gapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// Credentials says how a client authenticates. The first of File, JSON,
// Token that is set is used; without them, Anonymous sends no
// authentication, else Application Default Credentials are looked up.
type Credentials struct {
	// Name prefixes the error messages ("drive", "play").
	Name string
	// File is a credentials JSON file to read.
	File string
	// JSON is a credentials JSON already in memory.
	JSON []byte
	// Token is a ready OAuth access token, not renewed.
	Token string
	// Scope is the OAuth scope asked for.
	Scope string
	// Subject is the user a service account acts as through domain-wide
	// delegation; only a service account key allows it.
	Subject string
	// Anonymous sends no authentication when no credentials are given
	// (a client pointed at a fake server).
	Anonymous bool
	// ADCHint ends the message when no default credentials are found:
	// " or pass a credentials file".
	ADCHint string
}

// Client returns an HTTP client over base that authenticates as c says,
// and the service account e-mail when the credentials tell it.
func (c Credentials) Client(ctx context.Context, base http.RoundTripper) (*http.Client, string, error) {
	data := c.JSON
	if c.File != "" {
		b, err := os.ReadFile(c.File)
		if err != nil {
			return nil, "", fmt.Errorf("%s: reading credentials: %w", c.Name, err)
		}
		data = b
	}
	var params google.CredentialsParams
	if c.Scope != "" {
		params.Scopes = []string{c.Scope}
	}
	params.Subject = c.Subject
	switch {
	case data != nil:
		ts, account, err := c.fromJSON(ctx, data, params)
		if err != nil {
			return nil, "", err
		}
		return &http.Client{Transport: &oauth2.Transport{Source: ts, Base: base}}, account, nil
	case c.Token != "":
		if strings.ContainsAny(c.Token, " \t\r\n") {
			return nil, "", fmt.Errorf("%s: the access token has spaces or line breaks in it: pass the token alone, as `gcloud auth print-access-token` prints it", c.Name)
		}
		ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: c.Token, TokenType: "Bearer"})
		return &http.Client{Transport: &oauth2.Transport{Source: ts, Base: base}}, "", nil
	case c.Anonymous:
		return &http.Client{Transport: base}, "", nil
	}
	creds, err := google.FindDefaultCredentialsWithParams(context.WithoutCancel(ctx), params)
	if err != nil {
		return nil, "", fmt.Errorf("%s: finding credentials: %v: set GOOGLE_APPLICATION_CREDENTIALS (google-github-actions/auth does)%s", c.Name, err, c.ADCHint)
	}
	var account string
	if creds.JSON != nil {
		account = ClientEmail(creds.JSON)
	}
	return &http.Client{Transport: &oauth2.Transport{Source: creds.TokenSource, Base: base}}, account, nil
}

// fromJSON accepts the credential file types the clients document. The
// type is checked first, so that a file of an unexpected kind is refused
// rather than trusted.
func (c Credentials) fromJSON(ctx context.Context, data []byte, params google.CredentialsParams) (oauth2.TokenSource, string, error) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, "", errors.New(c.Name + ": reading credentials: not a JSON credentials file (want a service account key or an external_account file)")
	}
	var t google.CredentialsType
	switch head.Type {
	case "service_account":
		t = google.ServiceAccount
	case "external_account":
		t = google.ExternalAccount
	case "authorized_user":
		t = google.AuthorizedUser
	case "impersonated_service_account":
		t = google.ImpersonatedServiceAccount
	default:
		return nil, "", fmt.Errorf("%s: reading credentials: unsupported credentials type %q (want service_account, external_account, authorized_user or impersonated_service_account)", c.Name, head.Type)
	}
	if c.Subject != "" && t != google.ServiceAccount {
		return nil, "", fmt.Errorf("%s: --subject (domain-wide delegation) needs a service account key, not %s credentials", c.Name, head.Type)
	}
	creds, err := google.CredentialsFromJSONWithTypeAndParams(context.WithoutCancel(ctx), data, t, params)
	if err != nil {
		return nil, "", fmt.Errorf("%s: reading %s credentials: %v", c.Name, head.Type, err)
	}
	return creds.TokenSource, ClientEmail(data), nil
}

// ClientEmail returns the service account e-mail a credentials JSON names,
// directly or as the account it impersonates, or "".
func ClientEmail(data []byte) string {
	var v struct {
		ClientEmail string `json:"client_email"`
		Impersonate string `json:"service_account_impersonation_url"`
	}
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	if v.ClientEmail != "" {
		return v.ClientEmail
	}
	// ".../serviceAccounts/NAME@PROJECT.iam.gserviceaccount.com:generateAccessToken"
	if i := strings.LastIndex(v.Impersonate, "/serviceAccounts/"); i >= 0 {
		return strings.TrimSuffix(v.Impersonate[i+len("/serviceAccounts/"):], ":generateAccessToken")
	}
	return ""
}

// TokenError describes a refusal of the token endpoint: its error code and
// description, else its HTTP status.
func TokenError(re *oauth2.RetrieveError) string {
	desc, more := re.ErrorCode, re.ErrorDescription
	if desc == "" {
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(re.Body, &body) == nil {
			desc, more = body.Error, body.Description
		}
	}
	if more != "" {
		desc += ": " + more
	}
	if desc == "" && re.Response != nil {
		desc = re.Response.Status
	}
	return desc
}
