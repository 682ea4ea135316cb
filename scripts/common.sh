# Shared settings of the harness scripts; sourced, never run.
# shellcheck shell=bash
BUILD=${BUILD:-$top/build}
MPK_GIT_NAME="MPK series"
MPK_GIT_EMAIL="mpk@example.org"
# A fixed date makes the base commit, and so every hash above it, the
# same on every machine.
MPK_BASE_DATE="2024-11-17T00:00:00Z"

die() {
	echo "$(basename "$0" .sh): $*" >&2
	exit 1
}
# The MAINTAINERS section the series adds (MAINTAINERS-snippet).
MPK_MAINTAINERS_TITLE="X86 MEMORY PROTECTION KEYS"
