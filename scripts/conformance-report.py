#!/usr/bin/env python3
"""Compare the results of stock 6.12's pkeys tests on stock and on the
series ('make conformance', scripts/conformance.sh): print the table
"test | stock | series | verdict", write it to TABLE, and close with
"N passed, M failed, K skipped".  Exit status 1 when a test that passes
on stock does not pass on the series.

    conformance-report.py MMDIR STOCK_RUN SERIES_RUN TABLE

MMDIR is stock's tools/testing/selftests/mm (test names and iteration
count of the sources).  Each RUN holds tap.log (scripts/conformance-guest.sh)
and checks (tap-summary.sh's guest and kernel log lines for the run).

One row per binary (its exit), per test case and per run check.  A test
counts as passed when it passes on the series, as failed when it passes
on stock only, as skipped when one kernel skips it and neither passes
it, and as passed when it fails on both (the series does as well as
stock).
"""
import re
import sys
from collections import Counter

BEGIN = re.compile(r"^# conformance: begin (\S+)")
END = re.compile(r"# conformance: end (\S+) status (\S+)$")
CHECK = re.compile(r"^(not )?ok - [^:]*: (.*)$")
CHECK_NAMES = ["guest finished", "kernel log clean"]


def array_names(path):
    """The test functions listed in pkey_tests[] of a test source."""
    text = open(path).read()
    body = re.search(r"pkey_tests\[\]\)\([^)]*\) = \{(.*?)\};", text, re.S).group(1)
    return [line.strip().rstrip(",") for line in body.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def binary_result(status):
    if status == "0":
        return "pass"
    if status == "timeout":
        return "hang (killed by the timeout)"
    code = int(status)
    if code == 4:
        return "skip (exit 4)"
    if code > 128:
        return f"crash (signal {code - 128})"
    return f"fail (exit {code})"


def sections(path):
    """(binary, lines, exit status) for each binary the guest ran."""
    name, lines = None, []
    for line in open(path, errors="replace").read().replace("\r", "").splitlines():
        end = END.search(line)
        if end:
            lines.append(line[:end.start()])
            yield end.group(1), lines, end.group(2)
            name = None
        elif BEGIN.match(line):
            name, lines = BEGIN.match(line).group(1), []
        elif name:
            lines.append(line)


def protection_keys(lines, status, names, iterations):
    """protection_keys prints "test N PASSED (iteration I)" for each
    test of each iteration, "assert() at FILE::LINE test_nr: N
    iteration: I" when one fails and "done (all tests OK)" at the end.
    Its first process exits 0 in test_pkey_alloc_exhaust (a forked child
    goes on), so only "done" says it finished.  Returns the binary's
    result and {test: (name, result)}."""
    if "has pkeys: 0" in lines:
        return binary_result(status), {i: (name, "skip (no pkeys)") for i, name in enumerate(names)}
    done = "done (all tests OK)" in lines
    binary = binary_result(status)
    if binary == "pass" and not done:
        binary = "fail (no 'done (all tests OK)')"
    passed, last, asserted = {}, -1, {}
    for line in lines:
        m = re.match(r"test\s+(\d+) PASSED \(iteration (\d+)\)", line)
        if m:
            passed.setdefault(int(m.group(1)), set()).add(m.group(2))
            last = int(m.group(1))
        m = re.search(r"assert\(\) at \S+::(\d+) test_nr: (\d+) iteration: (\d+)", line)
        if m:
            asserted.setdefault(int(m.group(2)),
                                f"fail (assert at line {m.group(1)}, iteration {m.group(3)})")
    # Without an assert, the test after the last one to pass took the
    # binary down.
    running = (last + 1) % len(names) if not done and not asserted else None
    results = {}
    for i, name in enumerate(names):
        runs = len(passed.get(i, ()))
        if i in asserted:
            result = asserted[i]
        elif runs == iterations:
            result = "pass"
        elif i == running:
            result = binary
        else:
            result = f"not run (passed {runs} of {iterations} iterations)"
        results[i] = (name, result)
    return binary, results


def tap(lines, status, names):
    """ksft TAP: "1..N", "ok N name", "not ok N name: line:L",
    "ok N # SKIP name"; names from pkey_tests[] when given.  Returns the
    binary's result and {test: (name, result)}."""
    plan, results = 0, {}
    for line in lines:
        m = re.match(r"1\.\.(\d+)$", line)
        if m:
            plan = int(m.group(1))
        m = re.match(r"(not )?ok (\d+) ?(.*)", line)
        if not m:
            continue
        n, desc = int(m.group(2)), m.group(3)
        skip = re.match(r"# SKIP ?(.*)", desc, re.I)
        desc = skip.group(1) if skip else desc
        where = re.search(r": line:(\d+)$", desc)
        name = desc[:where.start()] if where else desc
        if skip:
            result = "skip"
        elif m.group(1):
            result = f"fail (line {where.group(1)})" if where else "fail"
        else:
            result = "pass"
        results[n] = (name, result)
    last = max(results, default=0)
    for n in range(1, max(plan, last) + 1):
        if n in results:
            continue
        result = binary_result(status) if n == last + 1 and status != "0" else "not run"
        results[n] = ("", result)
    if names:
        results = {n: (names[n - 1] if n <= len(names) else name, result)
                   for n, (name, result) in results.items()}
    return binary_result(status), results


def kernel_rows(mm, run):
    """{key: (label, result)} of one kernel's run, in the guest's order."""
    names = {base: array_names(f"{mm}/{base}.c")
             for base in ("protection_keys", "pkey_sighandler_tests")}
    text = open(f"{mm}/protection_keys.c").read()
    iterations = int(re.search(r"int nr_iterations = (\d+);", text).group(1))
    rows = {}
    for binary, lines, status in sections(f"{run}/tap.log"):
        base = re.sub(r"_(32|64)$", "", binary)
        if base == "protection_keys":
            result, tests = protection_keys(lines, status, names[base], iterations)
        else:
            result, tests = tap(lines, status, names.get(base))
        rows[binary] = (binary, result)
        for n, (name, result) in sorted(tests.items()):
            rows[f"{binary} {n}"] = (f"{binary}: {n} {name}".rstrip(), result)
    for i, line in enumerate(open(f"{run}/checks").read().splitlines()):
        m = CHECK.match(line)
        rows[CHECK_NAMES[i]] = (CHECK_NAMES[i], "pass" if not m.group(1) else f"fail ({m.group(2)})")
    return rows


def verdict(stock, series):
    """(count, note) of one test: count is passed, failed or skipped."""
    if series == "pass":
        note = {"pass": "", "skip": "skipped on stock"}.get(stock.split()[0], "series fixes")
        return "passed", note
    if stock == "pass":
        return "failed", "not run on series" if series.startswith("not run") else "regression"
    if stock.startswith("skip") or series.startswith("skip"):
        return "skipped", "skipped on " + ("stock" if stock.startswith("skip") else "series")
    return "passed", "fails on both"


def main():
    mm, stock_run, series_run, table = sys.argv[1:]
    stock, series = kernel_rows(mm, stock_run), kernel_rows(mm, series_run)
    out = ["| test | stock | series | verdict |", "|---|---|---|---|"]
    counts = Counter()
    for key in list(stock) + [k for k in series if k not in stock]:
        # The longer label has the test's name when one kernel lacks it.
        label = max((rows[key][0] for rows in (stock, series) if key in rows), key=len)
        s = stock.get(key, (key, "not run"))[1]
        r = series.get(key, (key, "not run"))[1]
        count, note = verdict(s, r)
        counts[count] += 1
        out.append(f"| {label} | {s} | {r} | {note} |")
    out.append("")
    out.append(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    with open(table, "w") as f:
        f.write("\n".join(out) + "\n")
    print("\n".join(out))
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
