// migbench-agent: kubelet-checkpoint's steps on a Kubernetes node, as a DaemonSet pod that migbench
// installs (`migbench agent install`) and reaches only through the API server's pod proxy. Per trial
// it writes the CRIU options the runtime reads (the pod's org.criu.config), streams the kubelet's
// checkpoint archive to the target node's agent (sha256-checked), hands back CRIU's dump statistics
// and log, builds the checkpoint image and imports it into the node's containerd, resumes a source
// a failed move left stopped, and removes what a trial left. It acts only on pods labelled
// app.kubernetes.io/managed-by=migbench (checked through the runtime's own sandbox labels) and on
// files it names itself: no request carries a path.
//
// Go, because the runtime's client (containerd's), CRIU's and the image formats' libraries are Go,
// and a static binary makes an image of one file.
package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	config, err := configFromEnv(os.Getenv)
	if err != nil {
		log.Fatalf("migbench-agent: %v", err)
	}
	agent, err := newAgent(config)
	if err != nil {
		log.Fatalf("migbench-agent: %v", err)
	}
	server := &http.Server{Addr: config.Listen, Handler: requireToken(agent.routes(), config.TokenFile), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = server.Shutdown(shutdown)
	}()
	log.Printf("migbench-agent %s on node %s listening on %s", version, config.NodeName, config.Listen)
	if err := server.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("migbench-agent: %v", err)
	}
}
