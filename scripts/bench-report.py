#!/usr/bin/env python3
"""Turn the guests' "metric value" lines into bench/results/: results.json
(the -icount run), results-noicount.json, results.md and toggle.dat for
the plot.

    bench-report.py OUTDIR SERIES_ICOUNT STOCK_ICOUNT SERIES_NOICOUNT STOCK_NOICOUNT

Each argument after OUTDIR is a guest's tap.log.
"""
import json
import sys

SIZES = [("4K", 4 << 10), ("64K", 64 << 10), ("1M", 1 << 20),
         ("16M", 16 << 20), ("256M", 256 << 20), ("1G", 1 << 30)]
METHODS = ["wrpkru", "mprotect", "pkey_mprotect"]
THREADS = {"": "1", "_4threads": "4"}
TOGGLE_UNIT = "ns per revoke+restore of write access"
# The 4-thread toggle runs only without -icount (see bench/toggle.c).
UNIT_NO_ICOUNT = TOGGLE_UNIT + ", guest wall clock without -icount"

# Part 2: metric -> (what it times, unit)
KERNEL_COSTS = {
    "ctxsw_threads": ("pipe ping-pong, two threads", "ns per round trip (2 switches)"),
    "ctxsw_threads_pkru_differs": ("same, the threads' PKRU values differ",
                                   "ns per round trip (2 switches)"),
    "ctxsw_processes": ("pipe ping-pong, two processes", "ns per round trip (2 switches)"),
    "ctxsw_processes_pkru_differs": ("same, the processes' PKRU values differ",
                                     "ns per round trip (2 switches)"),
    "signal_round_trip": ("tgkill() to self, handler, sigreturn", "ns per signal"),
    "signal_round_trip_pkey_allocated": ("same, once the process has allocated a key",
                                         "ns per signal"),
    "minor_fault": ("first write to an anonymous 4 KiB page", "ns per fault"),
    "fork_exit_wait": ("fork(), child _exit(), parent waitpid()", "ns per fork"),
    "mprotect_page": ("mprotect() of one page, RO <-> RW", "ns per call"),
    "pkey_mprotect_page": ("pkey_mprotect() of one page, RO <-> RW", "ns per call"),
    "pkey_alloc_free": ("pkey_alloc() + pkey_free()", "ns per pair"),
}


def read_figures(path):
    """metric -> ns, and the guest's "# key value" notes."""
    figures, notes = {}, {}
    with open(path) as f:
        for line in f:
            words = line.split(None, 2)
            if len(words) < 2:
                continue
            if words[0] == "#":
                notes[words[1]] = words[2].strip() if len(words) > 2 else ""
            else:
                figures[words[0]] = float(words[1])
    return figures, notes


def toggle_results(one_thread, four_threads, four_threads_unit):
    results = {}
    for size, _ in SIZES:
        for suffix, figures, unit in (("", one_thread, TOGGLE_UNIT),
                                      ("_4threads", four_threads, four_threads_unit)):
            key = f"toggle_{size}{suffix}"
            results[key] = {m: figures[f"{key}.{m}"] for m in METHODS}
            results[key]["unit"] = unit
    return results


def kernel_cost_results(series, stock):
    return {m: {"series": series[m], "stock": stock[m], "unit": unit}
            for m, (_, unit) in KERNEL_COSTS.items()}


def toggle_table(toggles, clocks):
    """clocks: for 1 and for 4 threads, which run the figures come from."""
    rows = ["| region | threads | clock | WRPKRU | mprotect | pkey_mprotect | mprotect / WRPKRU |",
            "|---|---|---|---:|---:|---:|---:|"]
    for (suffix, threads), clock in zip(THREADS.items(), clocks):
        for size, _ in SIZES:
            t = toggles[f"toggle_{size}{suffix}"]
            rows.append(f"| {size} | {threads} | {clock} | {t['wrpkru']:.0f} | {t['mprotect']:.0f} "
                        f"| {t['pkey_mprotect']:.0f} | {t['mprotect'] / t['wrpkru']:.0f} |")
    return rows


def kernel_cost_table(costs):
    rows = ["| metric | what | unit | series | stock | series / stock |",
            "|---|---|---|---:|---:|---:|"]
    for metric, (what, unit) in KERNEL_COSTS.items():
        c = costs[metric]
        rows.append(f"| `{metric}` | {what} | {unit} | {c['series']:.0f} | {c['stock']:.0f} "
                    f"| {c['series'] / c['stock']:.3f} |")
    return rows


def write_plot_data(path, toggles):
    """size_bytes, then WRPKRU, mprotect, pkey_mprotect alone and with readers."""
    with open(path, "w") as f:
        for size, size_bytes in SIZES:
            cols = [toggles[f"toggle_{size}{s}"][m] for s in THREADS for m in METHODS]
            f.write(" ".join([str(size_bytes)] + [f"{c:.1f}" for c in cols]) + "\n")


def markdown(icount, noicount, thp):
    ratio = icount["toggles"]["toggle_1G"]["mprotect"] / icount["toggles"]["toggle_1G"]["wrpkru"]
    lines = [
        "# Benchmark results",
        "",
        "Made by `make bench` (scripts/bench.sh): the series kernel (`build/bzImage`)",
        "and stock Debian 6.12 (`build/stock-bzImage`, same config) in QEMU TCG, 2 vCPUs,",
        "`-cpu max`.  Figures are the fastest of repeated rounds, in ns of the guest clock.",
        "Under `-icount shift=0` the guest clock advances 1 ns per guest instruction,",
        "so those figures are instruction counts and repeat on a busy host.",
        "",
        f"Transparent huge pages in the guest: `{thp}`; every region and page below is",
        "`MADV_NOHUGEPAGE` and populated before timing, so mprotect() walks 4 KiB PTEs,",
        "as it does on normal memory.",
        "",
        "## 1. Revoking and restoring write access (series kernel, -icount)",
        "",
        "![toggle cost](toggle.png)",
        "",
        *toggle_table(icount["toggles"], ("icount", "wall")),
        "",
        f"At 1 GiB, mprotect() costs **{ratio:.0f}x** a WRPKRU pair (1 thread, -icount).",
        "",
        "- One figure = revoke write (PKRU write-disable bit set / `PROT_READ`) and",
        "  restore it.  WRPKRU changes the rights of the calling thread only; mprotect()",
        "  and pkey_mprotect() change the page tables for every thread, and with other",
        "  threads running must shoot down their TLBs (IPIs to the other vCPU).",
        "- 4 threads: three threads keep reading every page of the region (reads only:",
        "  a write would fault while the region is read-only) while the fourth toggles;",
        "  the toggler and one reader on vCPU 0, two readers on vCPU 1.  Figures are",
        "  the toggling thread's CPU time.",
        "- The 4-thread rows come from the run *without* -icount (clock \"wall\"):",
        "  under -icount QEMU runs the vCPUs in turns, and a TLB-shootdown IPI waits",
        "  for the other vCPU's turn (we saw guest seconds and an RCU stall), which",
        "  measures QEMU, not the kernel.  Without -icount the vCPUs run in parallel,",
        "  but TCG still takes milliseconds to deliver and answer the IPI, far more",
        "  than hardware: these rows show that mprotect() pays a cross-CPU round trip",
        "  per call and WRPKRU none, not what that round trip costs on a real CPU.",
        "",
        "## 2. Cost of the feature in the kernel, series vs stock (-icount)",
        "",
        *kernel_cost_table(icount["costs"]),
        "",
        "All of part 2 runs on vCPU 0 (sched_setaffinity), so a ping-pong is two real",
        "context switches.  \"PKRU differs\": the peer sets write-disable on a key the",
        "main thread left open, so every switch changes PKRU.",
        "",
        "## 3. The same without -icount (wall clock of the guest, host-dependent)",
        "",
        "TCG emulates WRPKRU with a helper that flushes QEMU's whole software TLB, so",
        "without -icount WRPKRU is artificially slow (on hardware it takes tens of",
        "cycles); mprotect() and the kernel paths are slowed by TCG too, and by",
        "whatever else the host runs.",
        "",
        *toggle_table(noicount["toggles"], ("wall", "wall")),
        "",
        *kernel_cost_table(noicount["costs"]),
        "",
    ]
    return "\n".join(lines)


def main():
    outdir = sys.argv[1]
    (series_icount, notes), (stock_icount, _), (series_wall, _), (stock_wall, _) = \
        [read_figures(log) for log in sys.argv[2:6]]
    icount = {"toggles": toggle_results(series_icount, series_wall, UNIT_NO_ICOUNT),
              "costs": kernel_cost_results(series_icount, stock_icount)}
    noicount = {"toggles": toggle_results(series_wall, series_wall, TOGGLE_UNIT),
                "costs": kernel_cost_results(series_wall, stock_wall)}
    for name, run in (("results.json", icount), ("results-noicount.json", noicount)):
        with open(f"{outdir}/{name}", "w") as f:
            json.dump({**run["costs"], **run["toggles"]}, f, indent=1)
            f.write("\n")
    write_plot_data(f"{outdir}/toggle.dat", icount["toggles"])
    with open(f"{outdir}/results.md", "w") as f:
        f.write(markdown(icount, noicount, notes.get("thp", "unknown")))


if __name__ == "__main__":
    main()
