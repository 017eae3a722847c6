// The checkpoint image: the kubelet's archive, unchanged, as the only layer of an OCI image whose
// manifest carries the annotations the runtimes look for — containerd's CRI reads
// org.criu.checkpoint.container.name (checkpointctl's CheckpointAnnotationName), CRI-O
// io.kubernetes.cri-o.annotations.checkpoint.name — for the node's architecture. It goes into
// containerd as an OCI layout tar streamed into the content store (no copy of the archive on disk),
// unpacked for the CRI's snapshotter, in the k8s.io namespace the kubelet's images live in.
package main

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// Every checkpoint image's name starts so (migbench names them; cleanup finds them by it).
const checkpointImagePrefix = "localhost/migbench-checkpoint/"

// The namespace's segment lets cleanup remove one namespace's images only (trial_namespace.go).
var imageNamePattern = regexp.MustCompile(`^localhost/migbench-checkpoint/[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?/[a-z0-9][a-z0-9._-]{0,127}:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

func validImageName(name string) error {
	if !imageNamePattern.MatchString(name) {
		return fmt.Errorf("image %q: checkpoint images are named %s<namespace>/<pod>:<trial>", name, checkpointImagePrefix)
	}
	return nil
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *platform         `json:"platform,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// checkpointImage is the layout around one layer whose digest is known (the transfer computed it).
type checkpointImage struct {
	name       string
	layerPath  string
	layer      descriptor
	blobs      map[string][]byte // config, manifest, by digest
	indexJSON  []byte
	layoutJSON []byte
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func newCheckpointImage(name, container, layerPath, layerDigest string, layerSize int64) (*checkpointImage, error) {
	if err := validImageName(name); err != nil {
		return nil, err
	}
	arch := runtime.GOARCH
	config, err := json.Marshal(map[string]any{
		"architecture": arch,
		"os":           "linux",
		"created":      time.Unix(0, 0).UTC().Format(time.RFC3339),
		"config":       map[string]any{},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{layerDigest}},
	})
	if err != nil {
		return nil, err
	}
	layer := descriptor{MediaType: "application/vnd.oci.image.layer.v1.tar", Digest: layerDigest, Size: layerSize}
	manifest, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: sha(config), Size: int64(len(config))},
		"layers":        []descriptor{layer},
		"annotations": map[string]string{
			"org.criu.checkpoint.container.name":              container,
			"io.kubernetes.cri-o.annotations.checkpoint.name": container,
		},
	})
	if err != nil {
		return nil, err
	}
	tag := name[strings.LastIndex(name, ":")+1:]
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests": []descriptor{{
			MediaType: "application/vnd.oci.image.manifest.v1+json", Digest: sha(manifest), Size: int64(len(manifest)),
			Platform:    &platform{Architecture: arch, OS: "linux"},
			Annotations: map[string]string{"io.containerd.image.name": name, "org.opencontainers.image.ref.name": tag},
		}},
	})
	if err != nil {
		return nil, err
	}
	return &checkpointImage{
		name: name, layerPath: layerPath, layer: layer,
		blobs:      map[string][]byte{sha(config): config, sha(manifest): manifest},
		indexJSON:  index,
		layoutJSON: []byte(`{"imageLayoutVersion":"1.0.0"}`),
	}, nil
}

// writeLayout writes the image as an OCI layout tar to w (what `ctr images import` reads).
func (img *checkpointImage) writeLayout(w io.Writer) error {
	tw := tar.NewWriter(w)
	file := func(name string, size int64, body io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, Typeflag: tar.TypeReg, ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err := io.CopyN(tw, body, size)
		return err
	}
	bytesFile := func(name string, b []byte) error { return file(name, int64(len(b)), strings.NewReader(string(b))) }
	if err := bytesFile("oci-layout", img.layoutJSON); err != nil {
		return err
	}
	if err := bytesFile("index.json", img.indexJSON); err != nil {
		return err
	}
	for digest, b := range img.blobs {
		if err := bytesFile("blobs/sha256/"+strings.TrimPrefix(digest, "sha256:"), b); err != nil {
			return err
		}
	}
	layer, err := os.Open(img.layerPath)
	if err != nil {
		return err
	}
	defer layer.Close()
	if err := file("blobs/sha256/"+strings.TrimPrefix(img.layer.Digest, "sha256:"), img.layer.Size, layer); err != nil {
		return fmt.Errorf("the archive as the image's layer: %w", err)
	}
	return tw.Close()
}

// runtimeImages is what the agent needs of the node's runtime.
type runtimeImages interface {
	importImage(ctx context.Context, img *checkpointImage) error
	removeImage(ctx context.Context, name string) error
	listImages(ctx context.Context, prefix string) ([]string, error)
	// isMigbenchPod says whether a pod sandbox with this uid (or name and namespace) runs on the node and is migbench's.
	isMigbenchPod(ctx context.Context, uid, name, namespace string) (bool, error)
}
