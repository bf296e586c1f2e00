package jar

import (
	"slices"
	"unicode/utf16"
)

// HashMapOrder returns keys in the order a java.util.HashMap<String, ?>
// filled with them in the given order iterates them. jarsigner keeps the
// manifest's entries in a HashMap, so this is the section order of the
// MANIFEST.MF and .SF files it writes. Duplicate keys keep their first
// position.
//
// The emulation covers HashMap's resizing (load factor 0.75, and the early
// resize of a table smaller than 64 when one bucket reaches 9 entries) but
// not tree bins, which reorder a bucket of 9 or more entries in a table of
// 64 or more; with String hashes that needs thousands of colliding names.
func HashMapOrder(keys []string) []string {
	type node struct {
		key    string
		hash   uint32
		bucket int
	}
	seen := make(map[string]bool, len(keys))
	nodes := make([]node, 0, len(keys))
	capacity, threshold := 16, 12
	counts := make([]int, capacity)
	resize := func() {
		capacity *= 2
		threshold = capacity * 3 / 4
		counts = make([]int, capacity)
		for _, n := range nodes {
			counts[int(n.hash)&(capacity-1)]++
		}
	}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		h := javaStringHash(k)
		h ^= h >> 16
		nodes = append(nodes, node{key: k, hash: h})
		b := int(h) & (capacity - 1)
		counts[b]++
		if counts[b] >= 9 && capacity < 64 {
			resize() // treeifyBin on a small table resizes instead
		}
		if len(nodes) > threshold {
			resize()
		}
	}
	for i := range nodes {
		nodes[i].bucket = int(nodes[i].hash) & (capacity - 1)
	}
	// Resizing splits each bucket keeping relative order, so iteration
	// order is insertion order, stably grouped by final bucket.
	slices.SortStableFunc(nodes, func(a, b node) int { return a.bucket - b.bucket })
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.key
	}
	return out
}

// javaStringHash is java.lang.String.hashCode: s[0]*31^(n-1) + ... over
// UTF-16 code units, with 32-bit wraparound.
func javaStringHash(s string) uint32 {
	var h uint32
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			h = 31*h + uint32(r1)
			h = 31*h + uint32(r2)
			continue
		}
		h = 31*h + uint32(r)
	}
	return h
}
