package app

import (
	"github.com/sirupsen/logrus"

	"github.com/kamreg/kamreg"
)

// ErrorEntry is a log entry with err and, when err has one, the cause
// beneath the message a caller sees (kamreg.ErrorCause).
func ErrorEntry(log *logrus.Logger, err error) *logrus.Entry {
	entry := log.WithError(err)
	if cause := kamreg.ErrorCause(err); cause != "" {
		entry = entry.WithField("cause", cause)
	}
	return entry
}
