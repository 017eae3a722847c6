// The node's containerd, through its socket, in the k8s.io namespace (the CRI's): checkpoint images
// imported and unpacked as `ctr images import` does, removed again, and migbench's pods recognised
// by the labels the kubelet gives their sandboxes.
package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
)

const (
	criNamespace  = "k8s.io"
	managedBy     = "app.kubernetes.io/managed-by"
	podUIDLabel   = "io.kubernetes.pod.uid"
	podNameLabel  = "io.kubernetes.pod.name"
	podNSLabel    = "io.kubernetes.pod.namespace"
	sandboxKind   = "io.cri-containerd.kind"
	defaultUnpack = "overlayfs"
)

type containerdRuntime struct {
	client *containerd.Client
}

func newContainerdRuntime(socket string) (*containerdRuntime, error) {
	client, err := containerd.New(socket, containerd.WithDefaultNamespace(criNamespace))
	if err != nil {
		return nil, fmt.Errorf("containerd at %s: %w", socket, err)
	}
	return &containerdRuntime{client: client}, nil
}

func (r *containerdRuntime) ctx(parent context.Context) context.Context {
	return namespaces.WithNamespace(parent, criNamespace)
}

func (r *containerdRuntime) importImage(parent context.Context, img *checkpointImage) error {
	ctx, done, err := r.client.WithLease(r.ctx(parent))
	if err != nil {
		return err
	}
	defer done(ctx)
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(img.writeLayout(pw)) }()
	imported, err := r.client.Import(ctx, pr, containerd.WithImportPlatform(platforms.DefaultStrict()))
	pr.CloseWithError(err)
	if err != nil {
		return fmt.Errorf("importing %s into containerd: %w", img.name, err)
	}
	for _, i := range imported {
		if err := containerd.NewImageWithPlatform(r.client, i, platforms.DefaultStrict()).Unpack(ctx, defaultUnpack); err != nil {
			return fmt.Errorf("unpacking %s: %w", i.Name, err)
		}
	}
	return nil
}

func (r *containerdRuntime) removeImage(parent context.Context, name string) error {
	err := r.client.ImageService().Delete(r.ctx(parent), name, images.SynchronousDelete())
	if errdefs.IsNotFound(err) {
		return nil
	}
	return err
}

func (r *containerdRuntime) listImages(parent context.Context, prefix string) ([]string, error) {
	list, err := r.client.ImageService().List(r.ctx(parent))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, i := range list {
		if strings.HasPrefix(i.Name, prefix) {
			names = append(names, i.Name)
		}
	}
	return names, nil
}

func (r *containerdRuntime) isMigbenchPod(parent context.Context, uid, name, namespace string) (bool, error) {
	filter := fmt.Sprintf(`labels.%q==sandbox`, sandboxKind)
	if uid != "" {
		filter += fmt.Sprintf(`,labels.%q==%q`, podUIDLabel, uid)
	} else {
		filter += fmt.Sprintf(`,labels.%q==%q,labels.%q==%q`, podNameLabel, name, podNSLabel, namespace)
	}
	list, err := r.client.ContainerService().List(r.ctx(parent), filter)
	if err != nil {
		return false, err
	}
	for _, c := range list {
		if c.Labels[managedBy] == "migbench" {
			return true, nil
		}
	}
	return false, nil
}

// migbenchPods lists migbench's pod sandboxes on the node (cleanup resumes what they hold stopped,
// its namespace's only).
func (r *containerdRuntime) migbenchPods(parent context.Context) ([]podSandbox, error) {
	list, err := r.client.ContainerService().List(r.ctx(parent), fmt.Sprintf(`labels.%q==sandbox,labels.%q==migbench`, sandboxKind, managedBy))
	if err != nil {
		return nil, err
	}
	var pods []podSandbox
	for _, c := range list {
		if uid := c.Labels[podUIDLabel]; uid != "" {
			pods = append(pods, podSandbox{UID: uid, Name: c.Labels[podNameLabel], Namespace: c.Labels[podNSLabel]})
		}
	}
	return pods, nil
}
