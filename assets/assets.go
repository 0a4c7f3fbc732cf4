// Package assets holds the files embedded in the binary: the app icon and the
// window's translations.
package assets

import (
	"embed"

	"fyne.io/fyne/v2"
)

//go:embed icon.png
var iconPNG []byte

// Icon is the application icon.
var Icon = fyne.NewStaticResource("icon.png", iconPNG)

//go:embed icon-128.png
var iconWindowPNG []byte

// WindowIcon is the icon at 128 px, for the window's title bar and task
// bar (up to 64 px at 200 % scaling). The system gets it as raw pixels when
// the window is created, before the first frame: the 512 px one cost 12 ms
// there (decoding and 1 MiB of pixels sent to the window system).
var WindowIcon = fyne.NewStaticResource("icon-128.png", iconWindowPNG)

//go:embed icon-64.png
var iconSmallPNG []byte

// IconSmall is the icon at 64 px, for the window's header: decoding the
// 512 px one there would only slow the first frame.
var IconSmall = fyne.NewStaticResource("icon-64.png", iconSmallPNG)

// Translations holds the window's texts, translations/pl.json and
// translations/en.json, in the go-i18n JSON format that
// fyne.io/fyne/v2/lang reads. Every key exists in both files (ui tests check).
//
//go:embed translations/*.json
var Translations embed.FS

// TranslationsDir is the directory of Translations to pass to lang.AddTranslationsFS.
const TranslationsDir = "translations"
