package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nnrp-gpu/nnrp-gpu/nnrp/client"
)

// TestServeSIGTERM runs `nnrp-gpu serve` (echo, Unix socket) in-process, serves
// a frame, then delivers SIGTERM: serve must drain, close the client's
// connection and return without error (exit status 0).
func TestServeSIGTERM(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "nnrp.sock")
	f, err := parseServeFlags([]string{"--unix", sock, "--metrics", "", "--drain-timeout", "2s"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(f, slog.New(slog.NewTextHandler(io.Discard, nil))) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var c *client.Conn
	for c == nil {
		if c, err = client.Dial(ctx, "unix://"+sock, client.Options{}); err != nil {
			if ctx.Err() != nil {
				t.Fatalf("server never came up: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	defer c.Close()
	s, err := c.OpenSession(ctx, client.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fr, err := client.TensorFrame(client.Image{Channels: 1, Height: 4, Width: 4, Data: make([]float32, 16)}, 4, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(ctx, fr); err != nil {
		t.Fatal(err)
	}
	ev, err := s.Next(ctx)
	if err != nil || ev.Kind != client.EventResult {
		t.Fatalf("echo: %v %v", ev.Kind, err)
	}
	ev.Release()

	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after SIGTERM", err)
		}
	case <-ctx.Done():
		t.Fatal("serve did not stop after SIGTERM")
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("client connection still open after shutdown")
	}
}
