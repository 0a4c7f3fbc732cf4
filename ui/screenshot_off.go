//go:build !screenshots

package ui

// The screenshot harness (screenshot.go) is built only with -tags
// screenshots; a normal build opens no sample screen.

func screenshotRequested() string           { return "" }
func screenshotDeps(d Deps, _ string) Deps  { return d }
func (wz *Wizard) openForScreenshot(string) {}
