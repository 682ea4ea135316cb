# Summarise report.txt (see compare.awk) for difftest.sh; closes with
# "N passed, M failed" over the (seed, word size) runs and exits 1 on any
# undocumented difference, tester failure or kernel/guest trouble (kfail).
#   awk -v nseeds=N -v nops=N -v kfail=0|1 -v newfile=PATH -f summary.awk report.txt
$1 == "RUN" {
	runs++
	delete f
	for (i = 3; i <= NF; i++) {
		k = $i; sub(/=.*/, "", k)
		v = $i; sub(/^[^=]*=/, "", v)
		f[k] = v
	}
	lines += f["lines"]; doc += f["documented"]; carried += f["carried"]; newd += f["new"]
	if (f["docs"] != "-") {
		m = split(f["docs"], dd, ",")
		for (j = 1; j <= m; j++) { split(dd[j], kv, ":"); docs[kv[1]] += kv[2] }
	}
	if (f["kinds"] != "-") {
		m = split(f["kinds"], dd, ",")
		for (j = 1; j <= m; j++) { split(dd[j], kv, ":"); kinds[kv[1]] += kv[2]; kruns[kv[1]]++ }
	}
	bad = f["carried"] + f["new"] > 0 || f["status"] != "ok"
	if (bad) failed++; else passed++
	cur = $2
	order[runs] = cur
	desc[cur] = sprintf("%-4s %-6s %5d lines: %d documented, %d undocumented (%d new, %d carried PKRU)%s", \
		bad ? "FAIL" : "ok", cur, f["lines"], f["documented"], f["carried"] + f["new"], \
		f["new"], f["carried"], f["status"] == "ok" ? "" : "; " f["status"])
	next
}
$1 == "FIRST" { firstline[cur] = $3; next }
$1 == "SERIES" { fs[cur] = substr($0, 8); next }
$1 == "STOCK" { ft[cur] = substr($0, 7); next }
/^NEW\t/ {
	split($0, w, "\t")
	print substr($0, 5) > newfile
	if (!(w[4] in ex)) { ex[w[4]] = w[2] " line " w[3]; exs[w[4]] = w[5]; ext[w[4]] = w[6] }
	next
}
END {
	printf "" >> newfile
	print "== difftest: per run (series vs stock)"
	for (i = 1; i <= runs; i++) {
		r = order[i]
		print desc[r]
		if (r in firstline) {
			print "       first difference, log line " firstline[r] ":"
			print "         series: " fs[r]
			print "         stock:  " ft[r]
		}
	}
	print "== difftest: new (not carried) undocumented differences by operation, first example each"
	sorter = "sort -t '\t' -k1,1nr -k2,2 | cut -f3- | tr '\001' '\\n'"
	for (k in kinds) {
		out = sprintf("%-16s %5d lines in %2d runs", k, kinds[k], kruns[k])
		if (k in ex)
			out = out sprintf("; first: %s\001    series: %s\001    stock:  %s", ex[k], exs[k], ext[k])
		gsub(/\t/, " ", out)
		printf "%d\t%s\t%s\n", kinds[k], k, out | sorter
	}
	close(sorter)
	print "== difftest: summary"
	printf "runs: %d seeds x %d ops x 2 word sizes = %d runs per kernel\n", nseeds, nops, runs
	printf "lines compared: %d\n", lines
	printf "documented differences: %d\n", doc
	for (d in docs) printf "  %-22s %d\n", d, docs[d]
	printf "undocumented differences: %d (%d new, %d only carrying an earlier PKRU difference)\n", newd + carried, newd, carried
	if (kfail) print "kernel log or guest trouble: see above (exit status 1)"
	printf "%d passed, %d failed\n", passed, failed
	exit (failed || kfail) ? 1 : 0
}
