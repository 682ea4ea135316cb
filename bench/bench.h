/* Shared helpers of the benchmark programs: guest clock, repeated
 * timing, protection key access.  See bench/README.md. */
#ifndef MPK_BENCH_H
#define MPK_BENCH_H

#include <stdbool.h>
#include <stdint.h>

/* PKRU holds two bits per key: access-disable, then write-disable. */
#define PKRU_BITS_PER_KEY	2
#define PKRU_WD_BIT		0x2u
#define NSEC_PER_SEC		1000000000ull
/* x86 base pages: what mprotect() walks and a minor fault maps. */
#define PAGE_SIZE		4096ul

/* How hard to measure: a full run or the 'make test' smoke check. */
struct budget {
	int rounds;		/* timed rounds; the fastest is reported */
	uint64_t round_ns;	/* a round runs at least this long */
};

/* Run an operation iters times and return the guest ns it took. */
typedef uint64_t (*batch_fn)(void *ctx, long iters);

uint64_t now_ns(void);
uint64_t thread_cpu_ns(void);
double min_ns_per_op(batch_fn batch, void *ctx, const struct budget *b);
void report(const char *metric, double ns);
bool parse_smoke(int argc, char **argv);
void die(const char *what);

bool cpu_has_ospke(void);
uint32_t read_pkru(void);
void write_pkru(uint32_t pkru);
uint32_t pkru_with_write_disabled(uint32_t pkru, int pkey);
int sys_pkey_alloc(unsigned int flags, unsigned int rights);
int sys_pkey_free(int pkey);
int sys_pkey_mprotect(void *addr, unsigned long len, int prot, int pkey);

#endif
