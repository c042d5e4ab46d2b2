package compat

import (
	"testing"

	"github.com/warren-zk/warren/internal/proto"
)

type scenario struct {
	name string
	fn   func(h *H)
}

// allScenarios lists every scenario, in the order they run on the shared pair of servers.
// "initial-tree" must stay first: it looks at the fresh tree.
func allScenarios() []scenario {
	var all []scenario
	for _, g := range [][]scenario{
		handshakeScenarios(),
		createScenarios(),
		deleteScenarios(),
		setScenarios(),
		readScenarios(),
		multiScenarios(),
		watchScenarios(),
		sessionScenarios(),
	} {
		all = append(all, g...)
	}
	return all
}

func TestScenarios(t *testing.T) {
	t.Parallel()
	p := startPair(t, true)
	ran := 0
	all := allScenarios()
	for _, sc := range all {
		if t.Run(sc.name, func(t *testing.T) {
			ran++
			sc.fn(newH(t, p))
		}) {
			continue
		}
	}
	t.Logf("%d scenarios", len(all))
	if ran == len(all) {
		checkKnownDifferencesExercised(t)
	}
}

// TestScenariosExtendedTypesOff runs the scenarios that need extendedTypesEnabled=false (the
// default) on a second pair of servers.
func TestScenariosExtendedTypesOff(t *testing.T) {
	t.Parallel()
	p := startPair(t, false)
	t.Run("create/ttl-disabled", func(t *testing.T) {
		h := newH(t, p)
		h.connect("a")
		createTTL(h, "a", "/t", nil, proto.ModePersistentWithTTL, 100)
		createTTL(h, "a", "/t", nil, proto.ModePersistentSequentialWithTTL, 100)
		createTTL(h, "a", "/t", nil, proto.ModePersistentWithTTL, 0) // Unimplemented before the TTL check
		createTTL(h, "a", "noslash", nil, proto.ModePersistentWithTTL, 100)
		createTTL(h, "a", "/t", nil, 9, 100)
		createTTL(h, "a", "/t", nil, proto.ModePersistent, 100)
		h.create("a", "/t", nil, proto.ModePersistentWithTTL)
		h.create2("a", "/t", nil, proto.ModePersistentSequentialWithTTL)
		createContainer(h, "a", "/t", nil, proto.ModePersistentWithTTL)
		h.multi("a", opCreateTTL("/t", nil, proto.ModePersistentWithTTL, 100))
		h.multi("a", opCreateTTL("/t", nil, proto.ModePersistent, 100))
		createContainer(h, "a", "/c", nil, proto.ModeContainer)
		h.exists("a", "/t", false)
	})
}
