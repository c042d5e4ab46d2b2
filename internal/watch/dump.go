package watch

// DataWatch is one entry of the data table: a path and a watcher on it.
type DataWatch struct {
	Path    string
	Watcher Watcher
}

// DataWatches returns up to limit entries of the data table (the table
// ZooKeeper's wchc and wchp list), in no particular order, and stops
// adding entries once their paths add up to maxBytes or more (maxBytes <= 0:
// no byte limit). truncated reports that entries were left out. The manager's
// lock is held only while at most limit entries are visited, so the cost is
// bounded however large the table is.
func (m *Manager) DataWatches(limit, maxBytes int) (out []DataWatch, truncated bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	bytes := 0
	for p, ws := range m.data {
		for w := range ws {
			if len(out) >= limit || (maxBytes > 0 && bytes >= maxBytes) {
				return out, true
			}
			out = append(out, DataWatch{Path: p, Watcher: w})
			bytes += len(p)
		}
	}
	return out, false
}
