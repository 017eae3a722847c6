// Every agent endpoint but the readiness probe refuses a request without the agent's token, or with
// a wrong one, before it does anything; the right token reaches the handler.
package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEveryRequestNeedsTheAgentToken(t *testing.T) {
	state := t.TempDir()
	tokenFile := filepath.Join(state, "token")
	c := config{NodeName: "a", StateDir: state, CgroupRoot: state, KubeletCheckpointDir: state, TokenFile: tokenFile}
	a := &agent{config: c, trials: map[string]*trialState{}, peer: http.DefaultClient}
	server := httptest.NewServer(requireToken(a.routes(), tokenFile))
	defer server.Close()
	call := func(method, path, token string) int {
		req, _ := http.NewRequest(method, server.URL+path, strings.NewReader(`{"step":"dump","namespace":"migbench"}`))
		if token != "" {
			req.Header.Set(agentTokenHeader, token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	options := criuOptionsPath(c.criuDir(), "run-1", "dump")
	// No token file mounted: nothing is served but readiness.
	if got := call("POST", "/v1/trials/run-1/prepare", "anything-long-enough"); got != http.StatusServiceUnavailable {
		t.Errorf("without a token file: %d", got)
	}
	if err := os.WriteFile(tokenFile, []byte("0123456789abcdef0123456789abcdef\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ method, path, token string }{
		{"POST", "/v1/trials/run-1/prepare", ""},
		{"POST", "/v1/trials/run-1/prepare", "0123456789abcdef0123456789abcdeX"},
		{"GET", "/healthz", ""},
		{"POST", "/v1/leftovers", "wrong"},
		{"DELETE", "/v1/trials/run-1", ""},
		{"POST", "/v1/pods/0c4a1f6e-2b1d-4c3e-9f00-000000000000/resume", ""},
		{"PUT", "/v1/trials/run-1/archive", ""},
	} {
		if got := call(tc.method, tc.path, tc.token); got != http.StatusUnauthorized {
			t.Errorf("%s %s with token %q: %d, want 401", tc.method, tc.path, tc.token, got)
		}
	}
	if _, err := os.Stat(options); !os.IsNotExist(err) {
		t.Fatalf("a refused request wrote %s", options)
	}
	if got := call("GET", "/readyz", ""); got != http.StatusOK {
		t.Errorf("readiness without a token: %d", got)
	}
	if got := call("POST", "/v1/trials/run-1/prepare", "0123456789abcdef0123456789abcdef"); got != http.StatusOK {
		t.Errorf("with the token: %d", got)
	}
	if _, err := os.Stat(options); err != nil {
		t.Errorf("the trial's options were not written: %v", err)
	}
}
