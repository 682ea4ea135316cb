// SPDX-License-Identifier: GPL-2.0
/*
 * What pkey_free() of a strict key (pkey_alloc(PKEY_ALLOC_STRICT)) costs
 * by the number of mappings of the process: the kernel walks them all to
 * check that none carries the key.  For each count, the process gets
 * that many extra mappings (one region, every other page made writable,
 * so that no two neighbours merge) and times pkey_alloc() + pkey_free()
 * of an unmapped key, plainly and strict: the walk finds nothing, which
 * is its longest case.  Prints "strict_alloc_free.vmas_<n>" and
 * "plain_alloc_free.vmas_<n>" lines; the difference is the walk.  On a
 * kernel without the flag (EINVAL) it prints an "unsupported" note only.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>

#ifndef PKEY_ALLOC_STRICT
#define PKEY_ALLOC_STRICT	0x2
#endif

static const struct budget full_budget = { .rounds = 7, .round_ns = 10000000 };
static const struct budget smoke_budget = { .rounds = 1, .round_ns = 1000000 };

/* Extra mappings the process has while it is timed. */
static const long vma_counts[] = { 10, 100, 1000, 10000 };

static uint64_t alloc_free(void *ctx, long iters)
{
	unsigned int flags = *(unsigned int *)ctx;
	uint64_t start = now_ns();

	for (long i = 0; i < iters; i++) {
		int pkey = sys_pkey_alloc(flags, 0);

		if (pkey < 0 || sys_pkey_free(pkey))
			die("pkey_alloc/pkey_free");
	}
	return now_ns() - start;
}

/* @vmas mappings of one page each, in one region of that many pages. */
static char *map_vmas(long vmas)
{
	char *p = mmap(NULL, vmas * PAGE_SIZE, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	for (long i = 1; i < vmas; i += 2) {
		if (mprotect(p + i * PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE))
			die("mprotect");
	}
	return p;
}

static void measure(long vmas, const struct budget *b)
{
	unsigned int plain = 0, strict = PKEY_ALLOC_STRICT;
	char *p = map_vmas(vmas);
	char name[64];

	snprintf(name, sizeof(name), "plain_alloc_free.vmas_%ld", vmas);
	report(name, min_ns_per_op(alloc_free, &plain, b));
	snprintf(name, sizeof(name), "strict_alloc_free.vmas_%ld", vmas);
	report(name, min_ns_per_op(alloc_free, &strict, b));
	munmap(p, vmas * PAGE_SIZE);
}

int main(int argc, char **argv)
{
	const struct budget *b = parse_smoke(argc, argv) ? &smoke_budget : &full_budget;
	int pkey;

	if (!cpu_has_ospke()) {
		fprintf(stderr, "strictfree: the CPU or kernel has no protection keys\n");
		return 1;
	}
	pkey = sys_pkey_alloc(PKEY_ALLOC_STRICT, 0);
	if (pkey < 0 && errno == EINVAL) {
		printf("# strictfree unsupported: PKEY_ALLOC_STRICT is EINVAL\n");
		return 0;
	}
	if (pkey < 0 || sys_pkey_free(pkey))
		die("pkey_alloc(PKEY_ALLOC_STRICT)");
	for (unsigned int i = 0; i < sizeof(vma_counts) / sizeof(vma_counts[0]); i++)
		measure(vma_counts[i], b);
	return 0;
}
