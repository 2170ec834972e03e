package link

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"go.uber.org/goleak"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/internal/bufpool"
	"github.com/nnrp-gpu/nnrp-gpu/nnrp/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func packet(t testing.TB, typ wire.MessageType, session uint32, body []byte) []byte {
	t.Helper()
	b, err := wire.AppendPacket(nil, wire.Header{Type: typ, SessionID: session}, nil, body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReaderFraming(t *testing.T) {
	var stream []byte
	var want [][]byte
	for i := 0; i < 50; i++ {
		body := bytes.Repeat([]byte{byte(i)}, i*997) // CLOSE carries a free-form body
		p := packet(t, wire.TypeClose, 0, body)
		want = append(want, p)
		stream = append(stream, p...)
		stream = append(stream, packet(t, wire.TypePing, uint32(i+1), nil)...)
		want = append(want, packet(t, wire.TypePing, uint32(i+1), nil))
	}
	var pool bufpool.Pool
	// One byte per Read: every packet is split across reads.
	r := NewReader(iotest.OneByteReader(bytes.NewReader(stream)), &pool, 0)
	for i, w := range want {
		p, err := r.Next()
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if !bytes.Equal(p.Buf.B, w) {
			t.Fatalf("packet %d differs", i)
		}
		p.Buf.Release()
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("end: %v, want io.EOF", err)
	}
	if n, _ := pool.Outstanding(); n != 0 {
		t.Fatalf("%d buffers not returned", n)
	}
}

func TestReaderErrors(t *testing.T) {
	var pool bufpool.Pool
	good := packet(t, wire.TypeClose, 0, []byte("bye"))

	bad := append([]byte(nil), good...)
	bad[0] = 'X'
	_, err := NewReader(bytes.NewReader(bad), &pool, 0).Next()
	if c, _ := wire.CodeOf(err); c != wire.CodeMalformedHeader {
		t.Fatalf("bad magic: %v", err)
	}

	big := packet(t, wire.TypeClose, 0, make([]byte, 1000))
	_, err = NewReader(bytes.NewReader(big), &pool, 500).Next()
	if c, _ := wire.CodeOf(err); c != wire.CodeLimitExceeded {
		t.Fatalf("oversize: %v", err)
	}

	for cut := 1; cut < len(good); cut++ {
		_, err := NewReader(bytes.NewReader(good[:cut]), &pool, 0).Next()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d: %v", cut, err)
		}
	}
	if n, _ := pool.Outstanding(); n != 0 {
		t.Fatalf("%d buffers leaked on error paths", n)
	}
}

func TestWriterOrderAndDone(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	w := NewWriter(a, 0)
	var got bytes.Buffer
	readDone := make(chan struct{})
	go func() {
		_, _ = io.Copy(&got, b)
		close(readDone)
	}()
	var want bytes.Buffer
	var mu sync.Mutex
	done := 0
	for i := 0; i < 200; i++ {
		segs := [][]byte{{byte(i)}, bytes.Repeat([]byte{byte(i)}, i*300), {0xFF}}
		for _, s := range segs {
			want.Write(s)
		}
		if err := w.Enqueue(Outbound{Segs: segs, Done: func(err error) {
			if err != nil {
				t.Errorf("done: %v", err)
			}
			mu.Lock()
			done++
			mu.Unlock()
		}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_ = a.Close()
	<-readDone
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatal("bytes differ or out of order")
	}
	if done != 200 {
		t.Fatalf("%d Done calls, want 200", done)
	}
	if err := w.Enqueue(Outbound{}); !errors.Is(err, ErrWriterClosed) {
		t.Fatalf("enqueue after close: %v", err)
	}
}

func TestWriterStallAndBacklog(t *testing.T) {
	a, b := net.Pipe() // nobody reads b: every write blocks
	defer b.Close()
	w := NewWriter(a, 50*time.Millisecond)
	errs := make(chan error, 2)
	payload := make([]byte, 1<<20)
	for i := 0; i < 2; i++ {
		if err := w.Enqueue(Outbound{Segs: [][]byte{payload}, Done: func(err error) { errs <- err }}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	if err := w.WaitBelow(ctx, 1<<20); err == nil {
		t.Fatal("WaitBelow returned while 2 MiB are stuck")
	}
	cancel()
	for i := 0; i < 2; i++ {
		select {
		case err := <-errs:
			if !errors.Is(err, ErrWriteStalled) {
				t.Fatalf("done %d: %v, want ErrWriteStalled", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("stalled write never failed")
		}
	}
	<-w.Stopped()
	if !errors.Is(w.Err(), ErrWriteStalled) {
		t.Fatalf("Err = %v", w.Err())
	}
	if err := w.WaitBelow(context.Background(), 0); !errors.Is(err, ErrWriteStalled) {
		t.Fatalf("WaitBelow after failure: %v", err)
	}
	_ = a.Close()
}

func TestWriterAbort(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	w := NewWriter(a, 0)
	failed := make(chan error, 1)
	_ = w.Enqueue(Outbound{Segs: [][]byte{make([]byte, 1<<16)}, Done: func(err error) { failed <- err }})
	stop := errors.New("connection closed by test")
	go func() {
		time.Sleep(10 * time.Millisecond)
		_ = a.Close() // unblocks the write in progress
	}()
	w.Abort(stop)
	if err := <-failed; err == nil {
		t.Fatal("queued packet reported success")
	}
}
