package atomicfile

import (
	"errors"
	"os"
	"sync"
)

// ErrStopped is returned by Create and Commit once [RemoveTemps] has run:
// the process is being stopped and must publish nothing more.
var ErrStopped = errors.New("atomicfile: stopped by a signal")

// temps is the set of temp files of outputs not yet committed or aborted,
// so that a process stopped by a signal, whose goroutines may be blocked
// in a system call and never run their deferred Abort, can remove them
// before it exits. It is process-wide on purpose: signals are.
var temps = &tempSet{names: map[string]bool{}}

type tempSet struct {
	mu      sync.Mutex
	names   map[string]bool
	stopped bool
}

// track records a new temp file; it fails once RemoveTemps has run.
func (s *tempSet) track(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrStopped
	}
	s.names[name] = true
	return nil
}

// untrack forgets a temp file that was renamed or removed.
func (s *tempSet) untrack(name string) {
	s.mu.Lock()
	delete(s.names, name)
	s.mu.Unlock()
}

// publish renames a tracked temp file over its target, unless RemoveTemps
// has run: holding the lock, a rename and a removal never interleave.
func (s *tempSet) publish(name, target string, rename func(oldpath, newpath string) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return ErrStopped
	}
	if err := rename(name, target); err != nil {
		return err
	}
	delete(s.names, name)
	return nil
}

// removeAll removes every tracked temp file and refuses new ones.
func (s *tempSet) removeAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	n := 0
	for name := range s.names {
		if os.Remove(name) == nil {
			n++
		}
		delete(s.names, name)
	}
	return n
}

// RemoveTemps removes the temp file of every output of this process that
// is neither committed nor aborted, and makes every later Create and
// Commit fail with [ErrStopped]. A command stopped by SIGINT or SIGTERM
// calls it before exiting, whatever its goroutines are blocked in. It
// returns how many files it removed.
func RemoveTemps() int { return temps.removeAll() }
