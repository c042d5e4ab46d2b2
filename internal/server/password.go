package server

// superSecret is ZooKeeper's constant mixed into session passwords.
const superSecret = 0xB3415C00

// sessionPassword returns the 16-byte password ZooKeeper generates for a
// session id: java.util.Random(id ^ superSecret).nextBytes(16). Any
// deterministic function would do; matching ZooKeeper keeps the bytes
// identical to a real server's.
func sessionPassword(id int64) []byte {
	const (
		mult = 0x5DEECE66D
		mask = (1 << 48) - 1
	)
	seed := (uint64(id^superSecret) ^ mult) & mask
	out := make([]byte, 16)
	for i := 0; i < 16; {
		seed = (seed*mult + 0xB) & mask
		rnd := int32(seed >> 16)
		for n := 0; n < 4 && i < 16; n++ {
			out[i] = byte(rnd)
			rnd >>= 8
			i++
		}
	}
	return out
}
