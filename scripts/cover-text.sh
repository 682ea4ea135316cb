#!/bin/bash
# Print the hand-written part of a format-patch cover letter: the
# subject (without "[PATCH 0/N]"), a blank line, then the body up to the
# shortlog that git appends.
set -euo pipefail
awk '
	/^Subject: / { sub(/^Subject: (\[[^]]*\] )?/, ""); subj = $0; insubj = 1; next }
	insubj && /^ / { sub(/^ /, ""); subj = subj " " $0; next }
	{ insubj = 0 }
	!body && /^$/ { body = 1; print subj; print ""; next }
	body && /^[^ ].* \([0-9]+\):$/ { exit }
	body { lines[++n] = $0 }
	END {
		while (n > 0 && lines[n] == "") n--
		for (i = 1; i <= n; i++) print lines[i]
	}
' "$1"
