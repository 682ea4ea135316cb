// SPDX-License-Identifier: GPL-2.0
/*
 * x86 Memory Protection Keys (PKU) concurrency stress test.
 *
 * For a fixed time (-d SECONDS, short by default, and until every
 * thread finished at least one round), all at once:
 *  - PKRU threads write random PKRU values and read them back across
 *    system calls, yields, faults and signals;
 *  - key threads allocate and free keys with random rights, tag their
 *    own pages with them (a page keeps its key across the free, so a
 *    reallocated key finds it still tagged) and probe every access;
 *  - a range thread pkey_mprotect()s, mprotect()s, madvise()s and
 *    mremap()s ranges that the PKRU threads keep faulting on;
 *  - a fork thread forks children that check what they inherited, half
 *    of which exec this program again to check what exec resets;
 *  - when the kernel has PKEY_ALLOC_ENFORCE, an enforce thread writes its
 *    enforced key's page through /proc/self/mem and discards it with
 *    madvise() under random rights of its own;
 *  - the main thread sends signals to every thread.
 * When the kernel has pkey_set_process(), a forked process runs beside
 * them for as long: threads that give their keys process-wide rights
 * (pkey_set_process(), pkey_alloc(PKEY_ALLOC_PROCESS)) and hand them to
 * reader threads to check, while others allocate, free, tag, fault,
 * create threads, fork and exec, call the two with invalid arguments and
 * signal each other.
 * When the kernel has strict keys (PKEY_ALLOC_STRICT), another process
 * has threads that map, tag, reset with mmap(MAP_FIXED) and unmap pages
 * of a strict key while its main thread keeps trying to free the key.
 * Every check counts towards one invariant; each invariant is one TAP
 * result, which fails if any check of it failed or none ran.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <time.h>

#include "pkeys_util.h"
#include "../kselftest.h"

/* Run time of a plain run (make run_tests, CI); -d asks for more. */
#define DEFAULT_DURATION_SECS	3
/* A run that takes this much longer than asked has hung: SIGALRM. */
#define HANG_MARGIN_SECS	120
#define PKRU_THREADS		2
#define KEY_THREADS		2
/* Keys a key thread holds at most before it frees one. */
#define KEYS_HELD		3
#define SHARED_PAGES		16
#define MOVING_PAGES		4
/* Main thread's pause between two rounds of signals. */
#define SIGNAL_PERIOD_NS	(2 * 1000 * 1000)
/* Failures printed in full; the rest are only counted. */
#define MAX_REPORTS		20
/* Word inside a page used for single accesses; not at the page start. */
#define PROBE_OFFSET		0x100
/* What the enforce worker's page holds before its first round. */
#define ENFORCED_MARKER		0x5afe1234u
#define EXEC_CHILD_ARG		"--pkey-stress-exec-child"
/* Room for any int or PKRU value as an exec argument. */
#define NUMBER_ARG_LEN		sizeof("-2147483648")
/* One in this many forked children also execs. */
#define EXEC_EVERY		2
/* One in this many key allocations remaps the key's page first. */
#define REMAP_EVERY		8
/* Iterations a PKRU thread spins between writing and reading PKRU. */
#define PKRU_SPIN		64
/* Key 0 holds every stack and the signal frames: it stays open. */
#define PKRU_KEY0_MASK		(PKRU_AD | PKRU_WD)

/* Process-wide rights, for headers that predate them. */
#ifndef __NR_pkey_set_process
#define __NR_pkey_set_process	463
#endif
#ifndef PKEY_ALLOC_PROCESS
#define PKEY_ALLOC_PROCESS	0x1
#endif
#ifndef PKEY_ALLOC_STRICT
#define PKEY_ALLOC_STRICT	0x2
#endif
#ifndef PKEY_ALLOC_ENFORCE
#define PKEY_ALLOC_ENFORCE	0x4
#endif
/* The pkey_alloc() flags that a kernel may accept. */
#define PKEY_ALLOC_KNOWN	\
	(PKEY_ALLOC_PROCESS | PKEY_ALLOC_STRICT | PKEY_ALLOC_ENFORCE)

enum invariant {
	INV_PKRU_PRIVATE,
	INV_SIGNAL_PKRU,
	INV_RIGHTS_ENFORCED,
	INV_ALLOC_EXCLUSIVE,
	INV_MAP_MATCHES,
	INV_CHILDREN_CLEAN,
	/* Only with PKEY_ALLOC_ENFORCE. */
	INV_ENFORCED,
	/* Only with pkey_set_process(), in the process-rights process. */
	INV_PROC_CALLER,
	INV_PROC_QUIET_READER,
	INV_PROC_SIGNALLED_READER,
	INV_PROC_INHERITED,
	INV_PROC_HANDLER,
	INV_PROC_ERRORS,
	/* Only with strict keys, in the strict-keys process. */
	INV_STRICT,
	NR_INVARIANTS
};

#define FIRST_PROC_INVARIANT	INV_PROC_CALLER

static const char * const invariant_name[NR_INVARIANTS] = {
	[INV_PKRU_PRIVATE] = "PKRU is what the thread itself last set",
	[INV_SIGNAL_PKRU] = "signal handlers start with the default PKRU",
	[INV_RIGHTS_ENFORCED] = "a (re)allocated key grants exactly its rights",
	[INV_ALLOC_EXCLUSIVE] = "a key is never held twice, frees succeed",
	[INV_MAP_MATCHES] = "kernel allocations and smaps match the key map",
	[INV_CHILDREN_CLEAN] = "every forked and exec'd child exits cleanly",
	[INV_ENFORCED] = "an enforced key's page changes only with write rights",
	[INV_PROC_CALLER] = "the caller gets the rights it sets, and keeps them",
	[INV_PROC_QUIET_READER] = "process rights reach a thread that never writes PKRU",
	[INV_PROC_SIGNALLED_READER] = "process rights reach a thread whose handlers write PKRU",
	[INV_PROC_INHERITED] = "new threads and children start with the process rights",
	[INV_PROC_HANDLER] = "handlers start with the default PKRU and the process rights",
	[INV_PROC_ERRORS] = "process-rights calls fail only with the documented errors",
	[INV_STRICT] = "a strict key stays on its pages and is freed only when unmapped",
};

/* Exit codes of forked and exec'd children: what they found wrong. */
enum child_result {
	CHILD_OK = 0,
	CHILD_WRONG_PKRU,
	CHILD_RIGHTS_NOT_INHERITED,
	CHILD_KEY_NOT_INHERITED,
	CHILD_EXEC_FAILED,
	CHILD_EXEC_PKRU_NOT_RESET,
	CHILD_EXEC_KEY_KEPT,
	CHILD_BAD_ARGUMENTS,
	CHILD_PROCESS_RIGHTS_NOT_INHERITED,
	CHILD_PROCESS_CALL_FAILED,
	CHILD_EXEC_PROCESS_KEY_KEPT,
	NR_CHILD_RESULTS
};

static const char * const child_result_name[NR_CHILD_RESULTS] = {
	[CHILD_OK] = "ok",
	[CHILD_WRONG_PKRU] = "PKRU differs from the forking thread's",
	[CHILD_RIGHTS_NOT_INHERITED] = "inherited rights not enforced",
	[CHILD_KEY_NOT_INHERITED] = "inherited key not allocated",
	[CHILD_EXEC_FAILED] = "execve() failed",
	[CHILD_EXEC_PKRU_NOT_RESET] = "exec did not reset PKRU",
	[CHILD_EXEC_KEY_KEPT] = "exec kept a key allocated",
	[CHILD_BAD_ARGUMENTS] = "bad exec-child arguments",
	[CHILD_PROCESS_RIGHTS_NOT_INHERITED] = "PKRU lacks the process rights",
	[CHILD_PROCESS_CALL_FAILED] = "pkey_set_process() failed in the child",
	[CHILD_EXEC_PROCESS_KEY_KEPT] = "pkey_set_process() accepted a key after exec",
};

/*
 * Shared with the process-rights process, which counts its checks and
 * figures here too.
 */
struct tally {
	unsigned long checks[NR_INVARIANTS];
	unsigned long failures[NR_INVARIANTS];
	unsigned long reports;
	/* What the process-rights process did. */
	unsigned long sets, process_allocs, handshakes, threads, forks, execs;
	unsigned long checked_signals, einval, faults;
	/* What the strict-keys process did. */
	unsigned long strict_frees, strict_busy, strict_resets;
};

static struct tally *tally;

/* What the run did, for the closing figures. */
static unsigned long nr_allocs, nr_faults, nr_forks, nr_execs, nr_signals;

static int stop;
/* PKRU of a new program, so the default of signal handlers and exec. */
static uint32_t default_pkru;
#define SELF_EXE		"/proc/self/exe"
/*
 * What the fork worker's children exec: this program, with the PKRU to
 * expect and the key that must be gone.  Formatted before any fork: a
 * child of a threaded process must not use stdio.
 */
static char exec_pkru_arg[NUMBER_ARG_LEN];
static char exec_key_arg[NUMBER_ARG_LEN];
static char * const exec_argv[] = {
	SELF_EXE, EXEC_CHILD_ARG, exec_pkru_arg, exec_key_arg, NULL
};

/*
 * Which worker holds each key: 0 for none.  Only its holder changes a
 * non-zero entry, so a failed claim means the kernel handed out a key
 * that is still allocated.
 */
static int key_holder[NR_PKEYS];

static size_t page;
static char *shared;		/* SHARED_PAGES, faulted on by everyone */

struct key_worker {
	int id;			/* key_holder value, never 0 */
	uint32_t rng;
	uint32_t pkru;		/* what this thread last made PKRU */
	char *pages[NR_PKEYS];	/* one page per key number */
	bool tagged[NR_PKEYS];	/* pages[k] carries key k */
	int held[KEYS_HELD];
	int nr_held;
	unsigned long rounds;	/* finished, read by the main thread */
	pthread_t thread;
};

struct range_worker {
	struct key_worker kw;
	int key;		/* own key, rights: all */
	int shared_key[SHARED_PAGES];
	char *moving;		/* MOVING_PAGES tagged with key, mremap()ed */
};

static struct key_worker pkru_workers[PKRU_THREADS];
static struct key_worker key_workers[KEY_THREADS];
static struct range_worker range_worker;
static struct key_worker fork_worker;
static struct key_worker enforce_worker;
static bool have_enforce;

static void count(unsigned long *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/*
 * Record one check of @inv; print what went wrong for the first
 * failures.  Never from a forked child: another thread may hold the
 * stdio lock.
 */
static __printf(3, 4) bool check(enum invariant inv, bool ok,
				 const char *fmt, ...)
{
	va_list ap;

	count(&tally->checks[inv]);
	if (ok)
		return true;
	count(&tally->failures[inv]);
	if (__atomic_fetch_add(&tally->reports, 1, __ATOMIC_RELAXED) < MAX_REPORTS) {
		va_start(ap, fmt);
		printf("# FAIL [%s] ", invariant_name[inv]);
		vprintf(fmt, ap);
		va_end(ap);
		fflush(stdout);
	}
	return false;
}

static bool stopping(void)
{
	return __atomic_load_n(&stop, __ATOMIC_RELAXED);
}

/* The run lasts until every worker finished a round, however slow. */
static void round_done(struct key_worker *w)
{
	count(&w->rounds);
}

static bool ran_a_round(struct key_worker *w)
{
	return __atomic_load_n(&w->rounds, __ATOMIC_RELAXED);
}

/* xorshift32: cheap, per thread, no locks. */
static uint32_t next_random(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static uint32_t random_rights(uint32_t *state)
{
	return next_random(state) & PKEY_RIGHTS_MASK;
}

/* Any PKRU that keeps key 0, and so stacks and signal frames, usable. */
static uint32_t random_pkru(uint32_t *state)
{
	return next_random(state) & ~PKRU_KEY0_MASK;
}

static void set_pkru(struct key_worker *w, uint32_t pkru)
{
	w->pkru = pkru;
	wrpkru(pkru);
}

static void check_own_pkru(struct key_worker *w, const char *after)
{
	uint32_t now = rdpkru();

	check(INV_PKRU_PRIVATE, now == w->pkru,
	      "worker %d: PKRU 0x%08x after %s, expected 0x%08x\n",
	      w->id, now, after, w->pkru);
}

static uint32_t *probe_word(char *area)
{
	return (uint32_t *)(area + PROBE_OFFSET);
}

/* A fault is the key's own: SIGSEGV, SEGV_PKUERR, the key, the address. */
static bool fault_is_key(int key, const uint32_t *addr)
{
	return last_fault.signo == SIGSEGV && last_fault.code == SEGV_PKUERR &&
	       last_fault.pkey == key && last_fault.addr == addr;
}

/*
 * Read and write @area, which carries @key, and check that exactly what
 * @rights allow goes through and that a refusal names @key.
 */
static void check_rights(struct key_worker *w, char *area, int key,
			 uint32_t rights)
{
	bool may_read = !(rights & PKEY_DISABLE_ACCESS);
	bool may_write = !(rights & PKEY_RIGHTS_MASK);
	uint32_t *word = probe_word(area);
	uint32_t value = 0;
	bool done;

	done = probe_read(word, &value);
	if (!done)
		count(&nr_faults);
	check(INV_RIGHTS_ENFORCED, done == may_read && (done || fault_is_key(key, word)),
	      "worker %d: key %d rights %u: read %s (code %d key %d)\n",
	      w->id, key, rights, done ? "allowed" : "refused",
	      last_fault.code, last_fault.pkey);
	done = probe_write(word, (uint32_t)key);
	if (!done)
		count(&nr_faults);
	check(INV_RIGHTS_ENFORCED, done == may_write && (done || fault_is_key(key, word)),
	      "worker %d: key %d rights %u: write %s (code %d key %d)\n",
	      w->id, key, rights, done ? "allowed" : "refused",
	      last_fault.code, last_fault.pkey);
}

/* Fresh memory at @area with MAP_FIXED, replacing what is there. */
static void *map_anon_fixed(void *area, size_t len)
{
	return mmap(area, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

static char *map_rw(size_t len)
{
	char *area = map_anon(len, PROT_READ | PROT_WRITE);

	if (!area)
		ksft_exit_fail_perror("mmap");
	return area;
}

/* Allocate a key with @rights and claim it in key_holder; -1 if none. */
static int take_key(struct key_worker *w, uint32_t rights)
{
	int key = sys_pkey_alloc(0, rights);
	int nobody = 0;

	if (key < 0) {
		check(INV_ALLOC_EXCLUSIVE, errno == ENOSPC,
		      "worker %d: pkey_alloc: %s\n", w->id, strerror(errno));
		return -1;
	}
	count(&nr_allocs);
	if (!check(INV_ALLOC_EXCLUSIVE, key > DEFAULT_PKEY && key < NR_PKEYS,
		   "worker %d: pkey_alloc gave key %d\n", w->id, key))
		return -1;
	check(INV_ALLOC_EXCLUSIVE,
	      __atomic_compare_exchange_n(&key_holder[key], &nobody, w->id, false,
					  __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST),
	      "worker %d: pkey_alloc gave key %d, held by worker %d\n",
	      w->id, key, nobody);
	/* pkey_alloc() sets the new key's rights in this thread only. */
	w->pkru = pkru_with_rights(w->pkru, key, rights);
	check_own_pkru(w, "pkey_alloc");
	return key;
}

static void drop_key(struct key_worker *w, int key)
{
	__atomic_store_n(&key_holder[key], 0, __ATOMIC_SEQ_CST);
	check(INV_ALLOC_EXCLUSIVE, sys_pkey_free(key) == 0,
	      "worker %d: pkey_free(%d): %s\n", w->id, key, strerror(errno));
	check_own_pkru(w, "pkey_free");
}

static bool tag(char *area, size_t len, int key)
{
	return sys_pkey_mprotect(area, len, PROT_READ | PROT_WRITE, key) == 0;
}

/*
 * Write @area through key 0, so that it is mapped and its translation
 * may be cached, then give it @key: the new key must apply at once all
 * the same.
 */
static bool tag_present_page(struct key_worker *w, char *area, int key)
{
	check(INV_RIGHTS_ENFORCED, probe_write(probe_word(area), 0),
	      "worker %d: write to a key 0 page refused (code %d key %d)\n",
	      w->id, last_fault.code, last_fault.pkey);
	return check(INV_ALLOC_EXCLUSIVE, tag(area, page, key),
		     "worker %d: pkey_mprotect(key %d): %s\n", w->id, key, strerror(errno));
}

/* Back to key 0 and to @key again, the page staying mapped throughout. */
static bool retag_through_key0(struct key_worker *w, char *area, int key)
{
	if (!check(INV_ALLOC_EXCLUSIVE, tag(area, page, DEFAULT_PKEY),
		   "worker %d: pkey_mprotect(key 0): %s\n", w->id, strerror(errno)))
		return false;
	return tag_present_page(w, area, key);
}

/*
 * Give pages[key] the key, unless it kept it from an earlier holding of
 * the same key number: then the check is on a page tagged before the
 * key was freed and handed out again.
 */
static void use_key_page(struct key_worker *w, int key, uint32_t rights)
{
	char *area;

	if (w->tagged[key] && next_random(&w->rng) % REMAP_EVERY == 0) {
		munmap(w->pages[key], page);
		w->pages[key] = map_rw(page);
		w->tagged[key] = false;
	}
	area = w->pages[key];
	if (!w->tagged[key])
		w->tagged[key] = tag_present_page(w, area, key);
	else if (next_random(&w->rng) & 1)
		w->tagged[key] = retag_through_key0(w, area, key);
	else
		/* Drop the PTEs: the next accesses fault the page in again. */
		madvise(area, page, MADV_DONTNEED);
	if (!w->tagged[key])
		return;
	check_rights(w, area, key, rights);
	/* New rights through WRPKRU alone apply at once. */
	rights = random_rights(&w->rng);
	set_pkru(w, pkru_with_rights(w->pkru, key, rights));
	check_rights(w, area, key, rights);
	check_own_pkru(w, "faults");
}

static void key_round(struct key_worker *w)
{
	uint32_t rights = random_rights(&w->rng);
	int key, victim;

	if (w->nr_held == KEYS_HELD) {
		victim = next_random(&w->rng) % KEYS_HELD;
		drop_key(w, w->held[victim]);
		w->held[victim] = w->held[--w->nr_held];
	}
	key = take_key(w, rights);
	if (key < 0) {
		sched_yield();
		return;
	}
	w->held[w->nr_held++] = key;
	use_key_page(w, key, rights);
}

static void init_worker(struct key_worker *w, int id)
{
	int key;

	w->id = id;
	w->rng = (uint32_t)(time(NULL) ^ (id * 0x9e3779b9u));
	if (!w->rng)
		w->rng = 1;
	for (key = 0; key < NR_PKEYS; key++)
		w->pages[key] = map_rw(page);
}

/* pkey_alloc(PKEY_ALLOC_ENFORCE): EINVAL where the kernel does not know it. */
static bool kernel_has_enforce(void)
{
	int key = sys_pkey_alloc(PKEY_ALLOC_ENFORCE, PKEY_ALLOW_ALL);

	if (key > 0)
		sys_pkey_free(key);
	return key > 0;
}

static void *key_thread(void *arg)
{
	struct key_worker *w = arg;

	w->pkru = rdpkru();
	while (!stopping()) {
		key_round(w);
		round_done(w);
	}
	return NULL;
}

/* Keys and rights of other threads may make these fault: that is the load. */
static void touch_shared(struct key_worker *w)
{
	uint32_t *word = probe_word(shared + (next_random(&w->rng) % SHARED_PAGES) * page);
	/* Written back as read; 0 when the read faulted. */
	uint32_t value = 0;

	if (!probe_read(word, &value))
		count(&nr_faults);
	if (!probe_write(word, value))
		count(&nr_faults);
}

static void *pkru_thread(void *arg)
{
	struct key_worker *w = arg;
	int spin;

	w->pkru = rdpkru();
	while (!stopping()) {
		set_pkru(w, random_pkru(&w->rng));
		for (spin = 0; spin < PKRU_SPIN; spin++)
			signal_fence();
		check_own_pkru(w, "a spin");
		sched_yield();
		check_own_pkru(w, "sched_yield");
		touch_shared(w);
		check_own_pkru(w, "faults on the shared range");
		/* A system call that walks the range other threads retag. */
		madvise(shared, SHARED_PAGES * page, MADV_WILLNEED);
		check_own_pkru(w, "madvise");
		round_done(w);
	}
	return NULL;
}

/* Retag, reprotect, zap or fault one random part of the shared range. */
static void mutate_shared(struct range_worker *r)
{
	struct key_worker *w = &r->kw;
	unsigned int first = next_random(&w->rng) % SHARED_PAGES;
	unsigned int n = 1 + next_random(&w->rng) % (SHARED_PAGES - first);
	char *area = shared + first * page;
	int key = (next_random(&w->rng) & 1) ? r->key : DEFAULT_PKEY;
	unsigned int i;

	switch (next_random(&w->rng) % 3) {
	case 0:
		if (!check(INV_MAP_MATCHES, tag(area, n * page, key),
			   "pkey_mprotect(shared, key %d): %s\n", key, strerror(errno)))
			return;
		for (i = first; i < first + n; i++)
			r->shared_key[i] = key;
		break;
	case 1:
		/* mprotect() keeps each page's key. */
		check(INV_MAP_MATCHES,
		      mprotect(area, n * page, PROT_READ | PROT_WRITE) == 0,
		      "mprotect(shared): %s\n", strerror(errno));
		break;
	default:
		madvise(area, n * page, MADV_DONTNEED);
		break;
	}
	touch_shared(w);
}

/* mremap() without MREMAP_FIXED: the key must travel with the pages. */
static void move_moving(struct range_worker *r)
{
	struct key_worker *w = &r->kw;
	size_t len = MOVING_PAGES * page;
	void *to;

	to = mremap(r->moving, len, len, MREMAP_MAYMOVE);
	if (!check(INV_MAP_MATCHES, to != MAP_FAILED, "mremap: %s\n", strerror(errno)))
		return;
	r->moving = to;
	check_rights(w, r->moving, r->key, PKEY_ALLOW_ALL);
	/* Growing in place or moving: either way still one keyed mapping. */
	to = mremap(r->moving, len, len + page, MREMAP_MAYMOVE);
	if (!check(INV_MAP_MATCHES, to != MAP_FAILED, "mremap(grow): %s\n", strerror(errno)))
		return;
	r->moving = to;
	check(INV_MAP_MATCHES, smaps_pkey_at(r->moving + len) == r->key,
	      "grown mremap() tail has key %d, expected %d\n",
	      smaps_pkey_at(r->moving + len), r->key);
	to = mremap(r->moving, len + page, len, 0);
	check(INV_MAP_MATCHES, to == r->moving, "mremap(shrink): %s\n", strerror(errno));
}

static void *range_thread(void *arg)
{
	struct range_worker *r = arg;
	struct key_worker *w = &r->kw;

	w->pkru = rdpkru();
	r->key = take_key(w, PKEY_ALLOW_ALL);
	if (r->key < 0 || !tag(r->moving, MOVING_PAGES * page, r->key)) {
		check(INV_ALLOC_EXCLUSIVE, false, "range worker: no key to start with\n");
		/* Failed already: nothing to wait for. */
		round_done(w);
		return NULL;
	}
	while (!stopping()) {
		mutate_shared(r);
		move_moving(r);
		check_own_pkru(w, "range changes");
		round_done(w);
	}
	return NULL;
}

/* In a forked child: only raw system calls, report by exit code. */
static int forked_child_checks(struct key_worker *w, int key, bool exec)
{
	uint32_t rights = pkru_key_rights(w->pkru, key);
	uint32_t *word = probe_word(w->pages[key]);
	static char * const envp[] = { NULL };
	uint32_t value;

	if (rdpkru() != w->pkru)
		return CHILD_WRONG_PKRU;
	if (probe_read(word, &value) == !!(rights & PKEY_DISABLE_ACCESS))
		return CHILD_RIGHTS_NOT_INHERITED;
	if (exec) {
		execve(SELF_EXE, exec_argv, envp);
		return CHILD_EXEC_FAILED;
	}
	/* The child has its own copy of the allocation map. */
	if (sys_pkey_free(key))
		return CHILD_KEY_NOT_INHERITED;
	return CHILD_OK;
}

static void fork_round(struct key_worker *w, int key, bool exec)
{
	pid_t pid;
	int status;

	set_pkru(w, random_pkru(&w->rng));
	pid = fork();
	if (pid == 0)
		_exit(forked_child_checks(w, key, exec));
	if (!check(INV_CHILDREN_CLEAN, pid > 0, "fork: %s\n", strerror(errno)))
		return;
	count(&nr_forks);
	if (exec)
		count(&nr_execs);
	check_own_pkru(w, "fork");
	if (!check(INV_CHILDREN_CLEAN, waitpid(pid, &status, 0) == pid,
		   "waitpid: %s\n", strerror(errno)))
		return;
	check(INV_CHILDREN_CLEAN, WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK,
	      "child %s: %s%s (status 0x%x)\n", exec ? "exec" : "fork",
	      WIFSIGNALED(status) ? "killed by " : "",
	      WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) :
	      WEXITSTATUS(status) < NR_CHILD_RESULTS ?
	      child_result_name[WEXITSTATUS(status)] : "unknown exit code", status);
	/* The child's pkey_free() was of its own copy. */
	check(INV_ALLOC_EXCLUSIVE, tag(w->pages[key], page, key),
	      "key %d gone from the parent after the child freed it\n", key);
}

static void *fork_thread(void *arg)
{
	struct key_worker *w = arg;
	unsigned long round = 0;
	int key;

	w->pkru = rdpkru();
	key = take_key(w, PKEY_ALLOW_ALL);
	if (key < 0 || !tag(w->pages[key], page, key)) {
		check(INV_ALLOC_EXCLUSIVE, false, "fork worker: no key to start with\n");
		/* Failed already: nothing to wait for. */
		round_done(w);
		return NULL;
	}
	w->tagged[key] = true;
	snprintf(exec_pkru_arg, sizeof(exec_pkru_arg), "0x%08x", default_pkru);
	snprintf(exec_key_arg, sizeof(exec_key_arg), "%d", key);
	while (!stopping()) {
		fork_round(w, key, ++round % EXEC_EVERY == 0);
		round_done(w);
	}
	return NULL;
}

/*
 * One round of the enforce worker on @key's page: under random rights,
 * a discard and a write through /proc/self/mem (@mem) must both work
 * with write rights and both be refused without, and the page must then
 * hold what they left.
 */
static void enforce_round(struct key_worker *w, int key, int mem,
			  uint32_t *expected)
{
	uint32_t rights = random_rights(&w->rng);
	uint32_t *word = probe_word(w->pages[key]);
	uint32_t value = next_random(&w->rng);
	bool denied = rights != PKEY_ALLOW_ALL;
	int ret, err;

	set_pkru(w, pkru_with_rights(w->pkru, key, rights));
	ret = madvise(w->pages[key], page, MADV_DONTNEED);
	err = errno;
	check(INV_ENFORCED, denied ? ret == -1 && err == EPERM : ret == 0,
	      "rights %u: madvise(MADV_DONTNEED) gave %d (%s)\n", rights, ret,
	      strerror(err));
	/* The offset is the address: 64-bit off_t, above 2 GiB on i386 too. */
	ret = (int)pwrite64(mem, &value, sizeof(value), (off64_t)(uintptr_t)word);
	err = errno;
	check(INV_ENFORCED, denied ? ret == -1 && err == EIO : ret == sizeof(value),
	      "rights %u: /proc/self/mem write gave %d (%s)\n", rights, ret,
	      strerror(err));
	if (!denied)
		*expected = value;
	set_pkru(w, pkru_with_rights(w->pkru, key, PKEY_ALLOW_ALL));
	check(INV_ENFORCED, READ_ONCE(*word) == *expected,
	      "rights %u: page holds 0x%08x, expected 0x%08x\n", rights,
	      READ_ONCE(*word), *expected);
	check_own_pkru(w, "enforce round");
}

static void *enforce_thread(void *arg)
{
	struct key_worker *w = arg;
	uint32_t expected = ENFORCED_MARKER;
	int key, mem, nobody = 0;

	w->pkru = rdpkru();
	key = sys_pkey_alloc(PKEY_ALLOC_ENFORCE, PKEY_ALLOW_ALL);
	mem = open("/proc/self/mem", O_RDWR);
	if (!check(INV_ENFORCED, key > DEFAULT_PKEY && key < NR_PKEYS && mem >= 0 &&
		   __atomic_compare_exchange_n(&key_holder[key], &nobody, w->id,
					       false, __ATOMIC_SEQ_CST,
					       __ATOMIC_SEQ_CST) &&
		   tag(w->pages[key], page, key),
		   "enforce worker: key %d, /proc/self/mem %d: %s\n", key, mem,
		   strerror(errno))) {
		round_done(w);
		return NULL;
	}
	count(&nr_allocs);
	WRITE_ONCE(*probe_word(w->pages[key]), expected);
	while (!stopping()) {
		enforce_round(w, key, mem, &expected);
		round_done(w);
	}
	close(mem);
	return NULL;
}

static void signal_handler(int sig)
{
	static __thread uint32_t rng = 1;
	uint32_t entry = rdpkru();

	count(&nr_signals);
	check(INV_SIGNAL_PKRU, entry == default_pkru,
	      "signal handler entered with PKRU 0x%08x\n", entry);
	/* sigreturn must put back the interrupted PKRU, whatever this does. */
	wrpkru(random_pkru(&rng));
}

static void signal_workers(void)
{
	int i;

	for (i = 0; i < PKRU_THREADS; i++)
		pthread_kill(pkru_workers[i].thread, SIGUSR1);
	for (i = 0; i < KEY_THREADS; i++)
		pthread_kill(key_workers[i].thread, SIGUSR1);
	pthread_kill(range_worker.kw.thread, SIGUSR1);
	pthread_kill(fork_worker.thread, SIGUSR1);
	if (have_enforce)
		pthread_kill(enforce_worker.thread, SIGUSR1);
}

static bool every_worker_ran(void)
{
	int i;

	for (i = 0; i < PKRU_THREADS; i++)
		if (!ran_a_round(&pkru_workers[i]))
			return false;
	for (i = 0; i < KEY_THREADS; i++)
		if (!ran_a_round(&key_workers[i]))
			return false;
	if (have_enforce && !ran_a_round(&enforce_worker))
		return false;
	return ran_a_round(&range_worker.kw) && ran_a_round(&fork_worker);
}

static void start(struct key_worker *w, void *(*fn)(void *), void *arg)
{
	if (pthread_create(&w->thread, NULL, fn, arg))
		ksft_exit_fail_msg("pthread_create failed\n");
}

static void run_workers(int duration)
{
	struct timespec period = { .tv_nsec = SIGNAL_PERIOD_NS };
	time_t end = time(NULL) + duration;
	int i, id = 1;

	for (i = 0; i < PKRU_THREADS; i++) {
		init_worker(&pkru_workers[i], id++);
		start(&pkru_workers[i], pkru_thread, &pkru_workers[i]);
	}
	for (i = 0; i < KEY_THREADS; i++) {
		init_worker(&key_workers[i], id++);
		start(&key_workers[i], key_thread, &key_workers[i]);
	}
	init_worker(&range_worker.kw, id++);
	range_worker.moving = map_rw(MOVING_PAGES * page);
	start(&range_worker.kw, range_thread, &range_worker);
	init_worker(&fork_worker, id++);
	start(&fork_worker, fork_thread, &fork_worker);
	if (have_enforce) {
		init_worker(&enforce_worker, id++);
		start(&enforce_worker, enforce_thread, &enforce_worker);
	}

	while (time(NULL) < end || !every_worker_ran()) {
		signal_workers();
		nanosleep(&period, NULL);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < PKRU_THREADS; i++)
		pthread_join(pkru_workers[i].thread, NULL);
	for (i = 0; i < KEY_THREADS; i++)
		pthread_join(key_workers[i].thread, NULL);
	pthread_join(range_worker.kw.thread, NULL);
	pthread_join(fork_worker.thread, NULL);
	if (have_enforce)
		pthread_join(enforce_worker.thread, NULL);
}

/*
 * Process-wide rights: pkey_set_process() and PKEY_ALLOC_PROCESS.
 *
 * They change a key's rights in every thread of the process, so they
 * run in a process of their own, forked before the workers above start,
 * whose threads never compare their whole PKRU with what they wrote:
 *  - owner threads allocate keys (half with PKEY_ALLOC_PROCESS), give
 *    them process rights, tag pages with them and probe those, free them
 *    (sometimes checking that the freed key is refused), and after each
 *    change hand the key and its rights to every reader;
 *  - reader threads answer with what RDPKRU says about that key: one is
 *    never signalled, the other's handlers write PKRU before sigreturn;
 *  - a spawner creates threads and forks children (half exec) and checks
 *    what they start with;
 *  - a tagger allocates plain keys and faults on them, and tags a
 *    scratch page with any key;
 *  - a fuzzer calls both with arguments that are never all valid;
 *  - the main thread signals everybody, some signals checked.
 * The owners are the only callers that may succeed, each on its own
 * keys; with the state lock held exclusively, no key changes hands or
 * rights, so a new thread, a fork child and a signal handler must start
 * with exactly the PKRU the spec gives them.
 */
#define PR_OWNERS		2
#define PR_READERS		2
/* Reader that no signal and no handler ever touches. */
#define PR_QUIET_READER		0
/* Iterations a reader spins in user space between two polls. */
#define PR_READER_SPIN		256
/* One in this many frees checks that the key is then refused. */
#define PR_PROBE_FREE_EVERY	4
/* One in this many signal rounds also sends a checked signal. */
#define PR_CHECKED_SIGNAL_EVERY	4
/* Unchecked threads a spawner round creates besides the checked one. */
#define PR_EXTRA_THREADS	2
/* A checked signal not handled in this long is not checked again. */
#define PR_HANDLER_WAIT_SECS	10
/* pr_rights[] entry of a key without process rights. */
#define PR_NONE			(-1)
/* pr_holder[] entry of the execute-only key: never handed out. */
#define PR_XONLY_HOLDER		INT_MAX
#define EXEC_PROCESS_CHILD_ARG	"--pkey-stress-exec-process-child"
/* Worker ids in the process-rights process start here. */
#define PR_FIRST_ID		11

struct pr_mailbox {
	int seq;		/* request number, set by the owner */
	int ack;		/* last request answered, set by the reader */
	int key;
	uint32_t rights;
};

struct pr_owner {
	struct key_worker kw;
	uint32_t rights[NR_PKEYS];	/* what its PKRU gives each held key */
	struct pr_mailbox mbox[PR_READERS];
};

struct pr_reader {
	struct key_worker kw;
	int index;		/* its mailbox in every owner */
	enum invariant inv;
};

static struct pr_owner pr_owners[PR_OWNERS];
static struct pr_reader pr_readers[PR_READERS];
static struct key_worker pr_spawner, pr_tagger, pr_fuzzer;
static int pr_readers_stop;

/*
 * The kernel's state as the owners and the tagger changed it: process
 * rights of each key (PR_NONE: none) and the worker holding it.  Each
 * change is made with the call that makes it, under the state lock
 * held shared; a check that needs it to stand still holds it
 * exclusively.
 */
static int pr_rights[NR_PKEYS];
static int pr_holder[NR_PKEYS];
static int pr_xonly_key = PR_NONE;
static int pr_lock_users;	/* shared holders, -1: held exclusively */
static int pr_lock_waiters;	/* threads waiting to hold it exclusively */

/* Checked signal: the main thread arms a number, one handler claims it. */
static int pr_handler_seq;
static uint32_t pr_handler_pkru;

/* What the spawner's exec'd children get: formatted before the fork. */
static char pr_exec_pkru_arg[NUMBER_ARG_LEN];
static char pr_exec_key_arg[NUMBER_ARG_LEN];
static char * const pr_exec_argv[] = {
	SELF_EXE, EXEC_PROCESS_CHILD_ARG, pr_exec_pkru_arg, pr_exec_key_arg, NULL
};

static long sys_pkey_set_process(long key, unsigned long rights,
				 unsigned long flags)
{
	return syscall(__NR_pkey_set_process, key, rights, flags);
}

/*
 * The documented probe: EINVAL if the kernel has the call, ENOSYS if
 * not.  @why says which, for the SKIP lines.
 */
static bool have_pkey_set_process(char *why, size_t len)
{
	long ret;

	errno = 0;
	ret = sys_pkey_set_process(-1, 0, 0);
	if (ret == -1 && errno == EINVAL)
		return true;
	if (ret == -1 && errno == ERRNO_NO_SYSCALL)
		snprintf(why, len, "kernel has no pkey_set_process()");
	else
		snprintf(why, len, "pkey_set_process(-1, 0, 0) gave %ld (%s), not EINVAL",
			 ret, strerror(errno));
	return false;
}

static void pr_lock_shared(void)
{
	int users;

	for (;;) {
		users = __atomic_load_n(&pr_lock_users, __ATOMIC_ACQUIRE);
		if (!__atomic_load_n(&pr_lock_waiters, __ATOMIC_ACQUIRE) && users >= 0 &&
		    __atomic_compare_exchange_n(&pr_lock_users, &users, users + 1, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		sched_yield();
	}
}

static void pr_unlock_shared(void)
{
	__atomic_fetch_sub(&pr_lock_users, 1, __ATOMIC_RELEASE);
}

static void pr_lock_exclusive(void)
{
	int none = 0;

	__atomic_fetch_add(&pr_lock_waiters, 1, __ATOMIC_ACQUIRE);
	while (!__atomic_compare_exchange_n(&pr_lock_users, &none, -1, false,
					    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		none = 0;
		sched_yield();
	}
	__atomic_fetch_sub(&pr_lock_waiters, 1, __ATOMIC_RELEASE);
}

static void pr_unlock_exclusive(void)
{
	__atomic_store_n(&pr_lock_users, 0, __ATOMIC_RELEASE);
}

/* @pkru with the process rights of every key that has them. */
static uint32_t with_process_rights(uint32_t pkru)
{
	int key, rights;

	for (key = DEFAULT_PKEY + 1; key < NR_PKEYS; key++) {
		rights = __atomic_load_n(&pr_rights[key], __ATOMIC_RELAXED);
		if (rights != PR_NONE)
			pkru = pkru_with_rights(pkru, key, rights);
	}
	return pkru;
}

static void pr_set_rights(int key, int rights)
{
	__atomic_store_n(&pr_rights[key], rights, __ATOMIC_RELAXED);
}

/* Claim a key pkey_alloc() returned; state lock held shared. */
static bool pr_claim(struct key_worker *w, int key)
{
	int nobody = 0;

	if (!check(INV_ALLOC_EXCLUSIVE, key > DEFAULT_PKEY && key < NR_PKEYS,
		   "worker %d: pkey_alloc gave key %d\n", w->id, key))
		return false;
	return check(INV_ALLOC_EXCLUSIVE,
		     __atomic_compare_exchange_n(&pr_holder[key], &nobody, w->id, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST),
		     "worker %d: pkey_alloc gave key %d, held by worker %d\n",
		     w->id, key, nobody);
}

/* State lock held shared or exclusively. */
static void pr_free(struct key_worker *w, int key)
{
	pr_set_rights(key, PR_NONE);
	__atomic_store_n(&pr_holder[key], 0, __ATOMIC_SEQ_CST);
	check(INV_ALLOC_EXCLUSIVE, sys_pkey_free(key) == 0,
	      "worker %d: pkey_free(%d): %s\n", w->id, key, strerror(errno));
}

/* The rights are valid, the key is free: the call must refuse it. */
static void pr_check_refused(struct key_worker *w, int key, const char *what)
{
	uint32_t rights = random_rights(&w->rng);
	long ret = sys_pkey_set_process(key, rights, 0);

	if (ret == -1 && errno == EINVAL)
		count(&tally->einval);
	check(INV_PROC_ERRORS, ret == -1 && errno == EINVAL,
	      "worker %d: pkey_set_process(%s key %d, %u, 0) gave %ld (%s), not EINVAL\n",
	      w->id, what, key, rights, ret, strerror(errno));
}

/* Hand @key and @rights to every reader and wait for all answers. */
static void pr_handshake(struct pr_owner *o, int key, uint32_t rights)
{
	struct pr_mailbox *mb;
	int i;

	for (i = 0; i < PR_READERS; i++) {
		mb = &o->mbox[i];
		mb->key = key;
		mb->rights = rights;
		__atomic_store_n(&mb->seq, mb->seq + 1, __ATOMIC_RELEASE);
	}
	for (i = 0; i < PR_READERS; i++) {
		mb = &o->mbox[i];
		while (__atomic_load_n(&mb->ack, __ATOMIC_ACQUIRE) != mb->seq)
			sched_yield();
	}
	count(&tally->handshakes);
}

/*
 * Every held key has the rights this thread was given last for it:
 * nothing another thread does to other keys changes them.
 */
static void pr_check_own_rights(struct pr_owner *o, const char *after)
{
	struct key_worker *w = &o->kw;
	uint32_t pkru = rdpkru();
	int i, key;

	for (i = 0; i < w->nr_held; i++) {
		key = w->held[i];
		check(INV_PROC_CALLER, pkru_key_rights(pkru, key) == o->rights[key],
		      "owner %d: key %d has rights %u after %s, expected %u (PKRU 0x%08x)\n",
		      w->id, key, pkru_key_rights(pkru, key), after, o->rights[key], pkru);
	}
}

/* Tag the key's page if it is not tagged yet, and probe every access. */
static void pr_use_page(struct pr_owner *o, int key)
{
	struct key_worker *w = &o->kw;
	char *area = w->pages[key];

	if (!w->tagged[key])
		w->tagged[key] = tag_present_page(w, area, key);
	else if (next_random(&w->rng) & 1)
		madvise(area, page, MADV_DONTNEED);
	if (w->tagged[key])
		check_rights(w, area, key, o->rights[key]);
}

static void pr_owner_drop(struct pr_owner *o)
{
	struct key_worker *w = &o->kw;
	int victim = next_random(&w->rng) % w->nr_held;
	int key = w->held[victim], other;

	w->held[victim] = w->held[--w->nr_held];
	if (next_random(&w->rng) % PR_PROBE_FREE_EVERY) {
		pr_lock_shared();
		pr_free(w, key);
		pr_unlock_shared();
		return;
	}
	/* Nobody can allocate the key again before it is refused. */
	pr_lock_exclusive();
	pr_free(w, key);
	pr_check_refused(w, key, "freed");
	other = DEFAULT_PKEY + 1 + next_random(&w->rng) % NR_USER_PKEYS;
	if (!__atomic_load_n(&pr_holder[other], __ATOMIC_SEQ_CST))
		pr_check_refused(w, other, "unallocated");
	pr_unlock_exclusive();
}

static void pr_owner_take(struct pr_owner *o)
{
	struct key_worker *w = &o->kw;
	uint32_t rights = random_rights(&w->rng);
	bool process = next_random(&w->rng) & 1;
	bool claimed = false;
	uint32_t pkru;
	int key, err;

	pr_lock_shared();
	key = sys_pkey_alloc(process ? PKEY_ALLOC_PROCESS : 0, rights);
	err = errno;
	if (key >= 0) {
		claimed = pr_claim(w, key);
		if (claimed && process)
			pr_set_rights(key, rights);
	}
	pr_unlock_shared();
	if (key < 0) {
		check(INV_PROC_ERRORS, err == ENOSPC || (process && err == ENOMEM),
		      "owner %d: pkey_alloc(%s, %u): %s\n", w->id,
		      process ? "PKEY_ALLOC_PROCESS" : "0", rights, strerror(err));
		sched_yield();
		return;
	}
	if (!claimed)
		return;
	if (process)
		count(&tally->process_allocs);
	w->held[w->nr_held++] = key;
	o->rights[key] = rights;
	pkru = rdpkru();
	check(INV_PROC_CALLER, pkru_key_rights(pkru, key) == rights,
	      "owner %d: pkey_alloc(%s, %u) gave key %d rights %u in the caller\n", w->id,
	      process ? "PKEY_ALLOC_PROCESS" : "0", rights, key, pkru_key_rights(pkru, key));
	pr_use_page(o, key);
	if (process)
		pr_handshake(o, key, rights);
}

static void pr_owner_set(struct pr_owner *o)
{
	struct key_worker *w = &o->kw;
	int key = w->held[next_random(&w->rng) % w->nr_held];
	uint32_t rights = random_rights(&w->rng);
	uint32_t pkru;
	long ret;
	int err;

	pr_lock_shared();
	ret = sys_pkey_set_process(key, rights, 0);
	err = errno;
	if (!ret)
		pr_set_rights(key, rights);
	pr_unlock_shared();
	if (ret && err == ENOMEM) {
		/* Documented, and nothing changed. */
		count(&tally->checks[INV_PROC_ERRORS]);
		return;
	}
	if (!check(INV_PROC_ERRORS, !ret, "owner %d: pkey_set_process(%d, %u, 0): %s\n",
		   w->id, key, rights, strerror(err)))
		return;
	count(&tally->sets);
	o->rights[key] = rights;
	pkru = rdpkru();
	check(INV_PROC_CALLER, pkru_key_rights(pkru, key) == rights,
	      "owner %d: pkey_set_process(%d, %u, 0) left rights %u in the caller\n",
	      w->id, key, rights, pkru_key_rights(pkru, key));
	pr_use_page(o, key);
	pr_handshake(o, key, rights);
}

static void *pr_owner_thread(void *arg)
{
	struct pr_owner *o = arg;
	struct key_worker *w = &o->kw;

	while (!stopping()) {
		if (w->nr_held == KEYS_HELD)
			pr_owner_drop(o);
		if (!w->nr_held || next_random(&w->rng) % 3 == 0)
			pr_owner_take(o);
		else
			pr_owner_set(o);
		pr_check_own_rights(o, "a round");
		round_done(w);
	}
	return NULL;
}

/*
 * Answer every request: after the owner's call returned, this thread
 * must have the rights without writing PKRU itself.  Between polls it
 * spins in user space (so it is running when the rights change),
 * yields or makes a system call (so it gets them on the way back).
 */
static void *pr_reader_thread(void *arg)
{
	struct pr_reader *r = arg;
	struct key_worker *w = &r->kw;
	struct pr_mailbox *mb;
	uint32_t pkru;
	int i, spin, seq;

	while (!__atomic_load_n(&pr_readers_stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < PR_OWNERS; i++) {
			mb = &pr_owners[i].mbox[r->index];
			seq = __atomic_load_n(&mb->seq, __ATOMIC_ACQUIRE);
			if (seq == __atomic_load_n(&mb->ack, __ATOMIC_RELAXED))
				continue;
			pkru = rdpkru();
			check(r->inv, pkru_key_rights(pkru, mb->key) == mb->rights,
			      "reader %d: key %d has rights %u, the process rights are %u (PKRU 0x%08x)\n",
			      w->id, mb->key, pkru_key_rights(pkru, mb->key), mb->rights, pkru);
			__atomic_store_n(&mb->ack, seq, __ATOMIC_RELEASE);
		}
		switch (next_random(&w->rng) % 3) {
		case 0:
			for (spin = 0; spin < PR_READER_SPIN; spin++)
				signal_fence();
			break;
		case 1:
			sched_yield();
			break;
		default:
			syscall(SYS_getppid);
			break;
		}
		round_done(w);
	}
	return NULL;
}

static void *pr_new_thread(void *arg)
{
	uint32_t *start_pkru = arg;

	*start_pkru = rdpkru();
	return NULL;
}

static void *pr_extra_thread(void *arg)
{
	sched_yield();
	return NULL;
}

/* A key with process rights, and new rights for it; PR_NONE if none. */
static int pr_any_process_key(struct key_worker *w, uint32_t *rights)
{
	int first = next_random(&w->rng) % NR_PKEYS, i, key;

	for (i = 0; i < NR_PKEYS; i++) {
		key = (first + i) % NR_PKEYS;
		if (__atomic_load_n(&pr_rights[key], __ATOMIC_RELAXED) != PR_NONE) {
			*rights = random_rights(&w->rng);
			return key;
		}
	}
	return PR_NONE;
}

/*
 * A new thread starts with the creator's PKRU, but with the process
 * rights for every key that has them: the creator scribbles over its
 * own PKRU first so the two differ.
 */
static void pr_spawn_thread(struct key_worker *w)
{
	pthread_t threads[PR_EXTRA_THREADS], thread;
	uint32_t expected, got = 0;
	int i, n = 0;
	bool made;

	pr_lock_exclusive();
	set_pkru(w, random_pkru(&w->rng));
	expected = with_process_rights(w->pkru);
	made = !pthread_create(&thread, NULL, pr_new_thread, &got);
	if (made)
		pthread_join(thread, NULL);
	pr_unlock_exclusive();
	if (!check(INV_PROC_INHERITED, made, "pthread_create failed\n"))
		return;
	count(&tally->threads);
	check(INV_PROC_INHERITED, got == expected,
	      "new thread started with PKRU 0x%08x, expected 0x%08x (creator 0x%08x)\n",
	      got, expected, w->pkru);
	/* Threads that come and go while the rights change: just load. */
	for (i = 0; i < PR_EXTRA_THREADS; i++)
		if (!pthread_create(&threads[n], NULL, pr_extra_thread, NULL))
			n++;
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
}

/* In a forked child: only raw system calls, report by exit code. */
static int pr_forked_child(uint32_t expected, int key, uint32_t rights, bool exec)
{
	static char * const envp[] = { NULL };

	if (rdpkru() != expected)
		return CHILD_PROCESS_RIGHTS_NOT_INHERITED;
	if (exec) {
		execve(SELF_EXE, pr_exec_argv, envp);
		return CHILD_EXEC_FAILED;
	}
	if (key == PR_NONE)
		return CHILD_OK;
	/* The child has its own copy of the key and its process rights. */
	if (sys_pkey_set_process(key, rights, 0))
		return CHILD_PROCESS_CALL_FAILED;
	if (pkru_key_rights(rdpkru(), key) != rights)
		return CHILD_PROCESS_RIGHTS_NOT_INHERITED;
	return CHILD_OK;
}

static void pr_fork(struct key_worker *w, bool exec)
{
	uint32_t expected, rights = 0;
	int status, key;
	pid_t pid;

	pr_lock_exclusive();
	set_pkru(w, random_pkru(&w->rng));
	expected = with_process_rights(w->pkru);
	key = pr_any_process_key(w, &rights);
	snprintf(pr_exec_key_arg, sizeof(pr_exec_key_arg), "%d", key);
	pid = fork();
	if (pid == 0)
		_exit(pr_forked_child(expected, key, rights, exec));
	pr_unlock_exclusive();
	if (!check(INV_PROC_INHERITED, pid > 0, "fork: %s\n", strerror(errno)))
		return;
	count(exec ? &tally->execs : &tally->forks);
	if (!check(INV_PROC_INHERITED, waitpid(pid, &status, 0) == pid,
		   "waitpid: %s\n", strerror(errno)))
		return;
	check(INV_PROC_INHERITED, WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK,
	      "child %s (key %d): %s%s (status 0x%x)\n", exec ? "exec" : "fork", key,
	      WIFSIGNALED(status) ? "killed by " : "",
	      WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) :
	      WEXITSTATUS(status) < NR_CHILD_RESULTS ?
	      child_result_name[WEXITSTATUS(status)] : "unknown exit code", status);
}

static void *pr_spawner_thread(void *arg)
{
	struct key_worker *w = arg;
	unsigned long round = 0;

	snprintf(pr_exec_pkru_arg, sizeof(pr_exec_pkru_arg), "0x%08x", default_pkru);
	while (!stopping()) {
		pr_spawn_thread(w);
		pr_fork(w, ++round % EXEC_EVERY == 0);
		round_done(w);
	}
	return NULL;
}

/*
 * Plain keys beside the process ones: allocate, tag, change rights with
 * WRPKRU and fault; and tag a scratch page with any key, which must
 * either work or be EINVAL.
 */
static void pr_tagger_round(struct key_worker *w, char *scratch)
{
	uint32_t rights = random_rights(&w->rng), value = 0;
	long key, ret;
	int victim;

	if (w->nr_held == KEYS_HELD) {
		victim = next_random(&w->rng) % KEYS_HELD;
		pr_lock_shared();
		pr_free(w, w->held[victim]);
		pr_unlock_shared();
		w->held[victim] = w->held[--w->nr_held];
	}
	pr_lock_shared();
	key = sys_pkey_alloc(0, rights);
	if (key >= 0 && !pr_claim(w, key))
		key = -1;
	pr_unlock_shared();
	if (key >= 0) {
		w->held[w->nr_held++] = key;
		if (!w->tagged[key])
			w->tagged[key] = tag_present_page(w, w->pages[key], key);
		if (w->tagged[key]) {
			check_rights(w, w->pages[key], key, rights);
			rights = random_rights(&w->rng);
			set_key_rights(key, rights);
			check_rights(w, w->pages[key], key, rights);
		}
	}
	key = (long)(next_random(&w->rng) % (NR_PKEYS + 2)) - 1;
	ret = sys_pkey_mprotect(scratch, page, PROT_READ | PROT_WRITE, key);
	check(INV_PROC_ERRORS, ret == 0 || errno == EINVAL,
	      "pkey_mprotect(scratch, key %ld): %s\n", key, strerror(errno));
	/* Whatever key the page has now: faults are the load. */
	if (!probe_read(probe_word(scratch), &value))
		count(&tally->faults);
	if (!probe_write(probe_word(scratch), value))
		count(&tally->faults);
}

static void *pr_tagger_thread(void *arg)
{
	struct key_worker *w = arg;
	char *scratch = map_rw(page);

	while (!stopping()) {
		pr_tagger_round(w, scratch);
		round_done(w);
	}
	return NULL;
}

/* Any key, valid or not, as the kernel's int parameter sees it. */
static long pr_random_key(uint32_t *rng)
{
	static const long keys[] = {
		-1, -2, INT_MIN, DEFAULT_PKEY, NR_PKEYS, NR_PKEYS + 1, INT_MAX,
	};
	unsigned long wide;

	switch (next_random(rng) % 4) {
	case 0:
		return keys[next_random(rng) % ARRAY_SIZE(keys)];
	case 1:
		return pr_xonly_key;
	case 2:
		/* Upper bits that the kernel's int drops, on 64-bit. */
		wide = next_random(rng);
		wide = wide << 16 << 16 | (next_random(rng) % NR_PKEYS);
		return (long)wide;
	default:
		return (long)next_random(rng);
	}
}

static unsigned long pr_random_bits(uint32_t *rng)
{
	unsigned long bits = next_random(rng);

	switch (next_random(rng) % 4) {
	case 0:
		return 0;
	case 1:
		return bits & PKEY_RIGHTS_MASK;
	case 2:
		return BIT(next_random(rng) % (8 * sizeof(long)));
	default:
		return bits << 16 << 16 | next_random(rng);
	}
}

/*
 * Never a call that could succeed: one owner's key taking another's
 * rights would fail the owners' checks, not this one.
 */
static void pr_fuzz_round(struct key_worker *w)
{
	long key = pr_random_key(&w->rng), ret;
	unsigned long rights = pr_random_bits(&w->rng);
	unsigned long flags = pr_random_bits(&w->rng);
	int k = (int)key;

	if (k > DEFAULT_PKEY && k < NR_PKEYS && k != pr_xonly_key &&
	    !(rights & ~PKEY_RIGHTS_MASK) && !(unsigned int)flags)
		rights |= BIT(2);
	ret = sys_pkey_set_process(key, rights, flags);
	if (ret == -1 && errno == EINVAL)
		count(&tally->einval);
	check(INV_PROC_ERRORS, ret == -1 && (errno == EINVAL || errno == ENOMEM),
	      "pkey_set_process(%ld, 0x%lx, 0x%lx) gave %ld (%s)\n",
	      key, rights, flags, ret, strerror(errno));

	rights = pr_random_bits(&w->rng);
	flags = next_random(&w->rng) & 1 ? PKEY_ALLOC_PROCESS : pr_random_bits(&w->rng);
	if (!(flags & ~PKEY_ALLOC_KNOWN) && !(rights & ~PKEY_RIGHTS_MASK))
		rights |= BIT(2);
	ret = sys_pkey_alloc(flags, rights);
	if (ret == -1 && errno == EINVAL)
		count(&tally->einval);
	check(INV_PROC_ERRORS, ret == -1 && errno == EINVAL,
	      "pkey_alloc(0x%lx, 0x%lx) gave %ld (%s)\n", flags, rights, ret, strerror(errno));
	if (ret >= 0 && ret < NR_PKEYS)
		sys_pkey_free(ret);
}

static void *pr_fuzzer_thread(void *arg)
{
	struct key_worker *w = arg;

	while (!stopping()) {
		pr_fuzz_round(w);
		round_done(w);
		/* Leave the CPU to the owners and readers. */
		sched_yield();
	}
	return NULL;
}

static void pr_scribble_handler(int sig)
{
	static __thread uint32_t rng = 1;

	/* sigreturn puts the interrupted PKRU back, process rights kept. */
	wrpkru(random_pkru(&rng));
}

static void pr_checked_handler(int sig)
{
	static __thread uint32_t rng = 1;
	uint32_t entry = rdpkru();
	int seq = __atomic_load_n(&pr_handler_seq, __ATOMIC_ACQUIRE);

	if (seq > 0) {
		pr_handler_pkru = entry;
		__atomic_compare_exchange_n(&pr_handler_seq, &seq, -seq, false,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
	wrpkru(random_pkru(&rng));
}

static void pr_install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = pr_scribble_handler;
	if (sigaction(SIGUSR1, &sa, NULL))
		ksft_exit_fail_perror("sigaction(SIGUSR1)");
	sa.sa_handler = pr_checked_handler;
	if (sigaction(SIGUSR2, &sa, NULL))
		ksft_exit_fail_perror("sigaction(SIGUSR2)");
}

/*
 * With nothing changing, a handler starts with the default PKRU plus
 * the process rights.  False once a handler did not run in time: its
 * signal may still be pending, and is not checked.
 */
static bool pr_checked_signal(struct key_worker *target, int seq)
{
	time_t deadline = time(NULL) + PR_HANDLER_WAIT_SECS;
	uint32_t expected;
	int armed = seq;
	bool handled;

	pr_lock_exclusive();
	expected = with_process_rights(default_pkru);
	__atomic_store_n(&pr_handler_seq, seq, __ATOMIC_RELEASE);
	pthread_kill(target->thread, SIGUSR2);
	while (__atomic_load_n(&pr_handler_seq, __ATOMIC_ACQUIRE) == seq &&
	       time(NULL) < deadline)
		sched_yield();
	/* Disarm; failing that, the handler claimed it. */
	handled = !__atomic_compare_exchange_n(&pr_handler_seq, &armed, 0, false,
					       __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE);
	pr_unlock_exclusive();
	if (!handled) {
		ksft_print_msg("worker %d: no handler in %d s, no more checked signals\n",
			       target->id, PR_HANDLER_WAIT_SECS);
		return false;
	}
	count(&tally->checked_signals);
	check(INV_PROC_HANDLER, pr_handler_pkru == expected,
	      "handler in worker %d started with PKRU 0x%08x, expected 0x%08x\n",
	      target->id, pr_handler_pkru, expected);
	return true;
}

/* Every thread but the quiet reader; NULL past the last. */
#define PR_SIGNAL_TARGETS	(PR_OWNERS + PR_READERS - 1 + 3)
static struct key_worker *pr_signal_target(int i)
{
	if (i < PR_OWNERS)
		return &pr_owners[i].kw;
	i -= PR_OWNERS;
	if (i < PR_READERS - 1)
		return &pr_readers[PR_QUIET_READER + 1 + i].kw;
	i -= PR_READERS - 1;
	switch (i) {
	case 0:
		return &pr_spawner;
	case 1:
		return &pr_tagger;
	case 2:
		return &pr_fuzzer;
	default:
		return NULL;
	}
}

static bool pr_every_worker_ran(void)
{
	struct key_worker *w;
	int i;

	for (i = 0; (w = pr_signal_target(i)); i++)
		if (!ran_a_round(w))
			return false;
	return ran_a_round(&pr_readers[PR_QUIET_READER].kw);
}

/* The execute-only key, if the kernel gives PROT_EXEC memory one. */
static void pr_find_xonly_key(void)
{
	char *area = map_rw(page);
	int key;

	if (mprotect(area, page, PROT_EXEC))
		return;
	key = smaps_pkey_at(area);
	if (key > DEFAULT_PKEY && key < NR_PKEYS) {
		pr_xonly_key = key;
		pr_holder[key] = PR_XONLY_HOLDER;
	}
}

static void pr_start_workers(int *id)
{
	int i;

	for (i = 0; i < PR_OWNERS; i++) {
		init_worker(&pr_owners[i].kw, (*id)++);
		start(&pr_owners[i].kw, pr_owner_thread, &pr_owners[i]);
	}
	for (i = 0; i < PR_READERS; i++) {
		init_worker(&pr_readers[i].kw, (*id)++);
		pr_readers[i].index = i;
		pr_readers[i].inv = i == PR_QUIET_READER ? INV_PROC_QUIET_READER :
				    INV_PROC_SIGNALLED_READER;
		start(&pr_readers[i].kw, pr_reader_thread, &pr_readers[i]);
	}
	init_worker(&pr_spawner, (*id)++);
	start(&pr_spawner, pr_spawner_thread, &pr_spawner);
	init_worker(&pr_tagger, (*id)++);
	start(&pr_tagger, pr_tagger_thread, &pr_tagger);
	init_worker(&pr_fuzzer, (*id)++);
	start(&pr_fuzzer, pr_fuzzer_thread, &pr_fuzzer);
}

/* The process-rights process: forked before any thread, exits when done. */
static void process_rights_main(int duration, int id)
{
	struct timespec period = { .tv_nsec = SIGNAL_PERIOD_NS };
	time_t end = time(NULL) + duration;
	unsigned long round = 0;
	struct key_worker *w;
	bool checked = true;
	int i, key, seq = 0;

	/* Not inherited across fork(). */
	alarm(duration + HANG_MARGIN_SECS);
	pr_install_handlers();
	for (key = 0; key < NR_PKEYS; key++)
		pr_rights[key] = PR_NONE;
	pr_find_xonly_key();
	pr_start_workers(&id);

	while (time(NULL) < end || !pr_every_worker_ran()) {
		for (i = 0; (w = pr_signal_target(i)); i++)
			pthread_kill(w->thread, SIGUSR1);
		if (checked && ++round % PR_CHECKED_SIGNAL_EVERY == 0) {
			w = pr_signal_target(++seq % PR_SIGNAL_TARGETS);
			checked = pr_checked_signal(w, seq);
		}
		nanosleep(&period, NULL);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < PR_OWNERS; i++)
		pthread_join(pr_owners[i].kw.thread, NULL);
	pthread_join(pr_spawner.thread, NULL);
	pthread_join(pr_tagger.thread, NULL);
	pthread_join(pr_fuzzer.thread, NULL);
	/* The owners waited for every answer they asked for. */
	__atomic_store_n(&pr_readers_stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < PR_READERS; i++)
		pthread_join(pr_readers[i].kw.thread, NULL);
	fflush(stdout);
	_exit(0);
}

/* Fork the process-rights process; 0 when there is none. */
static pid_t start_process_rights(int duration, int id)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		process_rights_main(duration, id);
	if (pid < 0)
		ksft_exit_fail_perror("fork");
	return pid;
}

/* @name: the process-rights or the strict-keys process. */
static void wait_helper_process(pid_t pid, const char *name)
{
	int status;

	if (!check(INV_CHILDREN_CLEAN, waitpid(pid, &status, 0) == pid,
		   "waitpid(%s process): %s\n", name, strerror(errno)))
		return;
	check(INV_CHILDREN_CLEAN, WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "%s process: %s%s (status 0x%x)\n", name,
	      WIFSIGNALED(status) ? "killed by " : "exit code ",
	      WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "not 0", status);
}

/* ==================================================================== */
/* Strict keys                                                          */
/* ==================================================================== */

#define STRICT_MAPPERS		2
/* A mapper's pause with nothing mapped, so that frees also succeed. */
#define STRICT_PAUSE_NS		(20 * 1000)
/* More mappings than the strict-keys process ever has. */
#define STRICT_MAX_VMAS		256

/* The strict key the mappers tag their pages with. */
static int strict_key;
static pthread_t strict_mappers[STRICT_MAPPERS];

/* Probed by allocating a key, whose rights are then undone. */
static bool have_strict_keys(char *why, size_t len)
{
	uint32_t pkru = rdpkru();
	long key;

	errno = 0;
	key = sys_pkey_alloc(PKEY_ALLOC_STRICT, PKEY_ALLOW_ALL);
	if (key > DEFAULT_PKEY) {
		sys_pkey_free(key);
		wrpkru(pkru);
		return true;
	}
	snprintf(why, len, "pkey_alloc(PKEY_ALLOC_STRICT) gave %ld (%s)", key,
		 strerror(errno));
	return false;
}

/* Tag a page, reset it with mmap(MAP_FIXED) as a pool allocator does. */
static void *strict_mapper(void *arg)
{
	struct timespec pause = { .tv_nsec = STRICT_PAUSE_NS };
	int key, tagged;
	char *area;

	while (!stopping()) {
		area = map_rw(page);
		key = __atomic_load_n(&strict_key, __ATOMIC_ACQUIRE);
		tagged = sys_pkey_mprotect(area, page, PROT_READ | PROT_WRITE, key);
		/* A key that was just freed is not allocated. */
		check(INV_STRICT, !tagged || errno == EINVAL,
		      "pkey_mprotect(strict key %d): %s\n", key, strerror(errno));
		if (!tagged) {
			check(INV_STRICT, map_anon_fixed(area, page) == area &&
			      smaps_pkey_at(area) == key,
			      "page of strict key %d reset to key %d\n", key,
			      smaps_pkey_at(area));
			count(&tally->strict_resets);
		}
		munmap(area, page);
		nanosleep(&pause, NULL);
	}
	return NULL;
}

/* Whether a mapping of this process carries @key, from smaps. */
static bool key_in_smaps(int key)
{
	static struct vma_info vmas[STRICT_MAX_VMAS];
	int i, n = smaps_vmas_in(NULL, SIZE_MAX, vmas, STRICT_MAX_VMAS);

	for (i = 0; i < n && i < STRICT_MAX_VMAS; i++) {
		if (vmas[i].pkey == key)
			return true;
	}
	return false;
}

/* Free the key; once that worked, no mapping can carry it. */
static void strict_free_round(void)
{
	int key = __atomic_load_n(&strict_key, __ATOMIC_RELAXED);

	if (sys_pkey_free(key)) {
		check(INV_STRICT, errno == EBUSY, "pkey_free(strict key %d): %s\n",
		      key, strerror(errno));
		count(&tally->strict_busy);
		return;
	}
	count(&tally->strict_frees);
	/* Until it is allocated again, pkey_mprotect() refuses it. */
	check(INV_STRICT, !key_in_smaps(key),
	      "strict key %d freed while smaps shows it\n", key);
	key = sys_pkey_alloc(PKEY_ALLOC_STRICT, PKEY_ALLOW_ALL);
	if (!check(INV_STRICT, key > DEFAULT_PKEY, "pkey_alloc(PKEY_ALLOC_STRICT): %s\n",
		   strerror(errno)))
		_exit(1);
	__atomic_store_n(&strict_key, key, __ATOMIC_RELEASE);
}

static void strict_keys_main(int duration)
{
	time_t end = time(NULL) + duration;
	int i;

	alarm(duration + HANG_MARGIN_SECS);
	strict_key = sys_pkey_alloc(PKEY_ALLOC_STRICT, PKEY_ALLOW_ALL);
	if (!check(INV_STRICT, strict_key > DEFAULT_PKEY,
		   "pkey_alloc(PKEY_ALLOC_STRICT): %s\n", strerror(errno)))
		_exit(1);
	for (i = 0; i < STRICT_MAPPERS; i++) {
		if (pthread_create(&strict_mappers[i], NULL, strict_mapper, NULL))
			ksft_exit_fail_perror("pthread_create");
	}
	while (time(NULL) < end || !tally->strict_frees || !tally->strict_busy) {
		strict_free_round();
		sched_yield();
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < STRICT_MAPPERS; i++)
		pthread_join(strict_mappers[i], NULL);
	fflush(stdout);
	_exit(0);
}

static pid_t start_strict_keys(int duration)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		strict_keys_main(duration);
	if (pid < 0)
		ksft_exit_fail_perror("fork");
	return pid;
}

/* Every tagged page of a worker still shows its key in smaps. */
static void check_worker_pages(struct key_worker *w)
{
	int key;

	for (key = 0; key < NR_PKEYS; key++) {
		if (!w->tagged[key])
			continue;
		check(INV_MAP_MATCHES, smaps_pkey_at(w->pages[key]) == key,
		      "worker %d: page of key %d has key %d in smaps\n",
		      w->id, key, smaps_pkey_at(w->pages[key]));
	}
}

static void check_shared_pages(void)
{
	int i;

	for (i = 0; i < SHARED_PAGES; i++)
		check(INV_MAP_MATCHES,
		      smaps_pkey_at(shared + i * page) == range_worker.shared_key[i],
		      "shared page %d has key %d in smaps, expected %d\n", i,
		      smaps_pkey_at(shared + i * page), range_worker.shared_key[i]);
	check(INV_MAP_MATCHES, smaps_pkey_at(range_worker.moving) == range_worker.key,
	      "moved range has key %d in smaps, expected %d\n",
	      smaps_pkey_at(range_worker.moving), range_worker.key);
}

/*
 * The keys the kernel still has free are exactly those no worker
 * holds: allocate until ENOSPC, then give them all back.
 */
static void check_allocation_map(void)
{
	bool kernel_free[NR_PKEYS] = { false };
	int key;

	while ((key = sys_pkey_alloc(0, PKEY_ALLOW_ALL)) > DEFAULT_PKEY &&
	       key < NR_PKEYS)
		kernel_free[key] = true;
	check(INV_MAP_MATCHES, key < 0 && errno == ENOSPC,
	      "pkey_alloc until full ended with %d (%s)\n", key, strerror(errno));
	for (key = DEFAULT_PKEY + 1; key < NR_PKEYS; key++) {
		check(INV_MAP_MATCHES, kernel_free[key] == !key_holder[key],
		      "key %d: kernel says %s, worker %d holds it\n", key,
		      kernel_free[key] ? "free" : "allocated", key_holder[key]);
		if (kernel_free[key])
			sys_pkey_free(key);
	}
}

static void check_final_state(void)
{
	int i;

	for (i = 0; i < KEY_THREADS; i++)
		check_worker_pages(&key_workers[i]);
	check_worker_pages(&fork_worker);
	check_shared_pages();
	check_allocation_map();
}

/*
 * After execve() from a forked child: PKRU and allocations start over;
 * from the process-rights process, process rights too.
 */
static int exec_child_main(int argc, char **argv, bool process)
{
	unsigned long pkru;
	long key;

	if (argc != 4)
		return CHILD_BAD_ARGUMENTS;
	pkru = strtoul(argv[2], NULL, 0);
	key = strtol(argv[3], NULL, 0);
	if (rdpkru() != pkru)
		return CHILD_EXEC_PKRU_NOT_RESET;
	if (sys_pkey_free(key) == 0 || errno != EINVAL)
		return CHILD_EXEC_KEY_KEPT;
	if (process && (sys_pkey_set_process(key, 0, 0) == 0 || errno != EINVAL))
		return CHILD_EXEC_PROCESS_KEY_KEPT;
	return CHILD_OK;
}

static int parse_duration(int argc, char **argv)
{
	int duration = DEFAULT_DURATION_SECS;
	int opt;

	while ((opt = getopt(argc, argv, "d:")) != -1) {
		if (opt != 'd')
			ksft_exit_fail_msg("usage: %s [-d SECONDS]\n", argv[0]);
		duration = atoi(optarg);
	}
	if (duration <= 0)
		ksft_exit_fail_msg("-d needs a positive number of seconds\n");
	return duration;
}

static void install_handlers(void)
{
	struct sigaction sa;

	if (install_fault_catcher())
		ksft_exit_fail_perror("sigaction(SIGSEGV)");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = signal_handler;
	/* Interrupted system calls resume: the workers do not retry. */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		ksft_exit_fail_perror("sigaction(SIGUSR1)");
}

static void report(int duration, const char *no_process_rights,
		   const char *no_strict_keys)
{
	int inv;

	ksft_print_msg("%d s: %lu allocations, %lu faults, %lu forks, %lu execs, %lu signals\n",
		       duration, nr_allocs, nr_faults, nr_forks, nr_execs, nr_signals);
	if (!no_process_rights) {
		ksft_print_msg("process rights: %lu sets, %lu allocations, %lu handshakes\n",
			       tally->sets, tally->process_allocs, tally->handshakes);
		ksft_print_msg("process rights: %lu threads, %lu forks, %lu execs, %lu signals\n",
			       tally->threads, tally->forks, tally->execs, tally->checked_signals);
		ksft_print_msg("process rights: %lu EINVAL results, %lu scratch faults\n",
			       tally->einval, tally->faults);
	}
	if (!no_strict_keys)
		ksft_print_msg("strict keys: %lu frees, %lu EBUSY, %lu resets\n",
			       tally->strict_frees, tally->strict_busy,
			       tally->strict_resets);
	for (inv = 0; inv < NR_INVARIANTS; inv++) {
		if (inv == INV_ENFORCED && !have_enforce) {
			ksft_test_result_skip("%s: kernel has no PKEY_ALLOC_ENFORCE\n",
					      invariant_name[inv]);
			continue;
		}
		if (inv >= FIRST_PROC_INVARIANT && inv < INV_STRICT &&
		    no_process_rights) {
			ksft_test_result_skip("%s: %s\n", invariant_name[inv],
					      no_process_rights);
			continue;
		}
		if (inv == INV_STRICT && no_strict_keys) {
			ksft_test_result_skip("%s: %s\n", invariant_name[inv],
					      no_strict_keys);
			continue;
		}
		ksft_test_result(tally->checks[inv] && !tally->failures[inv],
				 "%s (%lu checks, %lu failed)\n", invariant_name[inv],
				 tally->checks[inv], tally->failures[inv]);
	}
}

int main(int argc, char **argv)
{
	char why[128] = "", why_strict[128] = "";
	pid_t process_rights = 0, strict_keys = 0;
	int duration;

	if (argc > 1 && !strcmp(argv[1], EXEC_CHILD_ARG))
		return exec_child_main(argc, argv, false);
	if (argc > 1 && !strcmp(argv[1], EXEC_PROCESS_CHILD_ARG))
		return exec_child_main(argc, argv, true);

	ksft_print_header();
	duration = parse_duration(argc, argv);
	if (!pkey_syscalls_present())
		ksft_exit_skip("kernel has no pkey syscalls\n");
	if (!cpu_has_ospke())
		ksft_exit_skip("PKU not enabled (CPUID OSPKE clear)\n");
	ksft_set_plan(NR_INVARIANTS);

	/* Nothing ran WRPKRU yet: this is what the kernel gives a new program. */
	default_pkru = rdpkru();
	page = page_size();
	tally = mmap(NULL, sizeof(*tally), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tally == MAP_FAILED)
		ksft_exit_fail_perror("mmap(MAP_SHARED)");
	shared = map_rw(SHARED_PAGES * page);
	install_handlers();
	alarm(duration + HANG_MARGIN_SECS);

	have_enforce = kernel_has_enforce();
	/* Before any thread: the new process must not inherit one. */
	if (have_pkey_set_process(why, sizeof(why)))
		process_rights = start_process_rights(duration, PR_FIRST_ID);
	if (have_strict_keys(why_strict, sizeof(why_strict)))
		strict_keys = start_strict_keys(duration);
	run_workers(duration);
	if (process_rights)
		wait_helper_process(process_rights, "process-rights");
	if (strict_keys)
		wait_helper_process(strict_keys, "strict-keys");
	check_final_state();
	report(duration, process_rights ? NULL : why,
	       strict_keys ? NULL : why_strict);
	ksft_finished();
}
