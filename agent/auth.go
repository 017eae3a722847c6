// Who may call the agent: every request but the kubelet's readiness probe (GET /readyz, which
// answers nothing but "ok") must carry the bearer token of the Secret `migbench agent install`
// creates in the agent's namespace and mounts into the agent pods. migbench reads that Secret
// (RBAC: get on that one secret, role migbench-agent-user), so `pods/proxy` in the namespace alone
// does not let anyone drive the agent; the other nodes' agents hold the same token (the archive's
// upload carries it beside the trial's own token). The token travels in its own header: the API
// server drops `Authorization` once it has authenticated a request, before its proxy forwards it.
package main

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
)

const agentTokenHeader = "X-Migbench-Agent-Token"

// agentToken reads the mounted token on every request, so a rotated Secret takes effect without a restart.
func agentToken(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(string(b))
	if len(token) < 16 {
		return "", fmt.Errorf("%s holds no token (at least 16 characters)", file)
	}
	return token, nil
}

// requireToken answers 401 to any request without the agent's token, 503 when the agent has none to check against.
func requireToken(next http.Handler, tokenFile string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/readyz" {
			_, _ = w.Write([]byte("ok\n"))
			return
		}
		want, err := agentToken(tokenFile)
		if err != nil {
			writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("the agent has no token to check requests against: %v", err))
			return
		}
		got := r.Header.Get(agentTokenHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			writeError(w, http.StatusUnauthorized, "a request to the migbench agent needs its token (header "+agentTokenHeader+", from the Secret migbench-agent-token in its namespace)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// peerToken is what this agent presents to another node's agent (the same Secret on every node); empty where it has none.
func (a *agent) peerToken() string {
	token, _ := agentToken(a.config.TokenFile)
	return token
}
