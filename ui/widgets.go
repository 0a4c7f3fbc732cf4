package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// fieldEntry is an Entry that reports losing focus, so a field's message can
// wait until the user has finished typing in it.
type fieldEntry struct {
	widget.Entry
	onFocusLost func()
}

func newFieldEntry(placeholder string) *fieldEntry {
	e := &fieldEntry{}
	e.PlaceHolder = placeholder
	e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	e.ExtendBaseWidget(e)
	return e
}

// newSecretEntry is a password field with a show/hide button (the stock
// NewPasswordEntry cannot report focus loss).
func newSecretEntry(placeholder string) *fieldEntry {
	e := newFieldEntry(placeholder)
	e.Password = true
	var reveal *widget.Button
	reveal = widget.NewButtonWithIcon("", theme.VisibilityOffIcon(), func() {
		e.Password = !e.Password
		if e.Password {
			reveal.SetIcon(theme.VisibilityOffIcon())
		} else {
			reveal.SetIcon(theme.VisibilityIcon())
		}
		e.Refresh()
	})
	reveal.Importance = widget.LowImportance
	e.ActionItem = reveal
	return e
}

func (e *fieldEntry) FocusLost() {
	e.Entry.FocusLost()
	if e.onFocusLost != nil {
		e.onFocusLost()
	}
}

// field is a label, an input and the message under it.
type field struct {
	path  string // settings field path: "email", "incoming.port", "password"
	label *widget.Label
	input fyne.CanvasObject
	msg   *widget.Label
	// inputBox is the input with its message under it, for a form row.
	inputBox *fyne.Container
	// shown: the user has left the field once (or tried to continue), so
	// its problems are displayed.
	shown bool
	// server is a problem the servers reported for this field; it stays until
	// the field is edited.
	server string
}

func newField(path, label string, input fyne.CanvasObject) *field {
	f := &field{path: path, label: widget.NewLabelWithStyle(label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), input: input}
	f.msg = widget.NewLabel("")
	f.msg.Importance = widget.DangerImportance
	f.msg.Wrapping = fyne.TextWrapWord
	f.msg.Hide()
	f.inputBox = container.NewVBox(input, f.msg)
	return f
}

// stacked is the field with its label above it.
func (f *field) stacked() fyne.CanvasObject { return container.NewVBox(f.label, f.inputBox) }

func (f *field) setMsg(s string) {
	if f.msg.Text == s && f.msg.Visible() == (s != "") {
		return
	}
	f.msg.SetText(s)
	if s == "" {
		f.msg.Hide()
	} else {
		f.msg.Show()
	}
}

// wrapLabel is a word-wrapping label.
func wrapLabel(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// heading is a screen title.
func heading(s string) *widget.Label {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameSubHeadingText
	l.Wrapping = fyne.TextWrapWord
	return l
}

// buttonBar puts buttons at the right, and "back"-like ones at the left.
func buttonBar(left []fyne.CanvasObject, right ...fyne.CanvasObject) *fyne.Container {
	objs := append([]fyne.CanvasObject{}, left...)
	objs = append(objs, layout.NewSpacer())
	objs = append(objs, right...)
	return container.NewVBox(widget.NewSeparator(), container.NewPadded(container.NewHBox(objs...)))
}

// page lays out a screen: scrolling body above a fixed button bar.
func page(body fyne.CanvasObject, bar fyne.CanvasObject) (fyne.CanvasObject, *container.Scroll) {
	sc := container.NewVScroll(container.NewPadded(body))
	return container.NewBorder(nil, bar, nil, nil, sc), sc
}

// noteBox is an icon beside a wrapping text, for help and warnings.
type noteBox struct {
	icon *widget.Icon
	text *widget.Label
	box  *fyne.Container
}

func newNote(icon fyne.Resource, imp widget.Importance) *noteBox {
	n := &noteBox{icon: widget.NewIcon(icon), text: wrapLabel("")}
	n.text.Importance = imp
	// The icon sits on the first line: a label's text starts below its
	// inner padding.
	ic := container.New(layout.NewCustomPaddedLayout(theme.InnerPadding()-theme.Padding(), 0, 0, 0), n.icon)
	n.box = container.NewBorder(nil, nil, container.NewVBox(ic), nil, n.text)
	n.box.Hide()
	return n
}

func (n *noteBox) set(s string) {
	n.text.SetText(s)
	if s == "" {
		n.box.Hide()
	} else {
		n.box.Show()
	}
}

// maxWidth centres its content and keeps it at most w wide, so short screens
// do not stretch across a wide window.
type maxWidth struct{ w float32 }

func (l *maxWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w := size.Width
	if w > l.w {
		w = l.w
	}
	for _, o := range objs {
		o.Resize(fyne.NewSize(w, size.Height))
		o.Move(fyne.NewPos((size.Width-w)/2, 0))
	}
}

func (l *maxWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objs {
		m = m.Max(o.MinSize())
	}
	return m
}

// narrow wraps a screen body in maxWidth.
func narrow(o fyne.CanvasObject) fyne.CanvasObject { return container.New(&maxWidth{w: 760}, o) }

// displayText swaps characters the bundled Noto Sans lacks for ones it has:
// Fyne draws U+2192 from its symbol font and garbles the space after it.
func displayText(s string) string { return strings.ReplaceAll(s, "\u2192", "\u203a") }

// fixedWidth lays out one object at a fixed width (and its own height).
type fixedWidth struct{ w float32 }

func (l *fixedWidth) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (l *fixedWidth) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		if m := o.MinSize(); m.Height > h {
			h = m.Height
		}
	}
	return fyne.NewSize(l.w, h)
}
