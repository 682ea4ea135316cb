#!/usr/bin/env python3
"""Is the series our own code?  Compare the lines the series adds with
the stock pkeys code that base/ removes, and report every run of
consecutive added lines that also appears, in the same order, in stock.

    check-origin.py TOP STOCK_TREE

Lines are compared with their whitespace collapsed; blank lines, lone
braces and the like do not count.  Runs of RUN_REPORT lines and more are
listed (they are ABI facts and kernel idioms: syscall tables, the
siginfo field copies); a run of RUN_FAIL lines or more fails: at that
length, a match is a copied block.
"""
import glob
import os
import re
import sys

RUN_REPORT = 3
RUN_FAIL = 6
TRIVIAL = {"", "{", "}", "};", "/*", "*/", "*", "#endif", "#else",
           "} else {", "break;", "return 0;", "else"}


def significant(lines):
    """The lines worth comparing, whitespace collapsed; None ends a block."""
    out = []
    for line in lines:
        if line is None:
            out.append(None)
            continue
        norm = re.sub(r"\s+", " ", line.strip())
        if norm not in TRIVIAL:
            out.append(norm)
    return out


def patch_lines(path, sign):
    """Lines a patch adds ('+') or removes ('-'), None between hunks."""
    # "+++ b/file" and "--- a/file" name files; an added "++i;" is code.
    file_header = sign * 3 + " "
    lines = []
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(sign) and not line.startswith(file_header):
                lines.append(line[1:])
            elif lines and lines[-1] is not None:
                lines.append(None)
    return lines


def stock_code(top, stock):
    lines = patch_lines(os.path.join(top, "base/remove-pkeys.patch"), "-")
    with open(os.path.join(top, "base/deleted-files")) as f:
        for name in f.read().split():
            with open(os.path.join(stock, name), errors="replace") as g:
                lines += g.read().splitlines() + [None]
    return significant(lines)


def grams(lines, n):
    return {tuple(lines[i:i + n]) for i in range(len(lines) - n + 1)
            if None not in lines[i:i + n]}


def matching_runs(added, stock_grams, n):
    """(start, end) of each maximal run covered by n-line matches."""
    runs = []
    for i in range(len(added) - n + 1):
        if tuple(added[i:i + n]) not in stock_grams:
            continue
        if runs and runs[-1][1] > i:
            runs[-1] = (runs[-1][0], i + n)
        else:
            runs.append((i, i + n))
    return runs


def main():
    top, stock = sys.argv[1], sys.argv[2]
    stock_grams = grams(stock_code(top, stock), RUN_REPORT)
    longest = 0
    for path in sorted(glob.glob(os.path.join(top, "patches/0*.patch"))):
        added = significant(patch_lines(path, "+"))
        for start, end in matching_runs(added, stock_grams, RUN_REPORT):
            longest = max(longest, end - start)
            print(f"{os.path.basename(path)[:40]}: {end - start} lines")
            for line in added[start:end]:
                print(f"    {line}")
    print(f"check-origin: longest run shared with stock pkeys: "
          f"{longest} lines (a run of {RUN_FAIL} fails)")
    return 1 if longest >= RUN_FAIL else 0


if __name__ == "__main__":
    sys.exit(main())
