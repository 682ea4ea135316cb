#!/usr/bin/env python3
"""Turn the guests' "metric value" lines into bench/results/: results.json
(the -icount run), results-noicount.json, results.md, and toggle.dat and
sync.dat for the plots.

    bench-report.py OUTDIR SERIES_ICOUNT STOCK_ICOUNT SERIES_NOICOUNT STOCK_NOICOUNT

Each argument after OUTDIR is a guest's tap.log.  $BENCH_SERIES_KERNEL
names the series image in results.md (default build/bzImage).
"""
import json
import os
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
    "thread_create_join": ("pthread_create() + pthread_join(), the thread returns at once",
                           "ns per thread"),
    "mprotect_page": ("mprotect() of one page, RO <-> RW", "ns per call"),
    "pkey_mprotect_page": ("pkey_mprotect() of one page, RO <-> RW", "ns per call"),
    "mmap_munmap_page": ("mmap() + munmap() of one page never touched", "ns per pair"),
    "madvise_dontneed_page": ("madvise(MADV_DONTNEED) of one page", "ns per call"),
    "proc_self_mem_read_page": ("pread() of one page of /proc/self/mem", "ns per call"),
    "process_vm_readv_page": ("process_vm_readv() of one page of the caller", "ns per call"),
    "pkey_alloc_free": ("pkey_alloc() + pkey_free()", "ns per pair"),
    "pkey_free": ("pkey_free() alone, with the clock reads around it", "ns per call"),
}

# kcost with process-wide rights: metric suffix -> what
PROCESS_RIGHTS_MODES = {
    "pr_elsewhere": "another process has used pkey_set_process() (hooks on)",
    "pr_here": "this process has a key with process rights",
}
# The kernel paths whose cost the feature could change, for the summary.
FEATURE_COSTS = ["ctxsw_threads", "ctxsw_processes", "signal_round_trip",
                 "thread_create_join", "fork_exit_wait"]

# Strict keys: extra mappings of the process while pkey_free() walks them.
STRICT_VMAS = [10, 100, 1000, 10000]

# Part 3: threads in the process, methods, states.
SYNC_THREADS = [1, 2, 4, 16, 64]
SYNC_METHODS = ["kernel", "signal"]
SYNC_STATES = ["running", "sleeping"]
SYNC_UNIT = "ns per update of one key in every thread (median)"


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
    results = {}
    for m, (_, unit) in KERNEL_COSTS.items():
        if m not in series or m not in stock:
            continue
        results[m] = {"series": series[m], "stock": stock[m], "unit": unit}
        for mode in PROCESS_RIGHTS_MODES:
            if f"{m}.{mode}" in series:
                results[m][f"series_{mode}"] = series[f"{m}.{mode}"]
    return results


def sync_results(series, stock):
    """sync_<threads>: {<method>_<state>, stock_signal_<state>, ...}; None
    where a kernel did not measure it (no pkey_set_process())."""
    results = {}
    for n in SYNC_THREADS:
        r = {}
        for state in SYNC_STATES:
            for method in SYNC_METHODS:
                key = f"sync_{method}_{state}_{n}"
                r[f"{method}_{state}"] = series.get(key)
                r[f"{method}_{state}_p90"] = series.get(f"{key}.p90")
                if state == "sleeping":
                    r[f"{method}_{state}_wakeups"] = series.get(f"{key}.wakeups")
                r[f"{method}_{state}_stale"] = series.get(f"{key}.stale")
            r[f"stock_signal_{state}"] = stock.get(f"sync_signal_{state}_{n}")
        r["unit"] = SYNC_UNIT
        results[f"sync_{n}"] = r
    return results


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
        if metric not in costs:
            continue
        c = costs[metric]
        rows.append(f"| `{metric}` | {what} | {unit} | {c['series']:.0f} | {c['stock']:.0f} "
                    f"| {c['series'] / c['stock']:.3f} |")
    return rows


def ratio(a, b, digits=3):
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.{digits}f}"


def speedup(slow, fast):
    """How many times faster: two decimals below 10."""
    if slow is None or fast is None or fast == 0:
        return "n/a"
    return f"{slow / fast:.2f}" if slow / fast < 10 else f"{slow / fast:.0f}"


def ns(v):
    return "n/a" if v is None else f"{v:.0f}"


def feature_cost_table(costs):
    """series / stock on the paths the feature touches: unused, used by
    another process, used by the measuring process."""
    rows = ["| metric | unit | stock | series | series / stock | hooks on (used elsewhere) / stock "
            "| key with process rights here / stock |",
            "|---|---|---:|---:|---:|---:|---:|"]
    for metric in FEATURE_COSTS:
        if metric not in costs:
            continue
        c = costs[metric]
        rows.append(f"| `{metric}` | {c['unit']} | {c['stock']:.0f} | {c['series']:.0f} "
                    f"| {ratio(c['series'], c['stock'])} "
                    f"| {ratio(c.get('series_pr_elsewhere'), c['stock'])} "
                    f"| {ratio(c.get('series_pr_here'), c['stock'])} |")
    return rows


def sync_table(syncs):
    rows = ["| threads | running: kernel | running: signal | signal / kernel "
            "| sleeping: kernel | sleeping: signal | signal / kernel "
            "| sleeping threads woken per update: kernel, signal "
            "| stock, signal: running | stock, signal: sleeping |",
            "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for n in SYNC_THREADS:
        r = syncs[f"sync_{n}"]
        woken = ", ".join("n/a" if r.get(f"{m}_sleeping_wakeups") is None
                          else f"{r[f'{m}_sleeping_wakeups']:.1f}" for m in SYNC_METHODS)
        rows.append(f"| {n} | {ns(r['kernel_running'])} | {ns(r['signal_running'])} "
                    f"| {speedup(r['signal_running'], r['kernel_running'])} "
                    f"| {ns(r['kernel_sleeping'])} | {ns(r['signal_sleeping'])} "
                    f"| {speedup(r['signal_sleeping'], r['kernel_sleeping'])} | {woken} "
                    f"| {ns(r['stock_signal_running'])} | {ns(r['stock_signal_sleeping'])} |")
    return rows


def sync_stale_note(syncs):
    """Threads left without the last rights: a broken method, never expected."""
    bad = [f"`sync_{m}_{s}_{n}` ({r[f'{m}_{s}_stale']:.0f} threads)"
           for n in SYNC_THREADS for r in [syncs[f"sync_{n}"]]
           for s in SYNC_STATES for m in SYNC_METHODS
           if r.get(f"{m}_{s}_stale")]
    if bad:
        return ["**Threads without the last rights once the updates were over:** " +
                ", ".join(bad) + "."]
    return ["Every thread had the last rights once the updates were over, with both",
            "methods (each thread reads its PKRU at its end)."]


def write_plot_data(path, toggles):
    """size_bytes, then WRPKRU, mprotect, pkey_mprotect alone and with readers."""
    with open(path, "w") as f:
        for size, size_bytes in SIZES:
            cols = [toggles[f"toggle_{size}{s}"][m] for s in THREADS for m in METHODS]
            f.write(" ".join([str(size_bytes)] + [f"{c:.1f}" for c in cols]) + "\n")


def write_sync_data(path, syncs):
    """threads, then kernel and signal running, kernel and signal sleeping."""
    with open(path, "w") as f:
        for n in SYNC_THREADS:
            r = syncs[f"sync_{n}"]
            cols = [r[f"{m}_{s}"] for s in SYNC_STATES for m in SYNC_METHODS]
            f.write(" ".join([str(n)] + ["NaN" if c is None else f"{c:.1f}" for c in cols])
                    + "\n")


def sync_section(icount, noicount, kernel_note):
    top = icount["syncs"][f"sync_{SYNC_THREADS[-1]}"]
    lines = [
        "## 4. Synchronous update of one key's rights in every thread (-icount)",
        "",
        "![sync latency](sync.png)",
        "",
        "Latency of giving one key new rights in every thread of the process, the",
        "updating one included: `kernel` is `pkey_set_process(key, rights, 0)`,",
        "`signal` is what a program does without it (a `tgkill()` to every other",
        "thread, whose handler writes the key's new rights into the PKRU of its",
        "signal frame, the one sigreturn restores, and counts itself in; the last",
        "one wakes the caller through a futex; the caller then sets its own PKRU).",
        "Series kernel, and the signal method on stock; median of the updates, in",
        "ns of the guest clock (instructions).  The other threads spin in user",
        "space (`running`) or are blocked in `read()` on a pipe (`sleeping`).",
        "",
    ]
    if kernel_note:
        lines += ["The series kernel has no `pkey_set_process()` (the guest noted "
                  f"\"{kernel_note}\"): only the signal method ran.", ""]
    lines += [
        *sync_table(icount["syncs"]),
        "",
        *sync_stale_note(icount["syncs"]),
        "",
        "- Two vCPUs: the caller has CPU 0 to itself, the other threads share CPU 1,",
        "  so at most one of them is on a CPU when an update starts.  The kernel",
        "  sends an IPI to that one and marks the others, which take the rights on",
        "  their way back to user space; the signal method must wait until each",
        "  preempted thread is scheduled again and has run its handler, about one",
        "  4 ms tick per thread here: that is the `running` column's growth, and on",
        "  a machine with a CPU per thread it would be an IPI round trip instead.",
        "- `sleeping`: the kernel does not wake a sleeping thread (context switches",
        "  of the sleeping threads per update: "
        f"{ns(top.get('kernel_sleeping_wakeups'))} at {SYNC_THREADS[-1]} threads); "
        "a signal wakes every one, its",
        "  `read()` is interrupted and restarted (SA_RESTART; without it the program",
        f"  sees EINTR), and it goes back to sleep: {ns(top.get('signal_sleeping_wakeups'))} "
        f"switches per update at {SYNC_THREADS[-1]} threads.",
        "- 1 thread: the signal method is a RDPKRU and a WRPKRU, the kernel method a",
        "  system call.",
        "- The spinning threads execute PAUSE every 256 loads: under -icount QEMU runs",
        "  the vCPUs in turns and keeps a vCPU on until the next timer event unless it",
        "  halts or executes PAUSE, so without it a wake-up sent to the other vCPU",
        "  would wait for the next tick (and QEMU 7.2 can starve a vCPU for good).",
        "",
        "Without -icount (guest wall clock; TCG's cross-vCPU IPIs take tens of",
        "microseconds to milliseconds, and the host's load shows):",
        "",
        *sync_table(noicount["syncs"]),
        "",
        *sync_stale_note(noicount["syncs"]),
        "",
    ]
    return lines


def strict_walk_section(series):
    """pkey_alloc() + pkey_free(), plain and strict, by mappings (-icount)."""
    rows = [(n, series.get(f"plain_alloc_free.vmas_{n}"),
             series.get(f"strict_alloc_free.vmas_{n}")) for n in STRICT_VMAS]
    if any(plain is None or strict is None for _, plain, strict in rows):
        return ["## 5. Strict keys: the pkey_free() walk", "",
                "(no strictfree figures in the series run)"]
    per_vma = (rows[-1][2] - rows[-1][1]) / rows[-1][0]
    return [
        "## 5. Strict keys: the pkey_free() walk (-icount, series)",
        "",
        "pkey_alloc() + pkey_free() of a key no mapping carries, with that many",
        "extra mappings in the process: a strict key's pkey_free() looks at every",
        "one of them (`bench/strictfree.c`).",
        "",
        "| extra mappings | plain | strict | strict - plain |",
        "|---:|---:|---:|---:|",
        *[f"| {n} | {ns(p)} | {ns(s)} | {ns(s - p)} |" for n, p, s in rows],
        "",
        f"About {per_vma:.0f} instructions per mapping; plain keys do not walk.",
        "",
    ]


def markdown(icount, noicount, thp, kernel_note, series_kernel):
    ratio = icount["toggles"]["toggle_1G"]["mprotect"] / icount["toggles"]["toggle_1G"]["wrpkru"]
    lines = [
        "# Benchmark results",
        "",
        f"Made by `make bench` (scripts/bench.sh): the series kernel (`{series_kernel}`)",
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
        "`mmap_munmap_page` settles at one of several levels per boot (about 7000,",
        "7200, 7400, 7700, 7900, 8450 on both kernels): compare two kernels only at the",
        "same level.  `fork_exit_wait` varies by 2-5% from boot to boot.",
        "",
        "### Cost on the paths the feature touches (series / stock)",
        "",
        "Context switch, signal delivery and return, thread creation and fork, with",
        "-icount.  `series`: no process in the guest has used `pkey_set_process()`",
        "yet, so its hooks are off (a static branch); `hooks on`: another process",
        "used it, which turns them on for the whole system until reboot (this",
        "process has no process rights); `here`: the measuring process itself gave",
        "a key process rights (open, so PKRU values are as in the other runs).",
        "Within one boot these figures move by up to 1% for a signal and 2-3% for",
        "thread creation and fork from one run of the program to the next.",
        "",
        *feature_cost_table(icount["costs"]),
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
        *feature_cost_table(noicount["costs"]),
        "",
        *sync_section(icount, noicount, kernel_note),
        "",
        *strict_walk_section(icount["series"]),
    ]
    return "\n".join(lines)


def main():
    outdir = sys.argv[1]
    (series_icount, notes), (stock_icount, _), (series_wall, _), (stock_wall, _) = \
        [read_figures(log) for log in sys.argv[2:6]]
    icount = {"series": series_icount,
              "toggles": toggle_results(series_icount, series_wall, UNIT_NO_ICOUNT),
              "costs": kernel_cost_results(series_icount, stock_icount),
              "syncs": sync_results(series_icount, stock_icount)}
    noicount = {"toggles": toggle_results(series_wall, series_wall, TOGGLE_UNIT),
                "costs": kernel_cost_results(series_wall, stock_wall),
                "syncs": sync_results(series_wall, stock_wall)}
    for name, run in (("results.json", icount), ("results-noicount.json", noicount)):
        with open(f"{outdir}/{name}", "w") as f:
            json.dump({**run["costs"], **run["toggles"], **run["syncs"]}, f, indent=1)
            f.write("\n")
    write_plot_data(f"{outdir}/toggle.dat", icount["toggles"])
    write_sync_data(f"{outdir}/sync.dat", icount["syncs"])
    with open(f"{outdir}/results.md", "w") as f:
        f.write(markdown(icount, noicount, notes.get("thp", "unknown"),
                         notes.get("sync_kernel"),
                         os.environ.get("BENCH_SERIES_KERNEL", "build/bzImage")))


if __name__ == "__main__":
    main()
