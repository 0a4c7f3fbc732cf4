// Package ui is the window of Infino Mailbox: one small struct per screen, and
// every fyne.Do of the app. The core it shows lives in package mailcfg.
package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"infino.legal/mailbox/assets"
	"infino.legal/mailbox/mailcfg"
)

// Run opens the window and blocks until it is closed.
func Run(args []string) {
	a := app.NewWithID(mailcfg.AppID)
	a.SetIcon(assets.Icon)
	w := a.NewWindow(mailcfg.AppName)
	w.SetContent(container.NewCenter(widget.NewLabel(mailcfg.AppName)))
	w.Resize(fyne.NewSize(720, 560))
	w.ShowAndRun()
}
