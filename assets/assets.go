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

// Translations holds the window's texts, translations/pl.json and
// translations/en.json, in the go-i18n JSON format that
// fyne.io/fyne/v2/lang reads. Every key exists in both files (ui tests check).
//
//go:embed translations/*.json
var Translations embed.FS

// TranslationsDir is the directory of Translations to pass to lang.AddTranslationsFS.
const TranslationsDir = "translations"
