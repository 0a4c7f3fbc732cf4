package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// appTheme is Fyne's theme with status colours dark enough to read as text
// on the light background (Fyne's bright green and orange are made for icons
// and fills; as text on white they fall well below WCAG's 4.5:1). The dark
// variant is untouched.
type appTheme struct{ fyne.Theme }

func newAppTheme() fyne.Theme { return appTheme{theme.DefaultTheme()} }

func (t appTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if v == theme.VariantLight {
		switch n {
		case theme.ColorNameSuccess:
			return color.NRGBA{R: 0x1b, G: 0x7a, B: 0x35, A: 0xff}
		case theme.ColorNameWarning:
			return color.NRGBA{R: 0x9a, G: 0x58, B: 0x00, A: 0xff}
		case theme.ColorNameError:
			return color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
		}
	}
	return t.Theme.Color(n, v)
}
