package server

// Hooks for the package's external tests (package server_test).

// SetWatchDumpLimits changes the wchc/wchp limits until the returned
// function restores the defaults.
func SetWatchDumpLimits(entries, bytes int) (restore func()) {
	watchDumpLimits.entries.Store(int64(entries))
	watchDumpLimits.bytes.Store(int64(bytes))
	return func() {
		watchDumpLimits.entries.Store(0)
		watchDumpLimits.bytes.Store(0)
	}
}

// WatchDumpLimits returns the wchc/wchp limits in force.
func WatchDumpLimits() (entries, bytes int) { return watchDumpLimit() }

var (
	JavaDouble = javaDouble
	Round4     = round4
)

// SetServingForTest makes Serving report false (not ready) or true again.
func (s *Server) SetServingForTest(serving bool) { s.ready.Store(serving) }
