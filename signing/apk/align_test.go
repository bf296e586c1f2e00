package apk

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// TestAlignFileSize checks the padding of the zip comment: to the next
// 4096-byte boundary of the central directory and end record, after the
// comment the record has, up to the 65,535 bytes a comment holds.
func TestAlignFileSize(t *testing.T) {
	eocd := func(comment int) []byte {
		b := make([]byte, 22+comment)
		binary.LittleEndian.PutUint32(b, 0x06054b50)
		binary.LittleEndian.PutUint16(b[20:], uint16(comment))
		for i := range comment {
			b[22+i] = 'c'
		}
		return b
	}
	tests := []struct {
		name    string
		comment int
		cdSize  int
		pad     int // -1: refused
	}{
		{"no-comment", 0, 100, 4096 - 122},
		{"aligned", 0, 4096 - 22, 0},
		{"aligned-with-comment", 10, 2*4096 - 32, 0},
		{"comment-kept", 3, 4096, 4096 - 25},
		{"one-byte", 0, 4096 - 23, 1},
		{"fills-the-comment", 0xffff - 1, 4096 - (22+0xffff-1)%4096 - 1, 1},
		{"one-too-many", 0xffff, 4096 - (22+0xffff)%4096 - 1, -1},
		{"longest-aligned", 0xffff, 4096 - (22+0xffff)%4096, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := eocd(tc.comment)
			out, err := alignFileSize(bytes.Clone(in), tc.cdSize)
			if tc.pad < 0 {
				if err == nil {
					t.Fatalf("aligned to %d bytes, want refused", len(out))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != len(in)+tc.pad || (tc.cdSize+len(out))%4096 != 0 {
				t.Fatalf("%d bytes, want %d (and a multiple of 4096 with the directory)", len(out), len(in)+tc.pad)
			}
			if !bytes.Equal(out[:20], in[:20]) || !bytes.Equal(out[22:len(in)], in[22:]) {
				t.Errorf("record or comment changed")
			}
			if n := int(binary.LittleEndian.Uint16(out[20:])); n != len(out)-22 {
				t.Errorf("comment length %d, record holds %d", n, len(out)-22)
			}
			if !bytes.Equal(out[len(in):], make([]byte, tc.pad)) {
				t.Errorf("padding is not zeros")
			}
		})
	}
}
