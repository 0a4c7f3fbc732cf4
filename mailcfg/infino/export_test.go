package infino

import "os"

// SetWriteData replaces how file contents are written (a full disk part-way
// through a write) until restore is called.
func SetWriteData(f func(f *os.File, data []byte) (int, error)) (restore func()) {
	old := writeData
	writeData = f
	return func() { writeData = old }
}
