package load

import (
	"bytes"
	"fmt"
	"os"
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

	// Field 2, the command name, is in parentheses and may hold spaces, so the
	// fields are counted from the last ')': state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	fields := bytes.Fields(b[i+1:])
	if i < 0 || len(fields) < 13 {
		return 0, fmt.Errorf("server cpu time: /proc/%d/stat is malformed", pid)
	}
	utime, err1 := strconv.ParseUint(string(fields[11]), 10, 64)
	stime, err2 := strconv.ParseUint(string(fields[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("server cpu time: /proc/%d/stat is malformed", pid)
	}
	return float64(utime+stime) / clockTicks, nil
}
