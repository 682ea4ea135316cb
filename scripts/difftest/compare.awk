# Compare one run's two logs line by line (difftest.sh):
#   awk -v run=BITS-SEED -v devfile=deviations -f compare.awk SERIES STOCK
# The tester's op sequence depends on the seed only, so line i of one log
# is the same operation as line i of the other.  A differing pair is
#   documented  when an entry of devfile matches both lines;
#   carried     when PKRU already differed after the previous line, the
#               two PKRU values after this line differ in the same bits,
#               and the rest of the lines is the same once the series'
#               previous PKRU is replaced by stock's (a PKRU difference
#               carried along, nothing new);
#   new         otherwise (a line only one log has: kind "(lines-missing)").
# Prints "RUN run key=value...", then for the first undocumented
# difference "FIRST", "SERIES", "STOCK" lines, then one
# "NEW<TAB>run<TAB>line<TAB>kind<TAB>series<TAB>stock" per new difference.
# Hex digit by digit XOR of two 8-digit PKRU values (mawk has no xor()).
function hxor(a, b,   i, r, x, y, z, bit) {
	r = ""
	for (i = 1; i <= 8; i++) {
		x = index("0123456789abcdef", substr(a, i, 1)) - 1
		y = index("0123456789abcdef", substr(b, i, 1)) - 1
		z = 0
		for (bit = 8; bit >= 1; bit /= 2) {
			if ((x >= bit) != (y >= bit)) z += bit
			if (x >= bit) x -= bit
			if (y >= bit) y -= bit
		}
		r = r substr("0123456789abcdef", z + 1, 1)
	}
	return r
}
function body(s) { sub(/ pkru=[0-9a-f]+$/, "", s); return s }
function strip(s) { sub(/^[0-9][0-9][0-9][0-9][0-9] /, "", s); return s }
function pkru(s) {
	if (s ~ / pkru=[0-9a-f]+$/) { sub(/.* pkru=/, "", s); return s }
	return ""
}
# The kind of an operation: its name; probes and signals by kind too.
function opname(s,   t) {
	t = strip(s)
	if (t ~ /^probe [a-z]+ /) { sub(/^probe /, "", t); sub(/ .*/, "", t); return "probe-" t }
	if (t ~ /^signal stack=/) {
		sub(/^signal stack=/, "", t); sub(/ .*/, "", t)
		if (t ~ /^@/) t = "arena"
		return "signal-" t
	}
	if (t ~ /^(read|write)\(pipe/) { sub(/\(.*/, "", t); return "pipe-" t }
	sub(/[ (].*/, "", t)
	return t
}
BEGIN {
	nd = 0
	while ((getline l < devfile) > 0) {
		if (l ~ /^#/ || l ~ /^[ \t]*$/) continue
		key = l; sub(/[ \t].*/, "", key)
		val = l; sub(/^[^ \t]+[ \t]+/, "", val)
		if (key == "deviation") { nd++; dname[nd] = val }
		else if (key == "series") sre[nd] = val
		else if (key == "stock") tre[nd] = val
	}
}
FNR == NR { A[++na] = $0; next }
{ B[++nb] = $0 }
END {
	n = na > nb ? na : nb
	same = 0; doc = 0; carried = 0; newd = 0; missing = 0; first = ""
	pa = ""; pb = ""
	for (i = 1; i <= n; i++) {
		x = i <= na ? A[i] : "<missing>"
		y = i <= nb ? B[i] : "<missing>"
		if (x != y) {
			sx = strip(x); sy = strip(y); hit = 0
			for (k = 1; k <= nd; k++)
				if (sx ~ sre[k] && sy ~ tre[k]) { hit = k; break }
			if (hit) {
				doc++; docn[dname[hit]]++
			} else {
				if (first == "") { first = x; firsty = y; firsti = i }
				if (x == "<missing>" || y == "<missing>") {
					missing++
					continue
				}
				x2 = body(x)
				if (pa != "" && pb != "" && pa != pb)
					gsub(pa, pb, x2)
				if (pa != pb && x2 == body(y) && pkru(x) != "" && pkru(y) != "" &&
				    hxor(pkru(x), pkru(y)) == hxor(pa, pb)) {
					carried++
				} else {
					newd++
					k = opname(x)
					kind[k]++
					printf "NEW\t%s\t%d\t%s\t%s\t%s\n", run, i, k, x, y
				}
			}
		} else {
			same++
		}
		if (pkru(x) != "") pa = pkru(x)
		if (pkru(y) != "") pb = pkru(y)
	}
	status = ""
	if (A[na] != "# exit status 0") status = "series_tester:" A[na]
	if (B[nb] != "# exit status 0") status = status (status == "" ? "" : ",") "stock_tester:" B[nb]
	if (status == "") status = "ok"
	gsub(/# /, "", status)
	gsub(/ /, "_", status)
	if (missing) kind["(lines-missing)"] = missing
	dl = ""
	for (d in docn) dl = dl "," d ":" docn[d]
	kl = ""
	for (d in kind) kl = kl "," d ":" kind[d]
	printf "RUN %s lines=%d same=%d documented=%d carried=%d new=%d status=%s docs=%s kinds=%s\n", \
		run, n, same, doc, carried, newd + missing, status, \
		(dl == "" ? "-" : substr(dl, 2)), (kl == "" ? "-" : substr(kl, 2))
	if (first != "") {
		printf "FIRST %s %d\n", run, firsti
		printf "SERIES %s\nSTOCK %s\n", first, firsty
	}
}
