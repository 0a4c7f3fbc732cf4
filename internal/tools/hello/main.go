// Command hello is the baseline of the start-up benchmark: a bare Fyne window
// with one label, built and measured the same way as infino-mailbox.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"

	"infino.legal/mailbox/ui/probe"
)

func main() {
	a := app.NewWithID("legal.infino.mailbox.hello")
	w := a.NewWindow("Hello")
	w.SetContent(widget.NewLabel("Hello"))
	w.Resize(fyne.NewSize(940, 680))
	probe.Start(a, w)
	w.ShowAndRun()
}
