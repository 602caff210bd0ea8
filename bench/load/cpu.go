package load

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc: 100 on every
// Linux architecture Go supports.
const clockTicks = 100

// cpuSeconds returns the CPU time, user and system, that process pid has used,
// from /proc/PID/stat. It works on Linux only.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("server cpu time: %w", err)
	}
	_, seconds, err := parseStat(b)
	if err != nil {
		return 0, fmt.Errorf("server cpu time: /proc/%d/stat: %w", pid, err)
	}
	return seconds, nil
}

// commandCPUSeconds returns the CPU time that the running processes named
// command (as in /proc/PID/comm, such as "postgres") have used between them.
// A process that exits between two readings takes its time with it, so it
// suits long-lived processes, such as a database's pooled backends.
func commandCPUSeconds(command string) (float64, error) {
	paths, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return 0, err
	}

	var total float64
	found := false
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // it exited
		}
		comm, seconds, err := parseStat(b)
		if err == nil && comm == command {
			total, found = total+seconds, true
		}
	}
	if !found {
		return 0, fmt.Errorf("database cpu time: no process named %q", command)
	}
	return total, nil
}

// parseStat returns the command name and the CPU time, user and system, of a
// /proc/PID/stat file.
func parseStat(b []byte) (comm string, seconds float64, err error) {
	// Field 2, the command name, is in parentheses and may hold spaces, so the
	// fields are counted from the last ')': state is field 3, utime 14, stime 15.
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return "", 0, errors.New("malformed")
	}
	fields := bytes.Fields(b[end+1:])
	if len(fields) < 13 {
		return "", 0, errors.New("malformed")
	}
	utime, err1 := strconv.ParseUint(string(fields[11]), 10, 64)
	stime, err2 := strconv.ParseUint(string(fields[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, errors.New("malformed")
	}
	return string(b[open+1 : end]), float64(utime+stime) / clockTicks, nil
}
