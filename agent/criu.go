// The CRIU options of a migration, as configuration files runc hands to CRIU (a pod names one in
// its org.criu.config annotation, which containerd passes on with `pod_annotations`), and CRIU's
// own logs of a trial. Why each option:
//   - tcp-close: established connections are dumped without their state and restored closed (the
//     restored pod has another address; clients reconnect).
//   - skip-in-flight: a connection accepted by the kernel but not yet by the app is left out
//     instead of failing the dump.
//   - leave-stopped (dump): the source stays stopped once dumped, so nothing it does afterwards is
//     lost when the copy takes over; the agent resumes it if the move fails.
//   - network-lock skip (dump): with leave-stopped CRIU would never lift its network lock, and a
//     resumed source could not be reached again.
//   - log-file: CRIU's log per trial, outside containerd's work directory (removed on failure).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The files pods name in org.criu.config. Each trial has its own pair under trials/<key>/ (the
// annotation is set when the pod is created, and migbench knows the trial's key then), so two runs
// checkpointing on one node never read each other's options or logs; the pair at the top carries the
// same options for a checkpoint made by hand ("manual").
const (
	checkpointConfigName = "checkpoint.conf"
	restoreConfigName    = "restore.conf"
	manualKey            = "manual"
)

// criuOptionsPath is where the options of a trial's dump or restore are: criu/trials/<key>/<file>.
func criuOptionsPath(criuDir, key, step string) string {
	name := checkpointConfigName
	if step == "restore" {
		name = restoreConfigName
	}
	if key == manualKey {
		return filepath.Join(criuDir, name)
	}
	return filepath.Join(criuDir, "trials", key, name)
}

var trialKeyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

func validTrialKey(key string) error {
	if !trialKeyPattern.MatchString(key) || strings.Contains(key, "..") {
		return fmt.Errorf("trial key %q: letters, digits, '.', '_' and '-' only", key)
	}
	return nil
}

func criuLogPath(criuDir, key, step string) string {
	return filepath.Join(criuDir, "logs", fmt.Sprintf("%s.%s.log", key, step))
}

// criuOptions is the text of one configuration file: one option per line, as CRIU's config files are.
func criuOptions(step, logFile string) string {
	var options []string
	if step == "dump" {
		options = []string{"tcp-close", "skip-in-flight", "leave-stopped", "network-lock skip"}
	} else {
		options = []string{"tcp-close"}
	}
	options = append(options, "log-file "+logFile)
	return "# migbench-agent: CRIU options of a migration's " + step + " (pods name this file in org.criu.config)\n" + strings.Join(options, "\n") + "\n"
}

// writeCriuOptions writes the dump's or the restore's options with this trial's log file.
func writeCriuOptions(criuDir, key, step string) error {
	path := criuOptionsPath(criuDir, key, step)
	for _, dir := range []string{filepath.Join(criuDir, "logs"), filepath.Dir(path)} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	text := criuOptions(step, criuLogPath(criuDir, key, step))
	// A node's administrator may add options of their own (e.g. ext-mount-map for a volume CRIU
	// cannot see) in extra-<step>.conf beside these files; they follow migbench's.
	if extra, err := os.ReadFile(filepath.Join(criuDir, "extra-"+step+".conf")); err == nil {
		text += "# from extra-" + step + ".conf\n" + string(extra)
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
	}
	return writeFileAtomic(path, []byte(text), 0o600)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".partial"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readCriuLog returns the end of a trial's CRIU log (at most maxBytes); migbench picks the error line.
func readCriuLog(criuDir, key, step string, maxBytes int64) (string, error) {
	f, err := os.Open(criuLogPath(criuDir, key, step))
	if err != nil {
		if os.IsNotExist(err) {
			return "", nil
		}
		return "", err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", err
	}
	offset := info.Size() - maxBytes
	if offset < 0 {
		offset = 0
	}
	buf := make([]byte, info.Size()-offset)
	_, err = f.ReadAt(buf, offset)
	return string(buf), err
}
