// SPDX-License-Identifier: GPL-2.0
/*
 * Part 1 of the benchmarks: what revoking and then restoring write
 * access to a region costs, by a PKRU write, by mprotect() and by
 * pkey_mprotect(), for regions of 4 KiB to 1 GiB; by one thread alone,
 * or (--readers) while three more threads read the region.  Times are
 * the toggling thread's CPU time, as it shares two CPUs with the
 * readers.  Prints one
 * "toggle_<size>[_4threads].<method> <ns per revoke+restore>" line
 * per figure.
 *
 * Do not run --readers under QEMU -icount: QEMU then runs the vCPUs in
 * turns, and a TLB shootdown waits for the other vCPU's turn, which can
 * take guest seconds; the figures would measure QEMU, not the kernel.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define KIB		1024ul
#define MIB		(1024 * KIB)
#define GIB		(1024 * MIB)
/* With the toggling thread, four threads touch the region. */
#define READER_THREADS	3
/* The toggling thread runs on the first CPU; readers take turns on the
 * second and the first, so the second CPU always has one to interrupt
 * for a TLB shootdown. */
#define TOGGLER_CPU	0
#define NR_CPUS_USED	2
/* The smoke check measures only the smallest regions. */
#define SMOKE_SIZES	2

/* Short rounds: QEMU emulates each WRPKRU with a flush of its software
 * TLB, about 10 us of host time, so long ones would take the run hours.
 * Under -icount the figures repeat anyway. */
static const struct budget full_budget = { .rounds = 5, .round_ns = 200000 };
static const struct budget smoke_budget = { .rounds = 1, .round_ns = 50000 };

static const struct region_size {
	const char *name;
	unsigned long bytes;
} sizes[] = {
	{ "4K", 4 * KIB }, { "64K", 64 * KIB }, { "1M", MIB },
	{ "16M", 16 * MIB }, { "256M", 256 * MIB }, { "1G", GIB },
};

struct region {
	char *addr;
	unsigned long len;
	int pkey;
	uint32_t pkru_writable, pkru_read_only;
};

struct readers {
	pthread_t threads[READER_THREADS];
	struct region *region;
	atomic_int started;
	atomic_bool stop;
};

static uint64_t toggle_by_wrpkru(void *ctx, long iters)
{
	struct region *r = ctx;
	uint64_t start = thread_cpu_ns();

	for (long i = 0; i < iters; i++) {
		write_pkru(r->pkru_read_only);
		write_pkru(r->pkru_writable);
	}
	return thread_cpu_ns() - start;
}

static uint64_t toggle_by_mprotect(void *ctx, long iters)
{
	struct region *r = ctx;
	uint64_t start = thread_cpu_ns();

	for (long i = 0; i < iters; i++) {
		if (mprotect(r->addr, r->len, PROT_READ) ||
		    mprotect(r->addr, r->len, PROT_READ | PROT_WRITE))
			die("mprotect");
	}
	return thread_cpu_ns() - start;
}

static uint64_t toggle_by_pkey_mprotect(void *ctx, long iters)
{
	struct region *r = ctx;
	uint64_t start = thread_cpu_ns();

	for (long i = 0; i < iters; i++) {
		if (sys_pkey_mprotect(r->addr, r->len, PROT_READ, r->pkey) ||
		    sys_pkey_mprotect(r->addr, r->len, PROT_READ | PROT_WRITE, r->pkey))
			die("pkey_mprotect");
	}
	return thread_cpu_ns() - start;
}

/* 4 KiB pages, all present: the cost is then the one users see on
 * normal memory, not a huge page's nor a first fault's. */
static void map_populated(struct region *r, unsigned long len, int pkey)
{
	r->len = len;
	r->addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->addr == MAP_FAILED)
		die("mmap");
	if (madvise(r->addr, len, MADV_NOHUGEPAGE))
		die("madvise");
	for (unsigned long off = 0; off < len; off += PAGE_SIZE)
		r->addr[off] = 1;
	r->pkey = pkey;
	if (sys_pkey_mprotect(r->addr, len, PROT_READ | PROT_WRITE, pkey))
		die("pkey_mprotect");
}

/* Reads only: while mprotect() has the region read-only, a write from
 * another thread would fault.  The reads keep the region in the other
 * CPU's TLB, which mprotect() must then shoot down. */
static void *read_until_stopped(void *arg)
{
	struct readers *rd = arg;
	volatile const char *p = rd->region->addr;
	unsigned long len = rd->region->len;
	unsigned long off = 0;

	atomic_fetch_add(&rd->started, 1);
	while (!atomic_load_explicit(&rd->stop, memory_order_relaxed)) {
		(void)p[off];
		off = (off + PAGE_SIZE) % len;
	}
	return NULL;
}

static void pin_to_cpu(pthread_t thread, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(thread, sizeof(set), &set))
		die("pthread_setaffinity_np");
}

/* Timing starts only once every reader has run on its CPU. */
static void start_readers(struct readers *rd, struct region *r)
{
	rd->region = r;
	atomic_store(&rd->started, 0);
	atomic_store(&rd->stop, false);
	for (int i = 0; i < READER_THREADS; i++) {
		if (pthread_create(&rd->threads[i], NULL, read_until_stopped, rd))
			die("pthread_create");
		pin_to_cpu(rd->threads[i], (TOGGLER_CPU + 1 + i) % NR_CPUS_USED);
	}
	while (atomic_load(&rd->started) < READER_THREADS)
		sched_yield();
}

static void stop_readers(struct readers *rd)
{
	atomic_store(&rd->stop, true);
	for (int i = 0; i < READER_THREADS; i++)
		pthread_join(rd->threads[i], NULL);
}

static void measure_methods(struct region *r, const char *prefix,
			    const struct budget *b)
{
	static const struct {
		const char *name;
		batch_fn batch;
	} methods[] = {
		{ "wrpkru", toggle_by_wrpkru },
		{ "mprotect", toggle_by_mprotect },
		{ "pkey_mprotect", toggle_by_pkey_mprotect },
	};
	char metric[64];

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		snprintf(metric, sizeof(metric), "%s.%s", prefix, methods[i].name);
		report(metric, min_ns_per_op(methods[i].batch, r, b));
	}
}

static void measure_size(const struct region_size *size, int pkey,
			 bool with_readers, const struct budget *b)
{
	struct region r;
	struct readers rd;
	char prefix[32];

	map_populated(&r, size->bytes, pkey);
	r.pkru_writable = read_pkru();
	r.pkru_read_only = pkru_with_write_disabled(r.pkru_writable, pkey);

	if (with_readers) {
		start_readers(&rd, &r);
		snprintf(prefix, sizeof(prefix), "toggle_%s_%dthreads",
			 size->name, READER_THREADS + 1);
		measure_methods(&r, prefix, b);
		stop_readers(&rd);
	} else {
		snprintf(prefix, sizeof(prefix), "toggle_%s", size->name);
		measure_methods(&r, prefix, b);
	}
	munmap(r.addr, r.len);
}

int main(int argc, char **argv)
{
	bool smoke = parse_smoke(argc, argv);
	bool with_readers = argc > 2 && strcmp(argv[2], "--readers") == 0;
	const struct budget *b = smoke ? &smoke_budget : &full_budget;
	size_t nr_sizes = smoke ? SMOKE_SIZES : sizeof(sizes) / sizeof(sizes[0]);
	int pkey;

	if (!cpu_has_ospke()) {
		fprintf(stderr, "toggle: the CPU or kernel has no protection keys\n");
		return 1;
	}
	pin_to_cpu(pthread_self(), TOGGLER_CPU);
	pkey = sys_pkey_alloc(0, 0);
	if (pkey < 0)
		die("pkey_alloc");
	for (size_t i = 0; i < nr_sizes; i++)
		measure_size(&sizes[i], pkey, with_readers, b);
	return 0;
}
