// Command startupbench measures the window's start-up against a bare Fyne
// hello window built the same way: time from exec to the first frame, and
// resident memory once the first screen is up (see package probe).
//
//	go run ./internal/tools/startupbench            # needs $DISPLAY, or -xvfb :77
//	go run ./internal/tools/startupbench -n 21 -xvfb :77
//	go run ./internal/tools/startupbench -before /tmp/main-src
//	go run ./internal/tools/startupbench -tags no_emoji
//
// -before adds earlier versions of the app to the rotation, so that a
// change is measured against them in the same run: comma-separated source
// trees (say, git archive main | tar -x -C /tmp/main-src), each built the
// same way as the others and named by its directory's name. (Prebuilt
// binaries are not taken: the resident memory of a binary's pages depends
// on how its file came to be in the page cache, by about 2 MiB.)
//
// The two programs run alternately, so load on the machine hits both alike;
// medians are reported, with the ratios to hello. The goals and the
// measurements so far are in docs/performance.md.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"infino.legal/mailbox/internal/kvfile"
)

type sample struct {
	ready time.Duration
	rssKB int
	hwmKB int
}

func main() {
	n := flag.Int("n", 15, "runs of each program")
	xvfb := flag.String("xvfb", "", "start Xvfb on this display (e.g. :77) instead of using $DISPLAY")
	locale := flag.String("lang", "pl_PL.UTF-8", "locale of the runs")
	tags := flag.String("tags", "", "build tags for every program (go build -tags)")
	before := flag.String("before", "", "source trees of earlier versions of infino-mailbox (comma-separated) to build and run in the same rotation")
	flag.Parse()

	dir, err := os.MkdirTemp("", "startupbench")
	check(err)
	defer os.RemoveAll(dir)
	bins := map[string]string{"hello": filepath.Join(dir, "hello"), "mailbox": filepath.Join(dir, "infino-mailbox")}
	// Built the same way: one go build each, same flags.
	build := func(out, srcDir, pkg string) {
		cmd := exec.Command("go", "build", "-tags", *tags, "-o", out, pkg)
		cmd.Dir = srcDir
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		check(cmd.Run())
	}
	build(bins["hello"], "", "./internal/tools/hello")
	build(bins["mailbox"], "", ".")
	names := []string{"hello"}
	if *before != "" {
		for _, src := range strings.Split(*before, ",") {
			name := filepath.Base(src)
			if _, dup := bins[name]; dup {
				check(fmt.Errorf("-before: two programs named %s", name))
			}
			bins[name] = filepath.Join(dir, name)
			build(bins[name], src, ".")
			names = append(names, name)
		}
	}
	names = append(names, "mailbox")

	display := os.Getenv("DISPLAY")
	if *xvfb != "" {
		x := exec.Command("Xvfb", *xvfb, "-screen", "0", "1366x768x24", "+extension", "GLX", "-nolisten", "tcp")
		check(x.Start())
		defer x.Process.Kill()
		time.Sleep(time.Second)
		display = *xvfb
	}
	if display == "" {
		fmt.Fprintln(os.Stderr, "startupbench: no DISPLAY; pass -xvfb :77")
		os.Exit(2)
	}

	res := map[string][]sample{}
	for i := 0; i < *n+1; i++ { // the first round warms the page cache and is dropped
		for _, name := range names {
			s, err := run(bins[name], dir, display, *locale)
			if err != nil {
				fmt.Fprintf(os.Stderr, "startupbench: %s: %v\n", name, err)
				os.Exit(1)
			}
			if i > 0 {
				res[name] = append(res[name], s)
			}
		}
	}
	h := summary(res["hello"])
	fmt.Printf("runs: %d each (medians; min in brackets), locale %s\n", *n, *locale)
	for _, name := range names {
		m := summary(res[name])
		fmt.Printf("%-10s first frame %7.1f ms [%6.1f]   RSS %6.1f MiB [%6.1f]   peak RSS %6.1f MiB\n", name, ms(m.ready), ms(m.minReady), mib(m.rss), mib(m.minRSS), mib(m.hwm))
	}
	for _, name := range names[1:] {
		m := summary(res[name])
		fmt.Printf("%-10s ratio time %.3f×   memory %.3f×   (goals ≤ 1.10× / ≤ 1.15×)\n", name,
			float64(m.ready)/float64(h.ready), float64(m.rss)/float64(h.rss))
	}
}

func run(bin, dir, display, locale string) (sample, error) {
	probeFile := filepath.Join(dir, "probe.txt")
	os.Remove(probeFile)
	cfg := filepath.Join(dir, "config")
	os.RemoveAll(cfg)
	cmd := exec.Command(bin)
	// Not in the repository: a Fyne app built by go build and run from a
	// temporary directory looks for FyneApp.toml in its working directory
	// (hello would load this repository's, with its 512 px icon).
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "DISPLAY=" + display,
		"LANG=" + locale, "LC_ALL=" + locale, "XDG_CONFIG_HOME=" + cfg, "XDG_RUNTIME_DIR=" + dir,
		"INFINO_MAILBOX_PROBE=" + probeFile, "FYNE_THEME=light",
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return sample{}, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return sample{}, fmt.Errorf("no first frame in 30 s")
	}
	kv, err := kvfile.Read(probeFile)
	if err != nil {
		return sample{}, fmt.Errorf("probe: %v", err)
	}
	ns, _ := strconv.ParseInt(kv["ready_unix_ns"], 10, 64)
	rss, _ := strconv.Atoi(kv["rss_kb"])
	hwm, _ := strconv.Atoi(kv["hwm_kb"])
	return sample{ready: time.Unix(0, ns).Sub(start), rssKB: rss, hwmKB: hwm}, nil
}

type stats struct {
	ready, minReady time.Duration
	rss, minRSS     int
	hwm             int
}

func summary(s []sample) stats {
	r := make([]time.Duration, len(s))
	m := make([]int, len(s))
	w := make([]int, len(s))
	for i, x := range s {
		r[i], m[i], w[i] = x.ready, x.rssKB, x.hwmKB
	}
	sort.Slice(r, func(i, j int) bool { return r[i] < r[j] })
	sort.Ints(m)
	sort.Ints(w)
	return stats{ready: r[len(r)/2], minReady: r[0], rss: m[len(m)/2], minRSS: m[0], hwm: w[len(w)/2]}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mib(kb int) float64         { return float64(kb) / 1024 }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "startupbench:", err)
		os.Exit(1)
	}
}
