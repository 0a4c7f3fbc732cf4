package infino

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"syscall"

	"infino.legal/mailbox/mailcfg"
)

// writeData writes data to a file being created; tests replace it to
// simulate a full disk part-way through a write.
var writeData = func(f *os.File, data []byte) (int, error) { return f.Write(data) }

// isNoSpace reports whether err means the disk (or the user's quota) is
// full.
func isNoSpace(err error) bool {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return true
	}
	var en syscall.Errno
	// ERROR_HANDLE_DISK_FULL (39) and ERROR_DISK_FULL (112) on Windows.
	return runtime.GOOS == "windows" && errors.As(err, &en) && (en == 39 || en == 112)
}

// isReadOnly reports whether err means the folder may not be written.
func isReadOnly(err error) bool {
	return errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission)
}

// localError is a failure to write the app's own files: KindLocalStorage,
// with a message that names the cause when it is known.
func localError(err error) *Error {
	msg := messages[KindLocalStorage]
	switch {
	case isNoSpace(err):
		msg = noSpaceMessage
	case isReadOnly(err):
		msg = readOnlyMessage
	}
	return &Error{Kind: KindLocalStorage, Err: fmt.Errorf("outbox: %w", err), Message: msg}
}

var noSpaceMessage = mailcfg.Text{
	PL: "Niczego nie wysłano: na dysku tego komputera nie ma dość miejsca, by zachować ustawienia na później. Zwolnij trochę miejsca i wyślij je ponownie.",
	EN: "Nothing was sent: there is not enough disk space on this computer to keep the settings for later. Free some space and send them again.",
}

var readOnlyMessage = mailcfg.Text{
	PL: "Niczego nie wysłano: folder aplikacji jest tylko do odczytu, więc nie można zachować ustawień na później. Poproś dział IT o prawo zapisu w folderze konfiguracji i wyślij je ponownie.",
	EN: "Nothing was sent: the app's folder is read-only, so the settings cannot be kept for later. Ask your IT department for write access to the configuration folder and send them again.",
}
