// The two containerd settings kubelet-checkpoint needs and the container runtime's version cannot
// tell, read from containerd itself: its CRI RuntimeService.Status with verbose set answers, under
// info["config"], the CRI plugin's configuration as containerd runs it (JSON; containerd
// internal/cri/server/status.go marshals its criconfig.Config) — what config.toml and its imports
// made of it, defaults included. Reading config.toml instead would miss the imports and the defaults.
//   - enableExperimentalRestoreViaCreate: containerd 2.2.7 and 2.3.4 added it, off by default; off,
//     CreateContainer from a checkpoint image fails ("checkpoint restore via CreateContainer is
//     disabled by configuration"). Absent before those versions (the restore is always on there) and
//     from 2.4 (which removed that restore, the setting with it).
//   - the default runtime's PodAnnotations (the pods name no runtime class): containerd passes a pod
//     annotation to runc only if it matches one of these patterns (path.Match, internal/cri/util
//     GetPassthroughAnnotations); without org.criu.config runc never sees the CRIU options the agent
//     writes per trial.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"time"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// criuConfigAnnotation is runc's pod annotation naming the CRIU configuration file (criu.go writes them).
const criuConfigAnnotation = "org.criu.config"

// The values of criSettings' RestoreViaCreate and CriuConfigAnnotation.
const (
	settingTrue    = "true"
	settingFalse   = "false"
	settingAbsent  = "absent" // RestoreViaCreate only: this containerd has no such setting
	settingUnknown = "unknown"
)

type criSettings struct {
	// enableExperimentalRestoreViaCreate as containerd runs it: true, false, absent or unknown (Why says why).
	RestoreViaCreate    string `json:"restoreViaCreate"`
	RestoreViaCreateWhy string `json:"restoreViaCreateWhy,omitempty"`
	// The runtime pods without a runtime class get (containerd's default_runtime_name).
	DefaultRuntime string `json:"defaultRuntime,omitempty"`
	// That runtime's pod_annotations as configured.
	PodAnnotations []string `json:"podAnnotations"`
	// Whether they pass org.criu.config to runc: true, false or unknown (Why says why).
	CriuConfigAnnotation    string `json:"criuConfigAnnotation"`
	CriuConfigAnnotationWhy string `json:"criuConfigAnnotationWhy,omitempty"`
	// The config file containerd reads (the agent's CONTAINERD_CONFIG), for the messages that name what to change.
	ConfigFile string `json:"configFile,omitempty"`
}

func unknownCRISettings(why string) criSettings {
	return criSettings{RestoreViaCreate: settingUnknown, RestoreViaCreateWhy: why, PodAnnotations: []string{}, CriuConfigAnnotation: settingUnknown, CriuConfigAnnotationWhy: why}
}

// criSettings asks containerd's CRI service, over the containerd client's own gRPC connection.
func (r *containerdRuntime) criSettings(parent context.Context) criSettings {
	conn, ok := r.client.Conn().(grpc.ClientConnInterface)
	if !ok {
		return unknownCRISettings(fmt.Sprintf("the containerd client's connection is a %T, not gRPC", r.client.Conn()))
	}
	ctx, cancel := context.WithTimeout(parent, 10*time.Second)
	defer cancel()
	status, err := runtimeapi.NewRuntimeServiceClient(conn).Status(ctx, &runtimeapi.StatusRequest{Verbose: true})
	if err != nil {
		return unknownCRISettings(fmt.Sprintf("containerd's CRI status (RuntimeService.Status): %v", err))
	}
	config, ok := status.GetInfo()["config"]
	if !ok {
		return unknownCRISettings("containerd's CRI status (RuntimeService.Status, verbose) has no config")
	}
	return criSettingsFromConfig(config)
}

// criSettingsFromConfig reads the settings from the CRI plugin's configuration as Status marshals it.
func criSettingsFromConfig(config string) criSettings {
	var c struct {
		RestoreViaCreate *bool `json:"enableExperimentalRestoreViaCreate"`
		Containerd       struct {
			DefaultRuntimeName string `json:"defaultRuntimeName"`
			Runtimes           map[string]struct {
				PodAnnotations []string `json:"PodAnnotations"`
			} `json:"runtimes"`
		} `json:"containerd"`
	}
	if err := json.Unmarshal([]byte(config), &c); err != nil {
		return unknownCRISettings(fmt.Sprintf("containerd's CRI config (RuntimeService.Status, verbose) is not the JSON expected: %v", err))
	}
	s := criSettings{PodAnnotations: []string{}}
	switch {
	case c.RestoreViaCreate == nil:
		s.RestoreViaCreate = settingAbsent
		s.RestoreViaCreateWhy = "containerd's CRI config has no enableExperimentalRestoreViaCreate: containerd before 2.2.7 and 2.3.4 restores through CreateContainer without it, 2.4 removed that restore"
	case *c.RestoreViaCreate:
		s.RestoreViaCreate = settingTrue
	default:
		s.RestoreViaCreate = settingFalse
	}
	s.DefaultRuntime = c.Containerd.DefaultRuntimeName
	runtime, ok := c.Containerd.Runtimes[s.DefaultRuntime]
	switch {
	case s.DefaultRuntime == "":
		s.CriuConfigAnnotation = settingUnknown
		s.CriuConfigAnnotationWhy = "containerd's CRI config names no default runtime (containerd.defaultRuntimeName)"
	case !ok:
		s.CriuConfigAnnotation = settingUnknown
		s.CriuConfigAnnotationWhy = fmt.Sprintf("containerd's CRI config has no runtime %q, its default", s.DefaultRuntime)
	default:
		if runtime.PodAnnotations != nil {
			s.PodAnnotations = runtime.PodAnnotations
		}
		s.CriuConfigAnnotation = settingFalse
		for _, pattern := range runtime.PodAnnotations {
			if matched, _ := path.Match(pattern, criuConfigAnnotation); matched {
				s.CriuConfigAnnotation = settingTrue
			}
		}
	}
	return s
}
