package link

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// writeBufferSize is the coalescing buffer: small packets queued together
// leave in one write (one TLS record, one QUIC stream frame run); segments
// larger than the free space bypass the copy.
const writeBufferSize = 64 << 10

// ErrWriterClosed is returned for packets enqueued after Close or Abort.
var ErrWriterClosed = errors.New("link: writer closed")

// ErrWriteStalled reports a peer that stopped reading: one flush did not
// complete within the stall timeout (a slow consumer).
var ErrWriteStalled = errors.New("link: peer stopped reading (write stalled)")

// Outbound is one packet to write, as segments written in order. Segments
// may alias caller memory (e.g. a model's output buffer); they must stay
// valid and unmodified until Done is called.
type Outbound struct {
	Segs [][]byte
	// Done, if set, is called exactly once from the writer goroutine: with
	// nil after the bytes were handed to the carrier, or with the error that
	// stopped the writer. It must not block.
	Done func(error)
}

func (o *Outbound) size() int64 {
	var n int64
	for _, s := range o.Segs {
		n += int64(len(s))
	}
	return n
}

// DeadlineWriter is the part of a carrier connection the Writer uses.
type DeadlineWriter interface {
	io.Writer
	SetWriteDeadline(t time.Time) error
}

// Writer is a batching packet writer running in its own goroutine. Enqueue
// never blocks; callers that produce unbounded traffic bound it with
// WaitBelow (the backlog is in bytes).
type Writer struct {
	w     DeadlineWriter
	bw    *bufio.Writer
	stall time.Duration

	mu       sync.Mutex
	queue    []Outbound
	spare    []Outbound
	backlog  int64
	progress chan struct{} // closed and replaced after a written batch when waiters > 0
	waiters  int           // WaitBelow calls blocked on progress
	err      error         // set once: the writer stopped
	closing  bool

	wake    chan struct{} // capacity 1
	stopped chan struct{} // closed when the goroutine exits
}

// NewWriter starts a writer on w. stall bounds each flush (0: no bound).
func NewWriter(w DeadlineWriter, stall time.Duration) *Writer {
	lw := &Writer{
		w: w, bw: bufio.NewWriterSize(w, writeBufferSize), stall: stall,
		progress: make(chan struct{}), wake: make(chan struct{}, 1), stopped: make(chan struct{}),
	}
	go lw.run()
	return lw
}

// Enqueue queues o. It fails only when the writer has stopped; then o.Done
// is not called.
func (w *Writer) Enqueue(o Outbound) error {
	n := o.size()
	w.mu.Lock()
	if w.err != nil || w.closing {
		err := w.err
		w.mu.Unlock()
		if err == nil {
			err = ErrWriterClosed
		}
		return err
	}
	w.queue = append(w.queue, o)
	w.backlog += n
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return nil
}

// Backlog returns the bytes queued and not yet written.
func (w *Writer) Backlog() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.backlog
}

// WaitBelow blocks until the backlog is at most limit, the writer stops
// (its error is returned) or ctx ends.
func (w *Writer) WaitBelow(ctx context.Context, limit int64) error {
	for {
		w.mu.Lock()
		if w.err != nil {
			err := w.err
			w.mu.Unlock()
			return err
		}
		if w.backlog <= limit {
			w.mu.Unlock()
			return nil
		}
		ch := w.progress
		w.waiters++
		w.mu.Unlock()
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = context.Cause(ctx)
		}
		w.mu.Lock()
		w.waiters--
		w.mu.Unlock()
		if err != nil {
			return err
		}
	}
}

// Close writes everything queued, then stops. It waits for the goroutine.
func (w *Writer) Close() error {
	w.mu.Lock()
	w.closing = true
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	<-w.stopped
	w.mu.Lock()
	defer w.mu.Unlock()
	if errors.Is(w.err, ErrWriterClosed) {
		return nil
	}
	return w.err
}

// Abort stops the writer without writing what is queued; queued packets'
// Done get err. The caller closes the carrier to unblock a write in
// progress. It waits for the goroutine.
func (w *Writer) Abort(err error) {
	w.fail(err)
	<-w.stopped
}

// Stopped is closed when the writer goroutine has exited; Err then tells why.
func (w *Writer) Stopped() <-chan struct{} { return w.stopped }

// Err returns the error that stopped the writer (ErrWriterClosed after a
// clean Close), or nil while it runs.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// fail records the first error and fails everything queued.
func (w *Writer) fail(err error) {
	w.mu.Lock()
	if w.err != nil {
		w.mu.Unlock()
		return
	}
	w.err = err
	q := w.queue
	w.queue = nil
	w.backlog = 0
	close(w.progress)
	w.progress = make(chan struct{})
	w.mu.Unlock()
	for i := range q {
		if q[i].Done != nil {
			q[i].Done(err)
		}
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *Writer) run() {
	defer close(w.stopped)
	for range w.wake {
		for {
			w.mu.Lock()
			if w.err != nil {
				w.mu.Unlock()
				return
			}
			batch := w.queue
			w.queue, w.spare = w.spare[:0], nil
			closing := w.closing
			w.mu.Unlock()
			if len(batch) == 0 {
				if closing {
					w.fail(ErrWriterClosed)
					return
				}
				break
			}
			err := w.writeBatch(batch)
			var n int64
			for i := range batch {
				n += batch[i].size()
				if batch[i].Done != nil {
					batch[i].Done(err)
				}
				batch[i] = Outbound{}
			}
			if err != nil {
				w.fail(err)
				return
			}
			w.mu.Lock()
			w.backlog -= n
			w.spare = batch[:0]
			if w.waiters > 0 {
				close(w.progress)
				w.progress = make(chan struct{})
			}
			w.mu.Unlock()
		}
	}
}

func (w *Writer) writeBatch(batch []Outbound) error {
	if w.stall > 0 {
		_ = w.w.SetWriteDeadline(time.Now().Add(w.stall))
	}
	for i := range batch {
		for _, s := range batch[i].Segs {
			if _, err := w.bw.Write(s); err != nil {
				return w.writeErr(err)
			}
		}
	}
	if err := w.bw.Flush(); err != nil {
		return w.writeErr(err)
	}
	return nil
}

func (w *Writer) writeErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return fmt.Errorf("%w: no progress for %v", ErrWriteStalled, w.stall)
	}
	return err
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}
