// SPDX-License-Identifier: GPL-2.0
/* Shared helpers of the benchmark programs. */
#include "bench.h"

#include <cpuid.h>
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

/* x86_64 syscall numbers of the pkeys ABI; old libcs lack the names. */
#define NR_PKEY_MPROTECT	329
#define NR_PKEY_ALLOC		330
#define NR_PKEY_FREE		331

/* CPUID leaf 7, subleaf 0, ECX: the OS has enabled PKRU (CR4.PKE). */
#define CPUID_LEAF_EXT_FEATURES	7
#define CPUID_ECX_OSPKE		(1u << 4)

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* Under QEMU -icount shift=0 these clocks count guest instructions. */
uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* Time the calling thread ran: what an operation cost it, without the
 * time other threads had the CPU. */
uint64_t thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

void die(const char *what)
{
	perror(what);
	exit(1);
}

/* Double the batch until one batch lasts a round, so that the clock
 * reads are a small part of what is timed. */
static long iters_for_one_round(batch_fn batch, void *ctx, uint64_t round_ns)
{
	long iters = 1;

	while (batch(ctx, iters) < round_ns)
		iters *= 2;
	return iters;
}

/* Timer interrupts, the scheduler and the host only ever add time to a
 * round: the fastest round is the operation's own cost, and under
 * -icount it repeats from run to run. */
double min_ns_per_op(batch_fn batch, void *ctx, const struct budget *b)
{
	long iters = iters_for_one_round(batch, ctx, b->round_ns);
	double best = (double)batch(ctx, iters) / iters;

	for (int i = 1; i < b->rounds; i++) {
		double per_op = (double)batch(ctx, iters) / iters;

		if (per_op < best)
			best = per_op;
	}
	return best;
}

/* One "metric value" line per figure: the host script parses these. */
void report(const char *metric, double ns)
{
	printf("%s %.1f\n", metric, ns);
	fflush(stdout);
}

bool parse_smoke(int argc, char **argv)
{
	return argc > 1 && strcmp(argv[1], "--smoke") == 0;
}

bool cpu_has_ospke(void)
{
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid_count(CPUID_LEAF_EXT_FEATURES, 0, &eax, &ebx, &ecx, &edx))
		return false;
	return ecx & CPUID_ECX_OSPKE;
}

__attribute__((target("pku"))) uint32_t read_pkru(void)
{
	return _rdpkru_u32();
}

__attribute__((target("pku"))) void write_pkru(uint32_t pkru)
{
	_wrpkru(pkru);
}

uint32_t pkru_with_write_disabled(uint32_t pkru, int pkey)
{
	return pkru | PKRU_WD_BIT << (pkey * PKRU_BITS_PER_KEY);
}

int sys_pkey_alloc(unsigned int flags, unsigned int rights)
{
	return syscall(NR_PKEY_ALLOC, flags, rights);
}

int sys_pkey_free(int pkey)
{
	return syscall(NR_PKEY_FREE, pkey);
}

int sys_pkey_mprotect(void *addr, unsigned long len, int prot, int pkey)
{
	return syscall(NR_PKEY_MPROTECT, addr, len, prot, pkey);
}
