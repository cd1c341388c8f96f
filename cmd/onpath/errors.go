package main

import (
	"errors"

	"onpath/control"
)

// cliError turns a refused request (a bad query, an unknown id) into a
// usage error, exit code 2; other failures stay runtime failures.
func cliError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, control.ErrBadRequest) || errors.Is(err, control.ErrNotFound) {
		msg := err.Error()
		return &usageError{msg}
	}
	return err
}
