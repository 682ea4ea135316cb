// SPDX-License-Identifier: GPL-2.0
/*
 * pkey-fuzz: random-argument fuzzing of the process-wide protection key
 * rights calls and the pkey_alloc() flags (PKEY_ALLOC_PROCESS, _STRICT,
 * _ENFORCE), for the stress guest (scripts/stress-guest.sh).
 *
 * Trinity (Debian 1.9+git20230109) cannot reach them: its syscall tables
 * end before 463, so it has no pkey_set_process(), and its pkey_alloc()
 * sanitiser always passes flags 0, so it never asks for
 * PKEY_ALLOC_PROCESS.  This program fills that gap: THREADS threads
 * (default 8) for SECONDS (default 10) call, with random arguments
 *   pkey_set_process(key, rights, flags)     keys -2..17 and any int,
 *                                            rights and flags any bits
 *   pkey_alloc(flags, rights)                PKEY_ALLOC_PROCESS half the time,
 *                                            else any of the known flags
 *   pkey_free(key), pkey_mprotect(range, prot, key)
 *   mmap/munmap/mremap/madvise/mprotect(PROT_EXEC) inside an arena
 * and WRPKRU random rights (key 0 always open), touch the arena (faults
 * are caught), signal each other (the handlers call pkey_set_process()
 * and pkey_alloc(PKEY_ALLOC_PROCESS) and write PKRU), create and join
 * threads, fork, vfork and clone(CLONE_VM) children that make the same
 * calls, and exec nothing.
 *
 * No invariant on rights: the kernel log (KASAN, lockdep, WARN, BUG,
 * kmemleak) is the verdict.  The program only checks that every call
 * either succeeds with arguments it may succeed with or fails with an
 * error the spec documents, that every child exits cleanly and that
 * the run ends in time, and prints TAP.  Exit status 0 when all hold.
 *
 *   pkey-fuzz [-d SECONDS] [-t THREADS] [-s SEED]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __NR_pkey_set_process
#define __NR_pkey_set_process	463
#endif
#ifdef __x86_64__
#define NR_pkey_mprotect	329
#define NR_pkey_alloc		330
#define NR_pkey_free		331
#else
#define NR_pkey_mprotect	380
#define NR_pkey_alloc		381
#define NR_pkey_free		382
#endif
#define PKEY_ALLOC_PROCESS	0x1
#define PKEY_ALLOC_STRICT	0x2
#define PKEY_ALLOC_ENFORCE	0x4
#define PKEY_ALLOC_KNOWN	(PKEY_ALLOC_PROCESS | PKEY_ALLOC_STRICT | PKEY_ALLOC_ENFORCE)
#define PKEY_RIGHTS_MASK	0x3UL
#define NR_PKEYS		16
#define MAX_THREADS		64
#define ARENA_PAGES		64
#define CHILD_CALLS		32
#define CHILD_STACK		(64 * 1024)
#define HANG_MARGIN_SECS	120
#define MAX_REPORTS		20

enum call {
	C_SET_PROCESS, C_ALLOC, C_ALLOC_PROCESS, C_FREE, C_MPROTECT_KEY,
	C_MEM, C_WRPKRU, C_TOUCH, C_SIGNAL, C_THREAD, C_FORK, C_VFORK,
	C_CLONE_VM, NR_CALLS
};

static const char * const call_name[NR_CALLS] = {
	"pkey_set_process", "pkey_alloc", "pkey_alloc(PKEY_ALLOC_PROCESS)",
	"pkey_free", "pkey_mprotect", "memory calls", "WRPKRU", "touches",
	"signals", "threads", "forks", "vforks", "clone(CLONE_VM)",
};

static unsigned long calls[NR_CALLS], succeeded[NR_CALLS];

/* pkey_alloc() calls with these flags among others, and how many gave a key. */
#define NR_COUNTED_FLAGS	2
static const unsigned long counted_flag[NR_COUNTED_FLAGS] = {
	PKEY_ALLOC_STRICT, PKEY_ALLOC_ENFORCE,
};
static const char * const counted_flag_name[NR_COUNTED_FLAGS] = {
	"pkey_alloc(PKEY_ALLOC_STRICT)", "pkey_alloc(PKEY_ALLOC_ENFORCE)",
};
static unsigned long flag_calls[NR_COUNTED_FLAGS], flag_keys[NR_COUNTED_FLAGS];
static unsigned long unexpected, bad_children, faults;

/*
 * The first unexpected result of a fork or CLONE_VM child, which must
 * not print: in memory shared with every child, printed at the end.
 */
struct child_report {
	int taken;
	int call;
	long ret, a;
	int err;
	unsigned long b, f;
};

static struct child_report *child_report;
static int stop, go, have_set_process, nr_threads = 8;
/*
 * Stock Linux frees key 0 and then hands it out again: with rights that
 * deny it, the stacks become unusable.  There key 0 is never freed.
 */
static int key0_freeable;
static pthread_t threads[MAX_THREADS];
static char *arena;
static long page;

static __thread sigjmp_buf touch_jmp;
static __thread volatile int touch_armed;

static void bump(unsigned long *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static uint32_t rnd(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x ? x : 1;
}

static unsigned long rnd_long(uint32_t *s)
{
	unsigned long v = rnd(s);

	return v << 16 << 16 | rnd(s);
}

static void wrpkru(uint32_t pkru)
{
	asm volatile(".byte 0x0f, 0x01, 0xef" : : "a" (pkru), "c" (0), "d" (0) : "memory");
}

/* Any key: mostly 0..15, also the edges and random ints. */
static long any_key(uint32_t *s)
{
	static const long edge[] = { -1, -2, 16, 17, INT_MIN, INT_MAX };

	switch (rnd(s) % 8) {
	case 0:
		return edge[rnd(s) % 6];
	case 1:
		return (long)rnd_long(s);
	default:
		return rnd(s) % NR_PKEYS;
	}
}

/* Any bits: mostly valid ones, sometimes one stray bit or garbage. */
static unsigned long any_bits(uint32_t *s, unsigned long valid)
{
	switch (rnd(s) % 8) {
	case 0:
		return 1UL << (rnd(s) % (8 * sizeof(long)));
	case 1:
		return rnd_long(s);
	default:
		return rnd(s) & valid;
	}
}

static __attribute__((format(printf, 1, 2))) void report(const char *fmt, ...)
{
	va_list ap;

	if (__atomic_fetch_add(&unexpected, 1, __ATOMIC_RELAXED) >= MAX_REPORTS)
		return;
	va_start(ap, fmt);
	printf("# unexpected: ");
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/*
 * Error sets from the spec (build/spec/process-rights.md) and the man
 * pages.  @child: in a forked or CLONE_VM child, which must not print.
 */
static void result(enum call c, long ret, int err, bool valid, bool child,
		   long a, unsigned long b, unsigned long f)
{
	bool ok;

	bump(&calls[c]);
	if (ret >= 0) {
		bump(&succeeded[c]);
		ok = valid;
	} else {
		switch (c) {
		case C_SET_PROCESS:
			/* EPERM: an enforced key the thread may not write. */
			ok = err == EINVAL || err == ENOMEM || err == EPERM ||
			     (!have_set_process && err == ENOSYS);
			break;
		case C_ALLOC:
			ok = err == EINVAL || err == ENOSPC;
			break;
		case C_ALLOC_PROCESS:
			ok = err == EINVAL || err == ENOSPC || err == ENOMEM;
			break;
		case C_FREE:
			/* EBUSY: a strict key still mapped; EPERM: enforced. */
			ok = err == EINVAL || err == EBUSY || err == EPERM;
			break;
		case C_MPROTECT_KEY:
			ok = err == EINVAL || err == ENOMEM || err == EPERM;
			break;
		default:
			ok = true;
			break;
		}
	}
	if (ok)
		return;
	if (child) {
		bump(&unexpected);
		if (!__atomic_exchange_n(&child_report->taken, 1, __ATOMIC_RELAXED)) {
			child_report->call = c;
			child_report->ret = ret;
			child_report->err = ret < 0 ? err : 0;
			child_report->a = a;
			child_report->b = b;
			child_report->f = f;
			__atomic_store_n(&child_report->taken, 2, __ATOMIC_RELEASE);
		}
		return;
	}
	report("%s(%ld, 0x%lx, 0x%lx) = %ld (%s)%s\n", call_name[c], a, b, f, ret,
	       ret < 0 ? strerror(err) : "ok", ret >= 0 ? " with invalid arguments" : "");
}

static void do_set_process(uint32_t *s, bool child)
{
	long key = any_key(s);
	unsigned long rights = any_bits(s, PKEY_RIGHTS_MASK);
	unsigned long flags = rnd(s) % 4 ? 0 : rnd(s) % 2 ? 1UL << (rnd(s) % (8 * sizeof(long))) :
			      rnd_long(s);
	int k = (int)key;
	bool valid = k > 0 && k < NR_PKEYS && !(rights & ~PKEY_RIGHTS_MASK) &&
		     !(unsigned int)flags;
	long ret = syscall(__NR_pkey_set_process, key, rights, flags);

	result(C_SET_PROCESS, ret, errno, valid, child, key, rights, flags);
}

static void do_alloc(uint32_t *s, bool child)
{
	unsigned long flags = rnd(s) % 2 ? PKEY_ALLOC_PROCESS :
			      rnd(s) % 4 ? 0 : any_bits(s, PKEY_ALLOC_KNOWN);
	unsigned long rights = any_bits(s, PKEY_RIGHTS_MASK);
	bool valid = !(flags & ~PKEY_ALLOC_KNOWN) && !(rights & ~PKEY_RIGHTS_MASK);
	long ret = syscall(NR_pkey_alloc, flags, rights);

	for (int i = 0; i < NR_COUNTED_FLAGS; i++) {
		if (!(flags & counted_flag[i]))
			continue;
		bump(&flag_calls[i]);
		if (ret >= 0)
			bump(&flag_keys[i]);
	}
	result(flags == PKEY_ALLOC_PROCESS ? C_ALLOC_PROCESS : C_ALLOC, ret, errno,
	       valid && ret >= !key0_freeable && ret < NR_PKEYS, child, (long)flags, rights, 0);
}

static void do_free(uint32_t *s, bool child)
{
	long key = any_key(s), ret;

	if (key0_freeable && !(int)key)
		key = 1;
	ret = syscall(NR_pkey_free, key);
	result(C_FREE, ret, errno, (int)key > 0 && (int)key < NR_PKEYS, child, key, 0, 0);
}

static void do_mprotect_key(uint32_t *s, bool child)
{
	unsigned long first = rnd(s) % ARENA_PAGES;
	unsigned long n = 1 + rnd(s) % (ARENA_PAGES - first);
	unsigned long prot = rnd(s) % 8 ? rnd(s) % 8 : any_bits(s, 7);
	long key = rnd(s) % 4 ? (long)(rnd(s) % NR_PKEYS) : any_key(s);
	char *addr = arena + first * page + (rnd(s) % 16 ? 0 : 1);
	long ret = syscall(NR_pkey_mprotect, addr, n * page, prot, key);

	/* Success is fine for any key -1..15 that happens to be allocated. */
	result(C_MPROTECT_KEY, ret, errno, (int)key >= -1 && (int)key < NR_PKEYS,
	       child, key, prot, n);
}

/* Reshape the arena: never outside it. */
static void do_mem(uint32_t *s)
{
	unsigned long first = rnd(s) % ARENA_PAGES;
	unsigned long n = 1 + rnd(s) % (ARENA_PAGES - first);
	unsigned long to = rnd(s) % (ARENA_PAGES - n + 1);
	char *addr = arena + first * page;
	static const int advice[] = { MADV_DONTNEED, MADV_FREE, MADV_WILLNEED, MADV_COLD };

	bump(&calls[C_MEM]);
	switch (rnd(s) % 5) {
	case 0:
		munmap(addr, n * page);
		break;
	case 1:
		mmap(addr, n * page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case 2:
		mremap(addr, n * page, n * page, MREMAP_MAYMOVE | MREMAP_FIXED,
		       arena + to * page);
		break;
	case 3:
		madvise(addr, n * page, advice[rnd(s) % 4]);
		break;
	default:
		/* Execute-only memory takes the kernel's own key. */
		mprotect(addr, n * page, rnd(s) % 2 ? PROT_EXEC : PROT_READ | PROT_WRITE);
		break;
	}
}

static void do_wrpkru(uint32_t *s)
{
	bump(&calls[C_WRPKRU]);
	/* Key 0 holds the stacks: keep it open. */
	wrpkru(rnd(s) & ~3u);
}

static void do_touch(uint32_t *s)
{
	volatile char *p = arena + (rnd(s) % ARENA_PAGES) * page + 64;

	bump(&calls[C_TOUCH]);
	if (sigsetjmp(touch_jmp, 1)) {
		bump(&faults);
		return;
	}
	touch_armed = 1;
	if (rnd(s) & 1)
		(void)*p;
	else
		*p = 1;
	touch_armed = 0;
}

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	if (!touch_armed) {
		signal(sig, SIG_DFL);
		return;
	}
	touch_armed = 0;
	/* siglongjmp() skips sigreturn: PKRU stays as the handler got it. */
	siglongjmp(touch_jmp, 1);
}

static void usr_handler(int sig)
{
	static __thread uint32_t s = 0x1234567;
	int saved = errno;

	if (sig == SIGUSR1) {
		syscall(__NR_pkey_set_process, (long)(rnd(&s) % NR_PKEYS),
			rnd(&s) & PKEY_RIGHTS_MASK, 0UL);
		wrpkru(rnd(&s) & ~3u);
	} else {
		long key = syscall(NR_pkey_alloc, (unsigned long)PKEY_ALLOC_PROCESS,
				   rnd(&s) & PKEY_RIGHTS_MASK);

		if (key > 0)
			syscall(NR_pkey_free, key);
	}
	errno = saved;
}

/* A few random pkey calls; @child: no stdio (fork or CLONE_VM child). */
static void child_calls(uint32_t *s, bool child)
{
	int i;

	for (i = 0; i < CHILD_CALLS; i++) {
		switch (rnd(s) % 5) {
		case 0:
		case 1:
			do_set_process(s, child);
			break;
		case 2:
			do_alloc(s, child);
			break;
		case 3:
			do_free(s, child);
			break;
		default:
			do_mprotect_key(s, child);
			break;
		}
	}
}

static void reap(pid_t pid, enum call c, int flags)
{
	int status;

	bump(&calls[c]);
	if (pid < 0)
		return;
	if (waitpid(pid, &status, flags) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		bump(&bad_children);
		report("%s child: status 0x%x\n", call_name[c], status);
	}
}

static int clone_child(void *arg)
{
	uint32_t s = *(uint32_t *)arg;

	/* Same mm, own thread group: the spec leaves it out of updates. */
	child_calls(&s, true);
	return 0;
}

static void *short_thread(void *arg)
{
	uint32_t s = (uint32_t)(uintptr_t)arg | 1;

	child_calls(&s, false);
	return NULL;
}

static void do_spawn(uint32_t *s, char *stack)
{
	uint32_t seed = rnd(s);
	sigset_t all, old;
	pthread_t t;
	pid_t pid;

	switch (rnd(s) % 4) {
	case 0:
		bump(&calls[C_THREAD]);
		if (!pthread_create(&t, NULL, short_thread, (void *)(uintptr_t)seed))
			pthread_join(t, NULL);
		break;
	case 1:
		pid = fork();
		if (pid == 0) {
			/* The child's own copy of the counter: its exit code. */
			unsigned long before = unexpected;

			child_calls(&seed, true);
			_exit(unexpected != before);
		}
		reap(pid, C_FORK, 0);
		break;
	case 2:
		pid = vfork();
		if (pid == 0) {
			/* Nothing but raw calls before _exit(). */
			syscall(__NR_pkey_set_process, (long)(seed % NR_PKEYS),
				(unsigned long)(seed >> 8) & PKEY_RIGHTS_MASK, 0UL);
			_exit(0);
		}
		reap(pid, C_VFORK, 0);
		break;
	default:
		/*
		 * The child shares this thread's TLS, errno included: no
		 * handler may run here until it is gone.
		 */
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		pid = clone(clone_child, stack + CHILD_STACK, CLONE_VM | SIGCHLD, &seed);
		reap(pid, C_CLONE_VM, 0);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		break;
	}
}

static void *fuzz_thread(void *arg)
{
	uint32_t s = (uint32_t)(uintptr_t)arg;
	char *stack = malloc(CHILD_STACK);
	sigset_t none;

	/* Every thread exists before any is signalled. */
	while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
		sched_yield();
	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	if (!stack)
		return NULL;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		switch (rnd(&s) % 16) {
		case 0:
		case 1:
		case 2:
			do_set_process(&s, false);
			break;
		case 3:
		case 4:
			do_alloc(&s, false);
			break;
		case 5:
		case 6:
			do_free(&s, false);
			break;
		case 7:
		case 8:
			do_mprotect_key(&s, false);
			break;
		case 9:
			do_mem(&s);
			break;
		case 10:
			do_wrpkru(&s);
			break;
		case 11:
		case 12:
			do_touch(&s);
			break;
		case 13:
			bump(&calls[C_SIGNAL]);
			pthread_kill(threads[rnd(&s) % nr_threads],
				     rnd(&s) & 1 ? SIGUSR1 : SIGUSR2);
			break;
		default:
			if (rnd(&s) % 4 == 0)
				do_spawn(&s, stack);
			break;
		}
	}
	free(stack);
	return NULL;
}

static void install(int sig, void (*fn)(int), void (*act)(int, siginfo_t *, void *))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_RESTART | (act ? SA_SIGINFO : 0);
	if (act)
		sa.sa_sigaction = act;
	else
		sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static bool cpu_has_ospke(void)
{
	uint32_t a = 7, b, c = 0, d;

	asm volatile("cpuid" : "+a" (a), "=b" (b), "+c" (c), "=d" (d));
	return c & (1u << 4);
}

int main(int argc, char **argv)
{
	int secs = 10, opt, i, n;
	uint32_t seed = (uint32_t)time(NULL);
	struct timespec t0, t1;
	long ret;

	while ((opt = getopt(argc, argv, "d:t:s:")) != -1) {
		if (opt == 'd')
			secs = atoi(optarg);
		else if (opt == 't')
			nr_threads = atoi(optarg);
		else if (opt == 's')
			seed = strtoul(optarg, NULL, 0);
	}
	if (secs <= 0 || nr_threads <= 0 || nr_threads > MAX_THREADS) {
		fprintf(stderr, "usage: %s [-d SECONDS] [-t 1..%d] [-s SEED]\n",
			argv[0], MAX_THREADS);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	if (!cpu_has_ospke()) {
		printf("1..0 # SKIP PKU not enabled (CPUID OSPKE clear)\n");
		return 0;
	}
	errno = 0;
	ret = syscall(__NR_pkey_set_process, -1L, 0UL, 0UL);
	have_set_process = ret == -1 && errno == EINVAL;
	printf("1..3\n# seed 0x%x, %d threads, %d s; pkey_set_process(-1, 0, 0) = %ld (%s)%s\n",
	       seed, nr_threads, secs, ret, strerror(errno),
	       have_set_process ? "" : ": no process rights, fuzzing the rest");
	if (!syscall(NR_pkey_free, 0L)) {
		key0_freeable = 1;
		ret = syscall(NR_pkey_alloc, 0UL, 0UL);
		printf("# pkey_free(0) works here; pkey_alloc(0, 0) took it back as %ld\n", ret);
	}
	page = sysconf(_SC_PAGESIZE);
	arena = mmap(NULL, ARENA_PAGES * page, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (arena == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}
	child_report = mmap(NULL, sizeof(*child_report), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (child_report == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}
	install(SIGSEGV, NULL, fault_handler);
	install(SIGUSR1, usr_handler, NULL);
	install(SIGUSR2, usr_handler, NULL);
	/* A hang is killed: the guest sees the signal as the exit status. */
	alarm(secs + HANG_MARGIN_SECS);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 0; n < nr_threads; n++)
		if (pthread_create(&threads[n], NULL, fuzz_thread,
				   (void *)(uintptr_t)(seed * (n + 1) | 1))) {
			printf("Bail out! pthread_create\n");
			return 1;
		}
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	sleep(secs);
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nr_threads; i++)
		pthread_join(threads[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	for (i = 0; i < NR_CALLS; i++)
		if (i <= C_MPROTECT_KEY)
			printf("# %s: %lu (%lu succeeded)\n", call_name[i], calls[i], succeeded[i]);
		else
			printf("# %s: %lu (no result)\n", call_name[i], calls[i]);
	for (i = 0; i < NR_COUNTED_FLAGS; i++)
		printf("# %s: %lu (%lu succeeded)\n", counted_flag_name[i],
		       flag_calls[i], flag_keys[i]);
	printf("# %lu faults caught\n", faults);
	if (__atomic_load_n(&child_report->taken, __ATOMIC_ACQUIRE) == 2) {
		/* A fork child's count is its exit code: count it here. */
		if (!unexpected)
			unexpected = 1;
		printf("# unexpected in a child: %s(%ld, 0x%lx, 0x%lx) = %ld (%s)%s\n",
		       call_name[child_report->call], child_report->a, child_report->b,
		       child_report->f, child_report->ret,
		       child_report->ret < 0 ? strerror(child_report->err) : "ok",
		       child_report->ret >= 0 ? " with invalid arguments" : "");
	}
	printf("%sok 1 pkey_fuzz: every call succeeded or failed as documented (%lu unexpected)\n",
	       unexpected ? "not " : "", unexpected);
	printf("%sok 2 pkey_fuzz: every child exited cleanly (%lu did not)\n",
	       bad_children ? "not " : "", bad_children);
	printf("ok 3 pkey_fuzz: ended in %ld s (asked for %d)\n",
	       (long)(t1.tv_sec - t0.tv_sec), secs);
	return unexpected || bad_children;
}
