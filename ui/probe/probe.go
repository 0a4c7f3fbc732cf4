// Package probe measures start-up for the benchmark in internal/tools/startupbench:
// with INFINO_MAILBOX_PROBE=FILE set, once the window has painted its first
// frame it writes the wall-clock time and the memory in use to FILE and quits.
// Without the variable it does nothing.
//
// The first frame is caught by a transparent raster laid over the window:
// the GL painter calls a raster's generator while it paints the frame, and
// overlays are painted last.
package probe

import (
	"fmt"
	"image"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
)

// Env names the file the probe writes.
const Env = "INFINO_MAILBOX_PROBE"

// CPUEnv names a file for a CPU profile from the process's start (this
// package's init) to the first frame. Optional; profiles of several runs
// can be merged by go tool pprof.
const CPUEnv = "INFINO_MAILBOX_PROBE_CPU"

// TraceEnv names a file for an execution trace from this package's init
// to the first frame (go tool trace FILE shows which goroutine and thread
// waited for which). Optional.
const TraceEnv = "INFINO_MAILBOX_PROBE_TRACE"

var cpuProfile, traceFile *os.File

func init() {
	if os.Getenv(Env) == "" {
		return
	}
	if p := os.Getenv(CPUEnv); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			cpuProfile = f
		}
	}
	if p := os.Getenv(TraceEnv); p != "" {
		if f, err := os.Create(p); err == nil && trace.Start(f) == nil {
			traceFile = f
		}
	}
}

// HeapEnv names a file for a heap profile taken after the measurement and
// a collection (go tool pprof -sample_index=inuse_space FILE shows what is
// live at the first frame; -sample_index=alloc_space, where start-up
// allocated). Optional.
const HeapEnv = "INFINO_MAILBOX_PROBE_HEAP"

// Start arms the probe on w; call it before ShowAndRun.
func Start(a fyne.App, w fyne.Window) {
	path := os.Getenv(Env)
	if path == "" {
		return
	}
	var once sync.Once
	painted := make(chan time.Time, 1)
	r := canvas.NewRaster(func(wd, ht int) image.Image {
		once.Do(func() { painted <- time.Now() })
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	})
	w.Canvas().Overlays().Add(r)
	go func() {
		at := <-painted
		fyne.DoAndWait(func() {}) // the frame is finished and swapped
		if cpuProfile != nil {
			pprof.StopCPUProfile()
			_ = cpuProfile.Close()
		}
		if traceFile != nil {
			trace.Stop()
			_ = traceFile.Close()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		out := fmt.Sprintf("ready_unix_ns=%d\nrss_kb=%d\nhwm_kb=%d\nrss_anon_kb=%d\nrss_file_kb=%d\ngo_heap_kb=%d\ngo_sys_kb=%d\n",
			at.UnixNano(), status("VmRSS"), status("VmHWM"), status("RssAnon"), status("RssFile"), ms.HeapAlloc/1024, ms.Sys/1024)
		_ = os.WriteFile(path, []byte(out), 0o600)
		if hp := os.Getenv(HeapEnv); hp != "" {
			if f, err := os.Create(hp); err == nil {
				runtime.GC() // in use = live at the first frame
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				_ = f.Close()
			}
		}
		fyne.Do(a.Quit)
	}()
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
