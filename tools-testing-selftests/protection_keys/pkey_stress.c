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
 *  - the main thread sends signals to every thread.
 * Every check counts towards one invariant; each invariant is one TAP
 * result, which fails if any check of it failed or none ran.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

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

enum invariant {
	INV_PKRU_PRIVATE,
	INV_SIGNAL_PKRU,
	INV_RIGHTS_ENFORCED,
	INV_ALLOC_EXCLUSIVE,
	INV_MAP_MATCHES,
	INV_CHILDREN_CLEAN,
	NR_INVARIANTS
};

static const char * const invariant_name[NR_INVARIANTS] = {
	[INV_PKRU_PRIVATE] = "PKRU is what the thread itself last set",
	[INV_SIGNAL_PKRU] = "signal handlers start with the default PKRU",
	[INV_RIGHTS_ENFORCED] = "a (re)allocated key grants exactly its rights",
	[INV_ALLOC_EXCLUSIVE] = "a key is never held twice, frees succeed",
	[INV_MAP_MATCHES] = "kernel allocations and smaps match the key map",
	[INV_CHILDREN_CLEAN] = "every forked and exec'd child exits cleanly",
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
};

static unsigned long checks[NR_INVARIANTS];
static unsigned long failures[NR_INVARIANTS];
static unsigned long reports;

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

	count(&checks[inv]);
	if (ok)
		return true;
	count(&failures[inv]);
	if (__atomic_fetch_add(&reports, 1, __ATOMIC_RELAXED) < MAX_REPORTS) {
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

/* After execve() from a forked child: PKRU and allocations start over. */
static int exec_child_main(int argc, char **argv)
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

static void report(int duration)
{
	int inv;

	ksft_print_msg("%d s: %lu allocations, %lu faults, %lu forks, %lu execs, %lu signals\n",
		       duration, nr_allocs, nr_faults, nr_forks, nr_execs, nr_signals);
	for (inv = 0; inv < NR_INVARIANTS; inv++)
		ksft_test_result(checks[inv] && !failures[inv],
				 "%s (%lu checks, %lu failed)\n", invariant_name[inv],
				 checks[inv], failures[inv]);
}

int main(int argc, char **argv)
{
	int duration;

	if (argc > 1 && !strcmp(argv[1], EXEC_CHILD_ARG))
		return exec_child_main(argc, argv);

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
	shared = map_rw(SHARED_PAGES * page);
	install_handlers();
	alarm(duration + HANG_MARGIN_SECS);

	run_workers(duration);
	check_final_state();
	report(duration);
	ksft_finished();
}
