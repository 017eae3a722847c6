// The registry delivery against the real CNCF distribution registry the lab builds (`migbench
// cluster build`; node-build/registry), started here on a loopback port with TLS from a CA made for
// the test: once with htpasswd (Basic) and once with token auth (Bearer, from a token server in this
// test that signs JWTs the registry checks against its root bundle). A checkpoint image is pushed
// through the agent's push code, read back by digest and deleted; a client without credentials and
// one without the CA are refused with the errors that name the fix.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

const (
	testUser     = "migbench"
	testPassword = "s3cret-pass"
)

// registryBinary finds the lab's distribution registry (MIGBENCH_REGISTRY_BINARY, else the node cache).
func registryBinary(t *testing.T) string {
	if b := os.Getenv("MIGBENCH_REGISTRY_BINARY"); b != "" {
		return b
	}
	found, _ := filepath.Glob("/var/cache/migbench/k8s-node/registry-*/registry")
	sort.Strings(found)
	if len(found) == 0 {
		msg := "the distribution registry is not built (/var/cache/migbench/k8s-node/registry-*/registry): run `sh bin/migbench cluster build` (or set MIGBENCH_REGISTRY_BINARY)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return found[len(found)-1]
}

// testCA is a CA and what it signed, written as PEM files under dir.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string
}

func newTestCA(t *testing.T, dir, name string) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &testCA{cert: cert, key: key, file: filepath.Join(dir, name+".pem")}
	writePEM(t, ca.file, "CERTIFICATE", der)
	return ca
}

// leaf signs a certificate for 127.0.0.1; its PEM files (cert, key).
func (ca *testCA) leaf(t *testing.T, dir, name string) (string, string, tls.Certificate) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, pair
}

func writePEM(t *testing.T, file, kind string, der []byte) {
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRegistry runs the registry with TLS and the given auth section; its host:port.
func startRegistry(t *testing.T, ca *testCA, auth map[string]any) string {
	binary := registryBinary(t)
	dir := t.TempDir()
	certFile, keyFile, _ := ca.leaf(t, dir, "registry")
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	// JSON is YAML: distribution reads this as its config.yml.
	config, _ := json.Marshal(map[string]any{
		"version": 0.1,
		"log":     map[string]any{"level": "warn", "accesslog": map[string]any{"disabled": true}},
		"storage": map[string]any{"filesystem": map[string]any{"rootdirectory": filepath.Join(dir, "data")}, "delete": map[string]any{"enabled": true}},
		"http":    map[string]any{"addr": addr, "tls": map[string]any{"certificate": certFile, "key": keyFile}},
		"auth":    auth,
	})
	configFile := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(configFile, config, 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cmd := exec.Command(binary, "serve", configFile)
	cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none", "OTEL_METRICS_EXPORTER=none", "OTEL_LOGS_EXPORTER=none")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	client := trusting(t, ca)
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := client.Get("https://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the registry did not answer on %s (last: %v): %s", addr, err, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// trusting is the agent's registry client with the test CA as --registry-ca.
func trusting(t *testing.T, ca *testCA) *http.Client {
	c, err := registryHTTPClient(ca.file)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func htpasswdAuth(t *testing.T, dir string) map[string]any {
	hash, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(file, []byte(testUser+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return map[string]any{"htpasswd": map[string]any{"realm": "migbench-test", "path": file}}
}

// tokenAuth starts a token server (TLS, the test CA) that gives testUser what each scope asks for,
// in a JWT (ES256, its certificate in x5c) the registry trusts through rootcertbundle.
func tokenAuth(t *testing.T, ca *testCA, dir string) (map[string]any, *int) {
	signer := newTestCA(t, dir, "token-signer")
	const service, issuer = "migbench-test-registry", "migbench-test-tokens"
	issued := 0
	server := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != testUser || pass != testPassword || r.URL.Query().Get("service") != service {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		var access []map[string]any
		for _, scope := range strings.Fields(r.URL.Query().Get("scope")) {
			parts := strings.Split(scope, ":")
			if len(parts) == 3 {
				access = append(access, map[string]any{"type": parts[0], "name": parts[1], "actions": strings.Split(parts[2], ",")})
			}
		}
		now := time.Now().Unix()
		header, _ := json.Marshal(map[string]any{"alg": "ES256", "typ": "JWT", "x5c": []string{base64.StdEncoding.EncodeToString(signer.cert.Raw)}})
		claims, _ := json.Marshal(map[string]any{"iss": issuer, "sub": user, "aud": service, "exp": now + 300, "nbf": now - 10, "iat": now, "jti": fmt.Sprint(now), "access": access})
		signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
		digest := sha256.Sum256([]byte(signing))
		r1, s1, err := ecdsa.Sign(rand.Reader, signer.key, digest[:])
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		sig := make([]byte, 64)
		r1.FillBytes(sig[:32])
		s1.FillBytes(sig[32:])
		issued++
		// access_token, as OAuth2-style token servers answer (the agent takes token or access_token).
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": signing + "." + base64.RawURLEncoding.EncodeToString(sig)})
	}))
	_, _, pair := ca.leaf(t, dir, "tokens")
	server.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	server.StartTLS()
	t.Cleanup(server.Close)
	return map[string]any{"token": map[string]any{
		"realm": server.URL + "/token", "service": service, "issuer": issuer, "rootcertbundle": signer.file,
	}}, &issued
}

// testArchive stands in for the kubelet's checkpoint archive (the layer's bytes are opaque to a registry).
func testArchive(t *testing.T) (*os.File, string) {
	b := make([]byte, 3<<20)
	_, _ = rand.Read(b)
	file := filepath.Join(t.TempDir(), "checkpoint-migbench-redis-x_ns-redis-2026-01-01T00:00:00Z.tar")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	sum := sha256.Sum256(b)
	return f, "sha256:" + hex.EncodeToString(sum[:])
}

// pushReadDelete pushes a checkpoint image, reads its manifest and layer back by digest, deletes it, and sees it gone.
func pushReadDelete(t *testing.T, client *registryClient, registry string) {
	ctx := context.Background()
	archive, layerDigest := testArchive(t)
	info, _ := archive.Stat()
	record := pushedImage{Registry: registry, Repo: client.repo("migbench-checkpoint/ns/migbench-redis-x")}
	saves := 0
	if err := client.pushCheckpointImage(ctx, "localhost/migbench-checkpoint/ns/migbench-redis-x:trial-1", "redis", archive, info.Size(), &record, func() error { saves++; return nil }); err != nil {
		t.Fatalf("push: %v", err)
	}
	if saves != 2 || len(record.Blobs) != 2 || record.Blobs[0] != layerDigest || record.Reference != registry+"/"+record.Repo+"@"+record.Manifest {
		t.Fatalf("record %+v after %d saves; layer %s", record, saves, layerDigest)
	}
	get := func(path string, want ...int) []byte {
		resp, err := client.do(ctx, http.MethodGet, client.base+"/v2/"+record.Repo+path, record.Repo, nil, 0, "", want...)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	manifest := get("/manifests/"+record.Manifest, http.StatusOK)
	if sha(manifest) != record.Manifest || !bytes.Contains(manifest, []byte(`"org.criu.checkpoint.container.name":"redis"`)) {
		t.Fatalf("manifest read back: %s", manifest)
	}
	if layer := get("/blobs/"+layerDigest, http.StatusOK); sha(layer) != layerDigest {
		t.Fatalf("layer read back as %s, pushed %s", sha(layer), layerDigest)
	}
	if err := client.remove(ctx, record); err != nil {
		t.Fatalf("remove: %v", err)
	}
	get("/manifests/"+record.Manifest, http.StatusNotFound)
	get("/blobs/"+layerDigest, http.StatusNotFound)
}

// refusals: no login for the host names --registry-secret; no CA names --registry-ca; a wrong password is refused.
func refusals(t *testing.T, ca *testCA, registry string) {
	ctx := context.Background()
	push := func(client *registryClient) error {
		archive, _ := testArchive(t)
		info, _ := archive.Stat()
		record := pushedImage{Registry: registry}
		return client.pushCheckpointImage(ctx, "localhost/migbench-checkpoint/ns/p:trial-1", "c", archive, info.Size(), &record, func() error { return nil })
	}
	other, _ := newRegistryClient(registry, false, trusting(t, ca), map[string]registryLogin{"other.example.org": {testUser, testPassword}})
	err := push(other)
	t.Logf("no login: %v", err)
	if err == nil || !strings.Contains(err.Error(), "agent has none for "+registry) || !strings.Contains(err.Error(), "agent install --registry-secret") {
		t.Errorf("push without a login for %s: %v", registry, err)
	}
	system, clientErr := registryHTTPClient("")
	if clientErr != nil {
		t.Fatal(clientErr)
	}
	untrusting, _ := newRegistryClient(registry, false, system, map[string]registryLogin{registry: {testUser, testPassword}})
	err = push(untrusting)
	t.Logf("no CA: %v", err)
	if err == nil || !strings.Contains(err.Error(), "--registry-ca FILE") {
		t.Errorf("push without the registry's CA: %v", err)
	}
	wrong, _ := newRegistryClient(registry, false, trusting(t, ca), map[string]registryLogin{registry: {testUser, "wrong"}})
	err = push(wrong)
	t.Logf("wrong password: %v", err)
	if err == nil || !strings.Contains(err.Error(), "credentials for "+registry) || strings.Contains(err.Error(), "wrong") || strings.Contains(err.Error(), testPassword) {
		t.Errorf("push with a wrong password: %v (must fail, and never repeat a password)", err)
	}
}

func TestRegistryBasicAuthTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "registry-ca")
	registry := startRegistry(t, ca, htpasswdAuth(t, dir))
	// The logins as the mounted Secret gives them (a docker-login style key with scheme and path).
	auth := filepath.Join(dir, ".dockerconfigjson")
	config := fmt.Sprintf(`{"auths":{"https://%s/v1/":{"auth":%q}}}`, registry, base64.StdEncoding.EncodeToString([]byte(testUser+":"+testPassword)))
	if err := os.WriteFile(auth, []byte(config), 0o400); err != nil {
		t.Fatal(err)
	}
	logins, err := registryLogins(auth)
	if err != nil {
		t.Fatal(err)
	}
	client, err := newRegistryClient(registry, false, trusting(t, ca), logins)
	if err != nil {
		t.Fatal(err)
	}
	pushReadDelete(t, client, registry)
	refusals(t, ca, registry)
}

func TestRegistryTokenAuthTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t, dir, "registry-ca")
	auth, issued := tokenAuth(t, ca, dir)
	registry := startRegistry(t, ca, auth)
	client, err := newRegistryClient(registry, false, trusting(t, ca), map[string]registryLogin{registry: {testUser, testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	pushReadDelete(t, client, registry)
	// One token per scope the push, the reads and the deletes needed (push,pull; pull; delete): cached, not one per request.
	if *issued != 3 {
		t.Errorf("%d tokens issued, want 3 (one per scope)", *issued)
	}
	refusals(t, ca, registry)
}

func TestRegistryLoginsAndChallenges(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.json")
	_ = os.WriteFile(file, []byte(`{"auths":{"Registry.Example.org:5000":{"username":"u","password":"p"},"https://index.example.org/v1/":{"auth":"`+base64.StdEncoding.EncodeToString([]byte("a:b:c"))+`"}}}`), 0o600)
	logins, err := registryLogins(file)
	if err != nil || logins["registry.example.org:5000"] != (registryLogin{"u", "p"}) || logins["index.example.org"] != (registryLogin{"a", "b:c"}) {
		t.Fatalf("registryLogins = %+v, %v", logins, err)
	}
	_ = os.WriteFile(file, []byte(`{"auths":{"h":{"auth":"bm90LWEtcGFpcg=="}}}`), 0o600)
	if _, err := registryLogins(file); err == nil || strings.Contains(err.Error(), "not-a-pair") {
		t.Errorf("a malformed auth: %v (must fail without repeating it)", err)
	}
	if logins, err := registryLogins(filepath.Join(dir, "absent")); err != nil || logins != nil {
		t.Errorf("no file: %v, %v", logins, err)
	}
	kind, params := parseChallenge(`Bearer realm="https://auth.example.org/token",service="registry.example.org",scope="repository:team/x:pull,push",error="insufficient_scope"`)
	if kind != "bearer" || params["realm"] != "https://auth.example.org/token" || params["service"] != "registry.example.org" || params["scope"] != "repository:team/x:pull,push" {
		t.Errorf("parseChallenge = %s %v", kind, params)
	}
	if kind, params := parseChallenge(`Basic realm=harbor`); kind != "basic" || params["realm"] != "harbor" {
		t.Errorf("parseChallenge(Basic) = %s %v", kind, params)
	}
	if _, err := registryHTTPClient(file); err == nil || !strings.Contains(err.Error(), "--registry-ca") {
		t.Errorf("a CA file without a certificate: %v", err)
	}
}
