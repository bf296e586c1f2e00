package drivetest

import (
	"io"
	"sync"
)

// copyParallel copies up to limit bytes (all when limit < 0) from src to
// every writer in ws: while one block is being read, the previous one is
// written to the file and fed to each hash on its own goroutine, so a
// 1 GiB upload costs the slowest of them, not their sum. It returns the
// bytes written to all of ws; a write error wins over a read error.
//
// Its buffers come from pool (holding *[]byte of 1 MiB), so that a 1 GiB
// upload in 16 MiB chunks leaves no garbage behind.
func copyParallel(pool *sync.Pool, ws []io.Writer, src io.Reader, limit int64) (int64, error) {
	free := make(chan []byte, 2)
	b1, b2 := pool.Get().(*[]byte), pool.Get().(*[]byte)
	defer pool.Put(b1)
	defer pool.Put(b2)
	free <- *b1
	free <- *b2
	full := make(chan []byte, 1)
	var written int64
	var werr error
	var done sync.WaitGroup
	done.Add(1)
	go func() {
		defer done.Done()
		errs := make([]error, len(ws))
		for b := range full {
			if werr == nil {
				var wg sync.WaitGroup
				for i, w := range ws[1:] {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, errs[i+1] = w.Write(b)
					}()
				}
				_, errs[0] = ws[0].Write(b)
				wg.Wait()
				for _, err := range errs {
					if err != nil && werr == nil {
						werr = err
					}
				}
				if werr == nil {
					written += int64(len(b))
				}
			}
			free <- b[:cap(b)]
		}
	}()
	var rerr error
	var read int64
	for limit < 0 || read < limit {
		b := <-free
		if limit >= 0 {
			b = b[:min(int64(len(b)), limit-read)]
		}
		n, err := io.ReadFull(src, b)
		read += int64(n)
		if n > 0 {
			full <- b[:n]
		} else {
			free <- b
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if limit >= 0 && read < limit {
				rerr = io.ErrUnexpectedEOF
			}
			break
		}
		if err != nil {
			rerr = err
			break
		}
	}
	close(full)
	done.Wait()
	if werr != nil {
		return written, werr
	}
	return written, rerr
}
