package main

import (
	"context"
	"errors"
)

// bench runs the load generator.
func (m *Main) bench(ctx context.Context, args []string) error {
	return errors.New("bench: not built yet")
}
