// Package probe measures start-up for the benchmark in ui/internal/startupbench:
// with INFINO_MAILBOX_PROBE=FILE set, once the window has drawn its first
// frames it writes the wall-clock time and the memory in use to FILE and quits.
// Without the variable it does nothing.
package probe

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"fyne.io/fyne/v2"
)

// Env names the file the probe writes.
const Env = "INFINO_MAILBOX_PROBE"

// Start arms the probe; call it before ShowAndRun.
func Start(a fyne.App) {
	path := os.Getenv(Env)
	if path == "" {
		return
	}
	a.Lifecycle().SetOnStarted(func() {
		go func() {
			// Each DoAndWait returns after the event loop ran it; the loop
			// paints between rounds, so after three the first frame is up.
			for i := 0; i < 3; i++ {
				fyne.DoAndWait(func() {})
			}
			now := time.Now().UnixNano()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			out := fmt.Sprintf("ready_unix_ns=%d\nrss_kb=%d\nhwm_kb=%d\ngo_heap_kb=%d\n",
				now, status("VmRSS"), status("VmHWM"), ms.HeapAlloc/1024)
			_ = os.WriteFile(path, []byte(out), 0o600)
			fyne.Do(a.Quit)
		}()
	})
}

// status reads a kB value from /proc/self/status (Linux); 0 elsewhere.
func status(key string) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			var n int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &n)
			return n
		}
	}
	return 0
}
