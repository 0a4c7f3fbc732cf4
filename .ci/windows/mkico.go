//go:build ignore

// mkico turns the app's PNG icon into a Windows .ico (PNG-compressed
// entries of 16, 24, 32, 48, 64 and 256 pixels) for the exe's resource and
// the installer. Run from the repository root:
//
//	go run .ci/windows/mkico.go assets/icon.png build/icon.ico
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"os"

	"golang.org/x/image/draw"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go run .ci/windows/mkico.go IN.png OUT.ico")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	check(err)
	src, err := png.Decode(f)
	check(err)
	f.Close()

	sizes := []int{16, 24, 32, 48, 64, 256}
	var images [][]byte
	for _, s := range sizes {
		dst := image.NewNRGBA(image.Rect(0, 0, s, s))
		draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Over, nil)
		var b bytes.Buffer
		check(png.Encode(&b, dst))
		images = append(images, b.Bytes())
	}
	var out bytes.Buffer
	le := func(v any) { check(binary.Write(&out, binary.LittleEndian, v)) }
	le(uint16(0))          // reserved
	le(uint16(1))          // type: icon
	le(uint16(len(sizes))) // count
	offset := 6 + 16*len(sizes)
	for i, s := range sizes {
		dim := uint8(s)
		if s >= 256 {
			dim = 0 // 0 means 256
		}
		le(dim)
		le(dim)
		le(uint8(0))  // palette
		le(uint8(0))  // reserved
		le(uint16(1)) // planes
		le(uint16(32))
		le(uint32(len(images[i])))
		le(uint32(offset))
		offset += len(images[i])
	}
	for _, img := range images {
		out.Write(img)
	}
	check(os.WriteFile(os.Args[2], out.Bytes(), 0o644))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkico:", err)
		os.Exit(1)
	}
}
