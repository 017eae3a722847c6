// What the registry delivery accepts: the registry the scenario names, and the pulled checkpoint
// images the agent may remove from its node's runtime (migbench's only).
package main

import "testing"

func TestRegistryNames(t *testing.T) {
	for registry, ok := range map[string]bool{
		"198.19.240.1:5000": true, "registry.example.org": true, "registry.example.org:443/team/sub": true,
		"": false, "https://registry.example.org": false, "Registry.Example.org": false, "host/../x": false, "host:5000/": false, "host?x=1": false,
	} {
		if got := validRegistry(registry) == nil; got != ok {
			t.Errorf("validRegistry(%q) = %v, want %v", registry, got, ok)
		}
	}
	c, err := newRegistryClient("registry.example.org:5000/team", true, nil, nil)
	if err != nil || c.base != "http://registry.example.org:5000" || c.repo("migbench-checkpoint/p") != "team/migbench-checkpoint/p" {
		t.Fatalf("newRegistryClient = %+v, %v", c, err)
	}
}

func TestPulledCheckpointImages(t *testing.T) {
	digest := "@sha256:" + "ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34ab12cd34"
	for name, ok := range map[string]bool{
		"198.19.240.1:5000/migbench-checkpoint/migbench-redis-x" + digest:        true,
		"registry.example.org/team/migbench-checkpoint/migbench-redis-x:trial-3": true,
		"198.19.240.1:5000/migbench/redis" + digest:                              false, // a workload's image
		"docker.io/library/redis:7":                                              false,
		"localhost/migbench-checkpoint/p:1":                                      true, // also the imported ones' form; removed the same way
	} {
		if got := pulledImagePattern.MatchString(name); got != ok {
			t.Errorf("pulledImagePattern(%q) = %v, want %v", name, got, ok)
		}
	}
}
