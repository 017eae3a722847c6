// The node's containerd events, kept for a few minutes, so migbench can tell when a moved pod's
// sandbox and container were created and started by containerd's own clock (nanoseconds) — the
// steps the API shows only to the second, if at all (the outage breakdown, docs/methodology.md).
// The subscription starts with the route (at the agent's start), not on the first request: a trial
// asks after its pod came up.
package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	apievents "github.com/containerd/containerd/api/events"
	"github.com/containerd/typeurl/v2"
)

const (
	// Events older than this are dropped; a trial asks within its observation window.
	runtimeEventsKept = 10 * time.Minute
	runtimeEventsMax  = 20000
)

type runtimeEvent struct {
	at          time.Time
	topic       string
	containerID string
}

type runtimeEventLog struct {
	mu     sync.Mutex
	events []runtimeEvent
	since  time.Time
	err    string
}

// runtimeEvents starts following containerd's events (container create, task create and start in
// the CRI's namespace) and returns the handler that answers for one pod.
func (a *agent) runtimeEvents() handler {
	l := &runtimeEventLog{since: time.Now()}
	// An agent without containerd (its unit tests) answers that it has none.
	if a.runtime != nil {
		go l.follow(a.runtime)
	}
	return func(w http.ResponseWriter, r *http.Request) (any, error) {
		if a.runtime == nil {
			return nil, httpError{http.StatusServiceUnavailable, "no container runtime to follow"}
		}
		return l.forPod(r.Context(), a.runtime, r.PathValue("uid"))
	}
}

func (l *runtimeEventLog) follow(rt *containerdRuntime) {
	for {
		ch, errs := rt.client.Subscribe(context.Background(), `namespace=="k8s.io",topic=="/containers/create"`, `namespace=="k8s.io",topic=="/tasks/create"`, `namespace=="k8s.io",topic=="/tasks/start"`)
	read:
		for {
			select {
			case env := <-ch:
				if env == nil {
					break read
				}
				decoded, err := typeurl.UnmarshalAny(env.Event)
				if err != nil {
					continue
				}
				id := ""
				switch e := decoded.(type) {
				case *apievents.ContainerCreate:
					id = e.ID
				case *apievents.TaskCreate:
					id = e.ContainerID
				case *apievents.TaskStart:
					id = e.ContainerID
				}
				if id != "" {
					l.add(runtimeEvent{at: env.Timestamp, topic: env.Topic, containerID: id})
				}
			case err := <-errs:
				l.mu.Lock()
				l.err = fmt.Sprint(err)
				l.mu.Unlock()
				break read
			}
		}
		// containerd restarted or the stream ended: follow again (what happened meanwhile is lost, and said so by `since`).
		time.Sleep(time.Second)
		l.mu.Lock()
		l.since = time.Now()
		l.mu.Unlock()
	}
}

func (l *runtimeEventLog) add(e runtimeEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
	cut := 0
	for cut < len(l.events) && (time.Since(l.events[cut].at) > runtimeEventsKept || len(l.events)-cut > runtimeEventsMax) {
		cut++
	}
	l.events = l.events[cut:]
}

type podRuntimeContainer struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
	// containerd's own timestamps (RFC 3339, nanoseconds) of /containers/create, /tasks/create, /tasks/start.
	Created     string `json:"created,omitempty"`
	TaskCreated string `json:"taskCreated,omitempty"`
	TaskStarted string `json:"taskStarted,omitempty"`
}

// forPod answers the containers of a migbench pod (by uid) with their event times, sandbox first.
func (l *runtimeEventLog) forPod(ctx context.Context, rt *containerdRuntime, uid string) (any, error) {
	if uid == "" {
		return nil, badRequest("a pod uid is needed")
	}
	ok, err := rt.isMigbenchPod(ctx, uid, "", "")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, httpError{http.StatusNotFound, fmt.Sprintf("no migbench pod with uid %s on this node", uid)}
	}
	list, err := rt.client.ContainerService().List(rt.ctx(ctx), fmt.Sprintf(`labels.%q==%q`, podUIDLabel, uid))
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []podRuntimeContainer{}
	for _, c := range list {
		pc := podRuntimeContainer{ID: c.ID, Kind: c.Labels[sandboxKind], Name: c.Labels["io.kubernetes.container.name"]}
		for _, e := range l.events {
			if e.containerID != c.ID {
				continue
			}
			at := e.at.UTC().Format(time.RFC3339Nano)
			switch e.topic {
			case "/containers/create":
				pc.Created = at
			case "/tasks/create":
				pc.TaskCreated = at
			case "/tasks/start":
				pc.TaskStarted = at
			}
		}
		out = append(out, pc)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Kind == "sandbox" && out[j].Kind != "sandbox" })
	return map[string]any{"containers": out, "followingSince": l.since.UTC().Format(time.RFC3339Nano), "streamError": l.err}, nil
}
