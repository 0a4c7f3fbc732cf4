// Package mailcfg is the core of Infino Mailbox: the settings model that flows
// from discovery through the form and verification to the hand-off, the bundled
// provider table, and the vocabulary of what can go wrong (Kind, Failure) with
// its words in both languages. It imports no mail library and never Fyne; the
// classifier that reads the mail libraries' errors lives in mailcfg/verify,
// and the window and the command line are faces over the core.
package mailcfg
