package zipx

import "bytes"

// Deflate compresses data as raw deflate exactly as zlib 1.2.x does with
// deflateInit2(level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) and
// Z_FINISH, which is what java.util.zip.Deflater(level, true) produces.
// Levels 4 to 9 are supported (zlib's "slow" lazy-matching compressor);
// other levels panic. It exists so that files a signer adds (JAR
// signature files) are byte-identical to those of Java tools.
func Deflate(data []byte, level int) []byte {
	if level < 4 || level > 9 {
		panic("zipx: Deflate supports levels 4 to 9")
	}
	z := newZlib(level)
	z.in = data
	z.deflateSlow()
	z.bw.windup()
	return z.bw.out.Bytes()
}

const (
	zWSize       = 1 << 15
	zWMask       = zWSize - 1
	zHashBits    = 15
	zHashSize    = 1 << zHashBits
	zHashMask    = zHashSize - 1
	zHashShift   = (zHashBits + 3 - 1) / 3
	zMinMatch    = 3
	zMaxMatch    = 258
	zMinLook     = zMaxMatch + zMinMatch + 1
	zMaxDist     = zWSize - zMinLook
	zTooFar      = 4096
	zLitBufSize  = 1 << (8 + 6)
	zLCodes      = 286
	zDCodes      = 30
	zBLCodes     = 19
	zHeapSize    = 2*zLCodes + 1
	zMaxBits     = 15
	zMaxBLBits   = 7
	zEndBlock    = 256
	zLiterals    = 256
	zRep3_6      = 16
	zRepz3_10    = 17
	zRepz11_138  = 18
	zLengthCodes = 29
)

var zConfig = [10][4]int{ // good, lazy, nice, chain
	4: {4, 4, 16, 16}, 5: {8, 16, 32, 32}, 6: {8, 16, 128, 128},
	7: {8, 32, 128, 256}, 8: {32, 128, 258, 1024}, 9: {32, 258, 258, 4096},
}

var (
	zExtraLBits = [zLengthCodes]int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	zExtraDBits = [zDCodes]int{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	zExtraBL    = [zBLCodes]int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 7}
	zBLOrder    = [zBLCodes]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

// zTables are zlib's static tables (trees.c tr_static_init).
type zTables struct {
	lengthCode [256]uint8
	baseLength [zLengthCodes]int
	distCode   [512]uint8
	baseDist   [zDCodes]int
	sLtree     [zLCodes + 2]zNode
	sDtree     [zDCodes]zNode
}

type zNode struct{ freq, code, dad, len int }

func newZTables() *zTables {
	t := &zTables{}
	length := 0
	code := 0
	for code = 0; code < zLengthCodes-1; code++ {
		t.baseLength[code] = length
		for n := 0; n < 1<<zExtraLBits[code]; n++ {
			t.lengthCode[length] = uint8(code)
			length++
		}
	}
	t.lengthCode[length-1] = uint8(code)
	dist := 0
	for code = 0; code < 16; code++ {
		t.baseDist[code] = dist
		for n := 0; n < 1<<zExtraDBits[code]; n++ {
			t.distCode[dist] = uint8(code)
			dist++
		}
	}
	dist >>= 7
	for ; code < zDCodes; code++ {
		t.baseDist[code] = dist << 7
		for n := 0; n < 1<<(zExtraDBits[code]-7); n++ {
			t.distCode[256+dist] = uint8(code)
			dist++
		}
	}
	var blCount [zMaxBits + 1]int
	for n := 0; n <= 287; n++ {
		l := 8
		switch {
		case n >= 144 && n <= 255:
			l = 9
		case n >= 256 && n <= 279:
			l = 7
		}
		t.sLtree[n].len = l
		blCount[l]++
	}
	genCodes(t.sLtree[:], zLCodes+1, blCount[:])
	for n := 0; n < zDCodes; n++ {
		t.sDtree[n].len = 5
		t.sDtree[n].code = int(bitReverse(uint(n), 5))
	}
	return t
}

func (t *zTables) dCode(dist int) int {
	if dist < 256 {
		return int(t.distCode[dist])
	}
	return int(t.distCode[256+(dist>>7)])
}

func bitReverse(code uint, n int) uint {
	var r uint
	for ; n > 0; n-- {
		r = r<<1 | code&1
		code >>= 1
	}
	return r
}

func genCodes(tree []zNode, maxCode int, blCount []int) {
	var next [zMaxBits + 1]int
	code := 0
	for bits := 1; bits <= zMaxBits; bits++ {
		code = (code + blCount[bits-1]) << 1
		next[bits] = code
	}
	for n := 0; n <= maxCode; n++ {
		l := tree[n].len
		if l == 0 {
			continue
		}
		tree[n].code = int(bitReverse(uint(next[l]), l))
		next[l]++
	}
}

type zBits struct {
	out  bytes.Buffer
	acc  uint64
	nacc uint
}

func (b *zBits) send(v, n int) {
	b.acc |= uint64(v) << b.nacc
	b.nacc += uint(n)
	for b.nacc >= 8 {
		b.out.WriteByte(byte(b.acc))
		b.acc >>= 8
		b.nacc -= 8
	}
}

func (b *zBits) windup() {
	if b.nacc > 0 {
		b.out.WriteByte(byte(b.acc))
	}
	b.acc, b.nacc = 0, 0
}

type zTreeDesc struct {
	tree      []zNode
	stree     []zNode
	extra     []int
	base      int
	elems     int
	maxLength int
	maxCode   int
}

type zlib struct {
	t                                  *zTables
	in                                 []byte
	window                             []byte
	prev                               []int
	head                               []int
	insH, insert                       int
	strstart, blockStart, lookahead    int
	matchLength, prevLength, prevMatch int
	matchStart                         int
	matchAvailable                     bool
	good, lazy, nice, chain            int

	dynL    [zHeapSize]zNode
	dynD    [2*zDCodes + 1]zNode
	blTree  [2*zBLCodes + 1]zNode
	lDesc   zTreeDesc
	dDesc   zTreeDesc
	blDesc  zTreeDesc
	heap    [zHeapSize]int
	heapLen int
	heapMax int
	depth   [zHeapSize]int
	blCount [zMaxBits + 1]int
	optLen  int
	statLen int
	syms    []int // dist, lc pairs
	bw      zBits
}

func newZlib(level int) *zlib {
	z := &zlib{t: newZTables()}
	z.window = make([]byte, 2*zWSize)
	z.prev = make([]int, zWSize)
	z.head = make([]int, zHashSize)
	c := zConfig[level]
	z.good, z.lazy, z.nice, z.chain = c[0], c[1], c[2], c[3]
	z.matchLength, z.prevLength = zMinMatch-1, zMinMatch-1
	z.lDesc = zTreeDesc{tree: z.dynL[:], stree: z.t.sLtree[:], extra: zExtraLBits[:], base: zLiterals + 1, elems: zLCodes, maxLength: zMaxBits}
	z.dDesc = zTreeDesc{tree: z.dynD[:], stree: z.t.sDtree[:], extra: zExtraDBits[:], base: 0, elems: zDCodes, maxLength: zMaxBits}
	z.blDesc = zTreeDesc{tree: z.blTree[:], extra: zExtraBL[:], base: 0, elems: zBLCodes, maxLength: zMaxBLBits}
	z.initBlock()
	return z
}

func (z *zlib) initBlock() {
	for i := 0; i < zLCodes; i++ {
		z.dynL[i].freq = 0
	}
	for i := 0; i < zDCodes; i++ {
		z.dynD[i].freq = 0
	}
	for i := 0; i < zBLCodes; i++ {
		z.blTree[i].freq = 0
	}
	z.dynL[zEndBlock].freq = 1
	z.optLen, z.statLen = 0, 0
	z.syms = z.syms[:0]
}

func (z *zlib) updateHash(c byte) { z.insH = ((z.insH << zHashShift) ^ int(c)) & zHashMask }

func (z *zlib) insertString(str int) int {
	z.updateHash(z.window[str+zMinMatch-1])
	h := z.head[z.insH]
	z.prev[str&zWMask] = h
	z.head[z.insH] = str
	return h
}

func (z *zlib) fillWindow() {
	for {
		more := len(z.window) - z.lookahead - z.strstart
		if z.strstart >= zWSize+zMaxDist {
			copy(z.window[:zWSize-more], z.window[zWSize:])
			z.matchStart -= zWSize
			z.strstart -= zWSize
			z.blockStart -= zWSize
			if z.insert > z.strstart {
				z.insert = z.strstart
			}
			for i, m := range z.head {
				if m >= zWSize {
					z.head[i] = m - zWSize
				} else {
					z.head[i] = 0
				}
			}
			for i, m := range z.prev {
				if m >= zWSize {
					z.prev[i] = m - zWSize
				} else {
					z.prev[i] = 0
				}
			}
			more += zWSize
		}
		if len(z.in) == 0 {
			break
		}
		n := copy(z.window[z.strstart+z.lookahead:z.strstart+z.lookahead+more], z.in)
		z.in = z.in[n:]
		z.lookahead += n
		if z.lookahead+z.insert >= zMinMatch {
			str := z.strstart - z.insert
			z.insH = int(z.window[str])
			z.updateHash(z.window[str+1])
			for z.insert > 0 {
				z.updateHash(z.window[str+zMinMatch-1])
				z.prev[str&zWMask] = z.head[z.insH]
				z.head[z.insH] = str
				str++
				z.insert--
				if z.lookahead+z.insert < zMinMatch {
					break
				}
			}
		}
		if !(z.lookahead < zMinLook && len(z.in) != 0) {
			break
		}
	}
}

func (z *zlib) longestMatch(cur int) int {
	chain := z.chain
	scan := z.strstart
	bestLen := z.prevLength
	nice := z.nice
	limit := 0
	if z.strstart > zMaxDist {
		limit = z.strstart - zMaxDist
	}
	w := z.window
	scanEnd1, scanEnd := w[scan+bestLen-1], w[scan+bestLen]
	if z.prevLength >= z.good {
		chain >>= 2
	}
	if nice > z.lookahead {
		nice = z.lookahead
	}
	for {
		m := cur
		if w[m+bestLen] == scanEnd && w[m+bestLen-1] == scanEnd1 && w[m] == w[scan] && w[m+1] == w[scan+1] {
			k := 3
			for k < zMaxMatch && w[scan+k] == w[m+k] {
				k++
			}
			if k > bestLen {
				z.matchStart = cur
				bestLen = k
				if k >= nice {
					break
				}
				scanEnd1, scanEnd = w[scan+bestLen-1], w[scan+bestLen]
			}
		}
		cur = z.prev[cur&zWMask]
		if cur <= limit {
			break
		}
		chain--
		if chain == 0 {
			break
		}
	}
	if bestLen <= z.lookahead {
		return bestLen
	}
	return z.lookahead
}

func (z *zlib) tallyLit(c byte) bool {
	z.syms = append(z.syms, 0, int(c))
	z.dynL[c].freq++
	return len(z.syms)/2 == zLitBufSize-1
}

func (z *zlib) tallyDist(dist, lc int) bool {
	z.syms = append(z.syms, dist, lc)
	dist--
	z.dynL[int(z.t.lengthCode[lc])+zLiterals+1].freq++
	z.dynD[z.t.dCode(dist)].freq++
	return len(z.syms)/2 == zLitBufSize-1
}

func (z *zlib) flushBlock(last bool) {
	var buf []byte
	if z.blockStart >= 0 {
		buf = z.window[z.blockStart:z.strstart]
	}
	z.trFlushBlock(buf, z.blockStart >= 0, z.strstart-z.blockStart, last)
	z.blockStart = z.strstart
}

func (z *zlib) deflateSlow() {
	for {
		if z.lookahead < zMinLook {
			z.fillWindow()
			if z.lookahead == 0 {
				break
			}
		}
		hashHead := 0
		if z.lookahead >= zMinMatch {
			hashHead = z.insertString(z.strstart)
		}
		z.prevLength, z.prevMatch = z.matchLength, z.matchStart
		z.matchLength = zMinMatch - 1
		if hashHead != 0 && z.prevLength < z.lazy && z.strstart-hashHead <= zMaxDist {
			z.matchLength = z.longestMatch(hashHead)
			if z.matchLength <= 5 && z.matchLength == zMinMatch && z.strstart-z.matchStart > zTooFar {
				z.matchLength = zMinMatch - 1
			}
		}
		if z.prevLength >= zMinMatch && z.matchLength <= z.prevLength {
			maxInsert := z.strstart + z.lookahead - zMinMatch
			flush := z.tallyDist(z.strstart-1-z.prevMatch, z.prevLength-zMinMatch)
			z.lookahead -= z.prevLength - 1
			z.prevLength -= 2
			for {
				z.strstart++
				if z.strstart <= maxInsert {
					z.insertString(z.strstart)
				}
				z.prevLength--
				if z.prevLength == 0 {
					break
				}
			}
			z.matchAvailable = false
			z.matchLength = zMinMatch - 1
			z.strstart++
			if flush {
				z.flushBlock(false)
			}
		} else if z.matchAvailable {
			if z.tallyLit(z.window[z.strstart-1]) {
				z.flushBlock(false)
			}
			z.strstart++
			z.lookahead--
		} else {
			z.matchAvailable = true
			z.strstart++
			z.lookahead--
		}
	}
	if z.matchAvailable {
		z.tallyLit(z.window[z.strstart-1])
		z.matchAvailable = false
	}
	z.flushBlock(true)
}

func (z *zlib) smaller(tree []zNode, n, m int) bool {
	return tree[n].freq < tree[m].freq || (tree[n].freq == tree[m].freq && z.depth[n] <= z.depth[m])
}

func (z *zlib) pqDownHeap(tree []zNode, k int) {
	v := z.heap[k]
	j := k << 1
	for j <= z.heapLen {
		if j < z.heapLen && z.smaller(tree, z.heap[j+1], z.heap[j]) {
			j++
		}
		if z.smaller(tree, v, z.heap[j]) {
			break
		}
		z.heap[k] = z.heap[j]
		k = j
		j <<= 1
	}
	z.heap[k] = v
}

func (z *zlib) buildTree(d *zTreeDesc) {
	tree, stree := d.tree, d.stree
	maxCode := -1
	z.heapLen, z.heapMax = 0, zHeapSize
	for n := 0; n < d.elems; n++ {
		if tree[n].freq != 0 {
			z.heapLen++
			z.heap[z.heapLen] = n
			maxCode = n
			z.depth[n] = 0
		} else {
			tree[n].len = 0
		}
	}
	for z.heapLen < 2 {
		node := 0
		if maxCode < 2 {
			maxCode++
			node = maxCode
		}
		z.heapLen++
		z.heap[z.heapLen] = node
		tree[node].freq = 1
		z.depth[node] = 0
		z.optLen--
		if stree != nil {
			z.statLen -= stree[node].len
		}
	}
	d.maxCode = maxCode
	for n := z.heapLen / 2; n >= 1; n-- {
		z.pqDownHeap(tree, n)
	}
	node := d.elems
	for {
		n := z.heap[1]
		z.heap[1] = z.heap[z.heapLen]
		z.heapLen--
		z.pqDownHeap(tree, 1)
		m := z.heap[1]
		z.heapMax--
		z.heap[z.heapMax] = n
		z.heapMax--
		z.heap[z.heapMax] = m
		tree[node].freq = tree[n].freq + tree[m].freq
		dn, dm := z.depth[n], z.depth[m]
		if dm > dn {
			dn = dm
		}
		z.depth[node] = dn + 1
		tree[n].dad, tree[m].dad = node, node
		z.heap[1] = node
		node++
		z.pqDownHeap(tree, 1)
		if z.heapLen < 2 {
			break
		}
	}
	z.heapMax--
	z.heap[z.heapMax] = z.heap[1]
	z.genBitLen(d)
	genCodes(tree, maxCode, z.blCount[:])
}

func (z *zlib) genBitLen(d *zTreeDesc) {
	tree, stree, extra, base, maxLength, maxCode := d.tree, d.stree, d.extra, d.base, d.maxLength, d.maxCode
	for i := range z.blCount {
		z.blCount[i] = 0
	}
	tree[z.heap[z.heapMax]].len = 0
	overflow := 0
	h := z.heapMax + 1
	for ; h < zHeapSize; h++ {
		n := z.heap[h]
		bits := tree[tree[n].dad].len + 1
		if bits > maxLength {
			bits = maxLength
			overflow++
		}
		tree[n].len = bits
		if n > maxCode {
			continue
		}
		z.blCount[bits]++
		xbits := 0
		if n >= base {
			xbits = extra[n-base]
		}
		f := tree[n].freq
		z.optLen += f * (bits + xbits)
		if stree != nil {
			z.statLen += f * (stree[n].len + xbits)
		}
	}
	if overflow == 0 {
		return
	}
	for overflow > 0 {
		bits := maxLength - 1
		for z.blCount[bits] == 0 {
			bits--
		}
		z.blCount[bits]--
		z.blCount[bits+1] += 2
		z.blCount[maxLength]--
		overflow -= 2
	}
	h = zHeapSize
	for bits := maxLength; bits != 0; bits-- {
		n := z.blCount[bits]
		for n != 0 {
			h--
			m := z.heap[h]
			if m > maxCode {
				continue
			}
			if tree[m].len != bits {
				z.optLen += (bits - tree[m].len) * tree[m].freq
				tree[m].len = bits
			}
			n--
		}
	}
}

// treeRuns walks a tree's code lengths as zlib's scan_tree and send_tree
// do, calling emit for each run of count lengths equal to curlen.
func treeRuns(tree []zNode, maxCode int, emit func(curlen, count, prevlen, minCount int)) {
	prevlen, nextlen := -1, tree[0].len
	count, maxCount, minCount := 0, 7, 4
	if nextlen == 0 {
		maxCount, minCount = 138, 3
	}
	tree[maxCode+1].len = 0xffff // guard
	for n := 0; n <= maxCode; n++ {
		curlen := nextlen
		nextlen = tree[n+1].len
		count++
		if count < maxCount && curlen == nextlen {
			continue
		}
		emit(curlen, count, prevlen, minCount)
		count = 0
		prevlen = curlen
		switch {
		case nextlen == 0:
			maxCount, minCount = 138, 3
		case curlen == nextlen:
			maxCount, minCount = 6, 3
		default:
			maxCount, minCount = 7, 4
		}
	}
}

func (z *zlib) scanTree(tree []zNode, maxCode int) {
	treeRuns(tree, maxCode, func(curlen, count, prevlen, minCount int) {
		switch {
		case count < minCount:
			z.blTree[curlen].freq += count
		case curlen != 0:
			if curlen != prevlen {
				z.blTree[curlen].freq++
			}
			z.blTree[zRep3_6].freq++
		case count <= 10:
			z.blTree[zRepz3_10].freq++
		default:
			z.blTree[zRepz11_138].freq++
		}
	})
}

func (z *zlib) sendCode(c int, tree []zNode) { z.bw.send(tree[c].code, tree[c].len) }

func (z *zlib) sendTree(tree []zNode, maxCode int) {
	treeRuns(tree, maxCode, func(curlen, count, prevlen, minCount int) {
		switch {
		case count < minCount:
			for ; count > 0; count-- {
				z.sendCode(curlen, z.blTree[:])
			}
		case curlen != 0:
			if curlen != prevlen {
				z.sendCode(curlen, z.blTree[:])
				count--
			}
			z.sendCode(zRep3_6, z.blTree[:])
			z.bw.send(count-3, 2)
		case count <= 10:
			z.sendCode(zRepz3_10, z.blTree[:])
			z.bw.send(count-3, 3)
		default:
			z.sendCode(zRepz11_138, z.blTree[:])
			z.bw.send(count-11, 7)
		}
	})
}

func (z *zlib) buildBLTree() int {
	z.scanTree(z.dynL[:], z.lDesc.maxCode)
	z.scanTree(z.dynD[:], z.dDesc.maxCode)
	z.buildTree(&z.blDesc)
	maxBLIndex := zBLCodes - 1
	for ; maxBLIndex >= 3; maxBLIndex-- {
		if z.blTree[zBLOrder[maxBLIndex]].len != 0 {
			break
		}
	}
	z.optLen += 3*(maxBLIndex+1) + 5 + 5 + 4
	return maxBLIndex
}

func (z *zlib) sendAllTrees(lcodes, dcodes, blcodes int) {
	z.bw.send(lcodes-257, 5)
	z.bw.send(dcodes-1, 5)
	z.bw.send(blcodes-4, 4)
	for rank := 0; rank < blcodes; rank++ {
		z.bw.send(z.blTree[zBLOrder[rank]].len, 3)
	}
	z.sendTree(z.dynL[:], lcodes-1)
	z.sendTree(z.dynD[:], dcodes-1)
}

func (z *zlib) compressBlock(ltree, dtree []zNode) {
	for i := 0; i < len(z.syms); i += 2 {
		dist, lc := z.syms[i], z.syms[i+1]
		if dist == 0 {
			z.sendCode(lc, ltree)
			continue
		}
		code := int(z.t.lengthCode[lc])
		z.sendCode(code+zLiterals+1, ltree)
		if extra := zExtraLBits[code]; extra != 0 {
			z.bw.send(lc-z.t.baseLength[code], extra)
		}
		dist--
		code = z.t.dCode(dist)
		z.sendCode(code, dtree)
		if extra := zExtraDBits[code]; extra != 0 {
			z.bw.send(dist-z.t.baseDist[code], extra)
		}
	}
	z.sendCode(zEndBlock, ltree)
}

func (z *zlib) trFlushBlock(buf []byte, haveBuf bool, storedLen int, last bool) {
	z.buildTree(&z.lDesc)
	z.buildTree(&z.dDesc)
	maxBLIndex := z.buildBLTree()
	optLenb := (z.optLen + 3 + 7) >> 3
	staticLenb := (z.statLen + 3 + 7) >> 3
	if staticLenb <= optLenb {
		optLenb = staticLenb
	}
	lastBit := 0
	if last {
		lastBit = 1
	}
	switch {
	case storedLen+4 <= optLenb && haveBuf:
		z.bw.send(0<<1+lastBit, 3)
		z.bw.windup()
		z.bw.out.Write([]byte{byte(storedLen), byte(storedLen >> 8), ^byte(storedLen), ^byte(storedLen >> 8)})
		z.bw.out.Write(buf)
	case staticLenb == optLenb:
		z.bw.send(1<<1+lastBit, 3)
		z.compressBlock(z.t.sLtree[:], z.t.sDtree[:])
	default:
		z.bw.send(2<<1+lastBit, 3)
		z.sendAllTrees(z.lDesc.maxCode+1, z.dDesc.maxCode+1, maxBLIndex+1)
		z.compressBlock(z.dynL[:], z.dynD[:])
	}
	z.initBlock()
}
