// Package secrets keeps passwords and refresh tokens. The only persistent
// store is the OS keyring (Windows Credential Manager, macOS Keychain, the
// Secret Service on Linux); nothing secret is ever written to a file.
package secrets

import (
	"context"
	"errors"
	"sync"

	"infino.legal/mailbox/mailcfg"
)

// Service is the keyring service name of every entry the app writes: the
// app id. Saved secrets stay reachable only while it keeps its value, so a
// test pins it.
const Service = mailcfg.AppID

// ErrNotFound means no secret is stored under the key.
var ErrNotFound = errors.New("secret not found")

// Store keeps secrets by key. Every call takes a context because a locked
// keyring can block; implementations must return when it ends.
type Store interface {
	Get(ctx context.Context, key string) (string, error)
	Set(ctx context.Context, key, value string) error
	Delete(ctx context.Context, key string) error
}

// Memory is an in-process Store for tests and the demo mode.
type Memory struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{m: map[string]string{}} }

func (s *Memory) Get(ctx context.Context, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return "", ErrNotFound
	}
	return v, nil
}

func (s *Memory) Set(ctx context.Context, key, value string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
	return nil
}

func (s *Memory) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; !ok {
		return ErrNotFound
	}
	delete(s.m, key)
	return nil
}

// Keys lists what the store holds (tests use it to prove what was kept).
func (s *Memory) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.m))
	for k := range s.m {
		out = append(out, k)
	}
	return out
}
