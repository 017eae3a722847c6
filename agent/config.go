// The agent's node paths, from its environment (the DaemonSet migbench writes sets them). Paths may
// hold {node}, replaced by the node's name: the lab's nodes share one host and keep their kubelet
// and containerd under a directory per node; on a real cluster they are plain paths.
package main

import (
	"fmt"
	"path/filepath"
	"strings"
)

// version is set at build time (-ldflags -X main.version=<source hash>).
var version = "dev"

type config struct {
	NodeName string
	Listen   string
	// The kubelet's checkpoint directory (its root dir + /checkpoints).
	KubeletCheckpointDir string
	// containerd's socket.
	RuntimeSocket string
	// Where the node's cgroup hierarchies are mounted in the agent's container (the host's /sys/fs/cgroup).
	CgroupRoot string
	// The directory whose criu/ holds the CRIU options the pods' org.criu.config names, and whose
	// store/<node>/ holds received archives: the same path on the node and in the agent.
	StateDir string
	// The shared ReadWriteMany volume's mount in the agent's container (shared_transfer.go); empty: none.
	SharedDir string
	// The agent's bearer token: the Secret migbench-agent-token, mounted (auth.go).
	TokenFile string
	// The registry's logins: a dockerconfigjson (`agent install --registry-secret`, mounted); empty or absent: none.
	RegistryAuthFile string
	// A PEM CA bundle the registry client trusts beside the system's (`agent install --registry-ca`); empty: none.
	RegistryCAFile string
	// containerd's main config file as containerd reads it (runtime_handler.go: only read, never written).
	ContainerdConfig string
}

func configFromEnv(getenv func(string) string) (config, error) {
	or := func(key, fallback string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return fallback
	}
	c := config{
		NodeName:             getenv("NODE_NAME"),
		Listen:               or("AGENT_LISTEN", ":9440"),
		KubeletCheckpointDir: or("KUBELET_CHECKPOINT_DIR", "/var/lib/kubelet/checkpoints"),
		RuntimeSocket:        or("RUNTIME_SOCKET", "/run/containerd/containerd.sock"),
		CgroupRoot:           or("CGROUP_ROOT", "/sys/fs/cgroup"),
		StateDir:             or("STATE_DIR", "/var/lib/migbench-agent"),
		TokenFile:            or("AGENT_TOKEN_FILE", "/etc/migbench-agent/token"),
		ContainerdConfig:     or("CONTAINERD_CONFIG", defaultContainerdCfg),
		SharedDir:            getenv("SHARED_DIR"),
		RegistryAuthFile:     getenv("REGISTRY_AUTH_FILE"),
		RegistryCAFile:       getenv("REGISTRY_CA_FILE"),
	}
	if c.NodeName == "" {
		return c, fmt.Errorf("NODE_NAME is not set (the DaemonSet sets it from spec.nodeName)")
	}
	if c.SharedDir != "" && !filepath.IsAbs(c.SharedDir) {
		return c, fmt.Errorf("SHARED_DIR %q is not an absolute path", c.SharedDir)
	}
	for _, p := range []*string{&c.KubeletCheckpointDir, &c.RuntimeSocket, &c.CgroupRoot, &c.StateDir, &c.ContainerdConfig} {
		*p = strings.ReplaceAll(*p, "{node}", c.NodeName)
		if !filepath.IsAbs(*p) {
			return c, fmt.Errorf("%q is not an absolute path", *p)
		}
	}
	return c, nil
}

func (c config) criuDir() string  { return filepath.Join(c.StateDir, "criu") }
func (c config) storeDir() string { return filepath.Join(c.StateDir, "store", c.NodeName) }
