// How the agent's registry client gets past a registry that wants a login or speaks TLS with a
// private CA: the credentials come from a Secret of type kubernetes.io/dockerconfigjson (the format
// of imagePullSecrets) that `migbench agent install --registry-secret` copies into the agent's
// namespace and mounts read-only, root-only (REGISTRY_AUTH_FILE); the CA from `--registry-ca`
// (REGISTRY_CA_FILE), added to the image's system roots. The agent never asks the API server: it
// reads the mounted file on each push, so nothing outside the pod spec grants it access.
// The flow is the distribution spec's (docs/spec/auth/token.md): a 401's WWW-Authenticate says
// Basic (send the credentials) or Bearer realm,service,scope (GET a token from the realm with the
// credentials, keep it per scope for this push, send it). Credentials and tokens never go into an
// error, a log line or an answer.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// registryLogin is one registry host's user and password from a dockerconfigjson.
type registryLogin struct {
	username, password string
}

// registryLogins reads a dockerconfigjson file (`{"auths": {"host[:port]": {"auth": base64(user:pass)}
// | {"username","password"}}}`); no file: no logins. Keys may carry a scheme and path
// ("https://host/v1/"), as `docker login` writes them; they are matched by host[:port].
func registryLogins(file string) (map[string]registryLogin, error) {
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cfg struct {
		Auths map[string]struct {
			Auth     string `json:"auth"`
			Username string `json:"username"`
			Password string `json:"password"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		// The file's content may be a credential: the error names the file only.
		return nil, fmt.Errorf("%s is not a dockerconfigjson ({\"auths\": {...}})", file)
	}
	logins := map[string]registryLogin{}
	for key, entry := range cfg.Auths {
		login := registryLogin{username: entry.Username, password: entry.Password}
		if entry.Auth != "" {
			decoded, err := base64.StdEncoding.DecodeString(entry.Auth)
			user, pass, ok := strings.Cut(string(decoded), ":")
			if err != nil || !ok {
				return nil, fmt.Errorf("%s: the auth of %s is not base64(user:password)", file, registryHostOf(key))
			}
			login = registryLogin{username: user, password: pass}
		}
		if login.username != "" || login.password != "" {
			logins[registryHostOf(key)] = login
		}
	}
	return logins, nil
}

// registryHostOf reduces a dockerconfigjson key ("https://host:5000/v1/", "host:5000") to host[:port].
func registryHostOf(key string) string {
	key = strings.TrimPrefix(strings.TrimPrefix(key, "https://"), "http://")
	host, _, _ := strings.Cut(key, "/")
	return strings.ToLower(host)
}

// registryHTTPClient trusts the system's roots (the image's CA bundle) plus the PEM certificates in
// caFile, when one is given (a file named but unreadable or without a certificate is an error).
func registryHTTPClient(caFile string) (*http.Client, error) {
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		if block, _ := pem.Decode(b); block == nil || !roots.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("%s holds no PEM certificate (migbench agent install --registry-ca FILE)", caFile)
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: transport, Timeout: 30 * time.Minute}, nil
}

// explainTLS says how to fix a registry whose certificate the agent does not trust.
func explainTLS(err error) error {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("%w (the registry's certificate is signed by a CA the agent does not trust: `migbench agent install --registry-ca FILE` adds your CA)", err)
	case errors.As(err, &invalid), errors.As(err, &hostname):
		return fmt.Errorf("%w (the registry's certificate does not fit; a private CA goes in with `migbench agent install --registry-ca FILE`)", err)
	}
	return err
}

// registryAuth answers a registry's 401 challenges for one client (one push, or one removal).
type registryAuth struct {
	host  string
	login *registryLogin
	http  *http.Client
	mu    sync.Mutex
	basic bool
	// Bearer tokens by scope ("repository:team/x:push,pull").
	tokens map[string]string
}

// authorize sets the request's Authorization from what earlier challenges asked for; scope is the
// token scope this request needs.
func (a *registryAuth) authorize(req *http.Request, scope string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.basic && a.login != nil {
		req.SetBasicAuth(a.login.username, a.login.password)
	} else if token := a.tokens[scope]; token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
}

// answer handles a 401's challenge, so that a retry with authorize passes (scope: the request's own,
// unless the challenge names one).
func (a *registryAuth) answer(ctx context.Context, challenge, scope string) error {
	if a.login == nil {
		return fmt.Errorf("the registry asks for credentials (401) and the agent has none for %s: `migbench agent install --registry-secret NAME` gives it a kubernetes.io/dockerconfigjson Secret with an entry for %s", a.host, a.host)
	}
	kind, params := parseChallenge(challenge)
	switch kind {
	case "basic":
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.basic {
			return fmt.Errorf("the registry refused the credentials for %s (401)", a.host)
		}
		a.basic = true
		return nil
	case "bearer":
		if params["realm"] == "" {
			return fmt.Errorf("the registry's Bearer challenge names no realm")
		}
		a.mu.Lock()
		had := a.tokens[scope] != ""
		a.mu.Unlock()
		if had {
			return fmt.Errorf("the registry refused the token for %s (401): do the credentials for %s allow push, pull and delete?", scope, a.host)
		}
		// The challenge's scope is what the registry wants (its action names may differ from ours).
		asked := scope
		if params["scope"] != "" {
			asked = params["scope"]
		}
		token, err := a.token(ctx, params["realm"], params["service"], asked)
		if err != nil {
			return err
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.tokens[scope] = token
		return nil
	}
	return fmt.Errorf("the registry asks for an authentication the agent does not speak (%q)", kind)
}

// token gets a bearer token from the realm with the login (distribution token spec: GET, service and scope in the query).
func (a *registryAuth) token(ctx context.Context, realm, service, scope string) (string, error) {
	u, err := url.Parse(realm)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("the registry's token realm %q is not an http(s) URL", realm)
	}
	q := u.Query()
	if service != "" {
		q.Set("service", service)
	}
	q.Set("scope", scope)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(a.login.username, a.login.password)
	resp, err := a.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("token from %s: %w", u.Host, explainTLS(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// The answer's body is not repeated: a token server may echo what it was sent.
		return "", fmt.Errorf("token for %s from %s: %d (are the credentials for %s right?)", scope, u.Host, resp.StatusCode, a.host)
	}
	var answer struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&answer); err != nil {
		return "", fmt.Errorf("token from %s: not JSON", u.Host)
	}
	if answer.Token == "" {
		answer.Token = answer.AccessToken
	}
	if answer.Token == "" {
		return "", fmt.Errorf("token from %s: no token in the answer", u.Host)
	}
	return answer.Token, nil
}

// parseChallenge splits `Bearer realm="https://auth",service="registry",scope="repository:x:pull"`
// into its scheme (lower case) and parameters (RFC 7235: comma-separated, quoted or token values).
func parseChallenge(header string) (string, map[string]string) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(header), " ")
	params := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; {
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		key = strings.ToLower(strings.TrimSpace(key))
		after = strings.TrimSpace(after)
		var value string
		if strings.HasPrefix(after, `"`) {
			end := 1
			for end < len(after) && after[end] != '"' {
				if after[end] == '\\' {
					end++
				}
				end++
			}
			value = strings.ReplaceAll(after[1:min(end, len(after))], `\`, "")
			after = after[min(end+1, len(after)):]
		} else {
			value, after, _ = strings.Cut(after, ",")
			after = "," + after
		}
		params[key] = value
		_, rest, _ = strings.Cut(after, ",")
		rest = strings.TrimSpace(rest)
	}
	return strings.ToLower(scheme), params
}
