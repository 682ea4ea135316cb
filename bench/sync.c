// SPDX-License-Identifier: GPL-2.0
/*
 * Part 3 of the benchmarks: latency of changing one key's rights in
 * every thread of the process, the caller included, with 1 to 64
 * threads, while the other threads spin in user space ("running") or
 * are blocked in read() on an empty pipe ("sleeping"), by two methods:
 *
 *   kernel  pkey_set_process(key, rights, 0), which returns once every
 *           thread has the rights (build/spec/process-rights.md);
 *   signal  what programs do without that call: tgkill() every other
 *           thread; each handler writes the new rights of the key into
 *           the PKRU that sigreturn will restore (the PKRU slot of the
 *           XSAVE area in its signal frame: a WRPKRU in the handler
 *           would be undone by sigreturn), counts itself in an atomic
 *           ack counter, and the last one wakes the caller, which waits
 *           on a futex and then sets its own PKRU.
 *
 * The rights alternate between write-disabled and open from one update
 * to the next.  One figure is the median of the updates' latencies
 * (guest clock, CLOCK_MONOTONIC, from before the update to its end):
 *
 *   sync_<method>_<state>_<threads>       median ns per update
 *   sync_<method>_<state>_<threads>.min   fastest update
 *   sync_<method>_<state>_<threads>.p90   90th percentile
 *   sync_<method>_sleeping_<threads>.wakeups
 *           context switches of the other threads per update (from
 *           /proc/self/task/<tid>/status): what the update cost threads
 *           that were asleep
 *   sync_<method>_<state>_<threads>.stale
 *           threads whose PKRU, read by each thread once the updates
 *           are over, does not have the last rights (0 when the method
 *           works)
 *
 * On a kernel without pkey_set_process() (ENOSYS) only the signal method
 * runs, and a "# sync_kernel unsupported ..." note says so.
 *
 * The caller runs alone on CPU 0 and the other threads share CPU 1, so
 * at the time of an update at most one of them is on a CPU; the others
 * wait for their turn, preempted in user space ("running") or asleep.
 *
 * The spinning threads execute a PAUSE every SPINS_PER_PAUSE loads, as
 * spin-wait loops do (a PAUSE each time makes TCG slow).  Under
 * QEMU -icount the vCPUs run in turns, and a vCPU keeps its turn until
 * the next timer deadline unless it halts or executes PAUSE (TCG then
 * lets the other vCPU run): without PAUSE, an IPI or a wake-up sent to
 * the other vCPU waits for that deadline (up to a 4 ms tick), and with
 * threads spinning on both vCPUs the second one never gets a turn (QEMU
 * 7.2, Debian 12's: we saw the guest stop).
 */
#define _GNU_SOURCE
#include "bench.h"

#include <cpuid.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <sys/syscall.h>

#ifndef __NR_pkey_set_process
#define __NR_pkey_set_process	463
#endif

/* pkey_alloc()/pkey_set_process() rights; the same two bits per key in
 * PKRU. */
#define RIGHTS_DISABLE_WRITE	0x2u
#define RIGHTS_MASK		0x3u

/* Signal frames carry the XSAVE area in the standard (non-compacted)
 * format: the legacy 512 bytes, whose bytes 464..511 the kernel fills
 * with a software descriptor, then the XSAVE header. */
#define FXSAVE_SW_BYTES_OFFSET	464
#define XSAVE_HEADER_OFFSET	512
#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1	0x46505853u
#endif
#define XFEATURE_PKRU		9
#define CPUID_LEAF_XSTATE	0xd

#define SYNC_SIGNAL		SIGUSR1
#define MAX_THREADS		64
#define PEER_STACK		(256 * 1024)
#define CALLER_CPU		0
/* About 1 us of guest time between two PAUSEs of a spinning thread. */
#define SPINS_PER_PAUSE		256

static int thread_counts[] = { 1, 2, 4, 16, 64 };
static size_t nr_thread_counts = sizeof(thread_counts) / sizeof(thread_counts[0]);

/* With two CPUs, a signal reaches a preempted spinning thread only when
 * the scheduler runs it: about a tick (4 ms) per thread, so an update of
 * 64 running threads by signals takes a quarter of a second.  Updates
 * stop once they add up to time_ns and there are at least min_updates;
 * under -icount they repeat to the instruction anyway. */
struct budget_sync {
	int max_updates;	/* timed updates per figure, at most */
	int min_updates;	/* and at least */
	uint64_t time_ns;	/* or until they took this long */
	int warmup;		/* untimed updates before them */
	long gap_ns;		/* the caller sleeps this long between updates */
};

static const struct budget_sync full_budget = {
	.max_updates = 41, .min_updates = 9, .time_ns = NSEC_PER_SEC,
	.warmup = 2, .gap_ns = 1000000,
};
static const struct budget_sync smoke_budget = {
	.max_updates = 3, .min_updates = 1, .time_ns = 20000000,
	.warmup = 1, .gap_ns = 100000,
};

enum method { KERNEL, SIGNAL };
enum state { RUNNING, SLEEPING };
static const char *const method_names[] = { "kernel", "signal" };
static const char *const state_names[] = { "running", "sleeping" };

struct peer {
	pthread_t thread;
	_Atomic pid_t tid;
	uint32_t final_pkru;
};

static struct {
	enum state state;
	int nr_peers;
	struct peer peers[MAX_THREADS];
	atomic_int started;
	atomic_bool stop;		/* running peers leave their loop */
	int pipe[2];			/* sleeping peers block reading it */

	/* The signal method. */
	uint32_t pkru_offset;		/* of PKRU in the XSAVE area */
	uint32_t key_mask;		/* the key's two PKRU bits */
	_Atomic uint32_t key_bits;	/* what the handlers install */
	atomic_int acks;
	atomic_int expected;
	atomic_int done;		/* futex word: all acks are in */
	atomic_bool frame_unusable;	/* a frame without PKRU was seen */
} g;

static long futex(atomic_int *word, int op, int val)
{
	return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

static uint32_t key_mask(int pkey)
{
	return RIGHTS_MASK << (pkey * PKRU_BITS_PER_KEY);
}

static uint32_t key_bits(int pkey, uint32_t rights)
{
	return rights << (pkey * PKRU_BITS_PER_KEY);
}

static uint32_t xsave_pkru_offset(void)
{
	unsigned int eax, ebx, ecx, edx;

	if (!__get_cpuid_count(CPUID_LEAF_XSTATE, XFEATURE_PKRU, &eax, &ebx, &ecx, &edx) ||
	    !eax)
		return 0;
	return ebx;
}

/*
 * Change the key's bits in the PKRU that sigreturn restores.  If the
 * frame's XSAVE header says PKRU is in its init state, the slot holds
 * no value: the PKRU there is 0, and the header bit must be set for
 * sigreturn to load the new one.
 */
static bool edit_frame_pkru(ucontext_t *uc, uint32_t mask, uint32_t bits)
{
	unsigned char *xsave = (unsigned char *)uc->uc_mcontext.fpregs;
	struct _fpx_sw_bytes sw;	/* <bits/sigcontext.h> */
	uint64_t xstate_bv;
	uint32_t pkru = 0;

	if (!xsave || !g.pkru_offset)
		return false;
	memcpy(&sw, xsave + FXSAVE_SW_BYTES_OFFSET, sizeof(sw));
	if (sw.magic1 != FP_XSTATE_MAGIC1 || !(sw.xstate_bv & 1ull << XFEATURE_PKRU) ||
	    g.pkru_offset + sizeof(pkru) > sw.xstate_size)
		return false;
	memcpy(&xstate_bv, xsave + XSAVE_HEADER_OFFSET, sizeof(xstate_bv));
	if (xstate_bv & 1ull << XFEATURE_PKRU)
		memcpy(&pkru, xsave + g.pkru_offset, sizeof(pkru));
	pkru = (pkru & ~mask) | bits;
	memcpy(xsave + g.pkru_offset, &pkru, sizeof(pkru));
	xstate_bv |= 1ull << XFEATURE_PKRU;
	memcpy(xsave + XSAVE_HEADER_OFFSET, &xstate_bv, sizeof(xstate_bv));
	return true;
}

static void sync_handler(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;

	(void)sig;
	(void)si;
	if (!edit_frame_pkru(uc, g.key_mask, atomic_load(&g.key_bits)))
		atomic_store(&g.frame_unusable, true);
	if (atomic_fetch_add(&g.acks, 1) + 1 == atomic_load(&g.expected)) {
		atomic_store(&g.done, 1);
		futex(&g.done, FUTEX_WAKE_PRIVATE, 1);
	}
	errno = saved_errno;
}

static void install_handler(void)
{
	struct sigaction sa = {
		.sa_sigaction = sync_handler,
		/* Sleeping threads go back to their read(). */
		.sa_flags = SA_SIGINFO | SA_RESTART,
	};

	sigemptyset(&sa.sa_mask);
	if (sigaction(SYNC_SIGNAL, &sa, NULL))
		die("sigaction");
}

/* A handler's frame edit must reach the interrupted code: try it on the
 * calling thread once. */
static bool frame_edit_works(int pkey)
{
	uint32_t before = read_pkru();
	bool works;

	g.key_mask = key_mask(pkey);
	atomic_store(&g.key_bits, key_bits(pkey, RIGHTS_DISABLE_WRITE));
	atomic_store(&g.acks, 0);
	atomic_store(&g.expected, 1);
	if (syscall(SYS_tgkill, getpid(), gettid(), SYNC_SIGNAL))
		die("tgkill");
	works = !atomic_load(&g.frame_unusable) &&
		(read_pkru() & g.key_mask) == key_bits(pkey, RIGHTS_DISABLE_WRITE);
	write_pkru(before);
	return works;
}

static void update_by_kernel(int pkey, uint32_t rights)
{
	if (syscall(__NR_pkey_set_process, pkey, rights, 0))
		die("pkey_set_process");
}

static void update_by_signals(int pkey, uint32_t rights)
{
	pid_t pid = getpid();

	atomic_store(&g.key_bits, key_bits(pkey, rights));
	atomic_store(&g.acks, 0);
	atomic_store(&g.done, 0);
	atomic_store(&g.expected, g.nr_peers);
	for (int i = 0; i < g.nr_peers; i++)
		if (syscall(SYS_tgkill, pid, g.peers[i].tid, SYNC_SIGNAL))
			die("tgkill");
	/* Spinning here would take CPU time from the threads that must
	 * run their handlers. */
	while (g.nr_peers && !atomic_load(&g.done))
		futex(&g.done, FUTEX_WAIT_PRIVATE, 0);
	write_pkru((read_pkru() & ~g.key_mask) | key_bits(pkey, rights));
}

static void *peer_main(void *arg)
{
	struct peer *p = arg;
	char byte;

	atomic_store(&p->tid, gettid());
	atomic_fetch_add(&g.started, 1);
	if (g.state == RUNNING) {
		for (unsigned int i = 1; !atomic_load_explicit(&g.stop, memory_order_relaxed); i++)
			if (i % SPINS_PER_PAUSE == 0)
				__builtin_ia32_pause();
	} else {
		/* SA_RESTART: a handler does not end the read(). */
		while (read(g.pipe[0], &byte, 1) != 1)
			;
	}
	p->final_pkru = read_pkru();
	return NULL;
}

/* Field 3 of /proc/self/task/TID/stat, after "(comm)". */
static char task_state(pid_t tid)
{
	char path[64], buf[256], *paren;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (!f)
		die(path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] && paren[2] ? paren[2] : '?';
}

static unsigned long task_switches(pid_t tid)
{
	char path[64], line[128];
	unsigned long total = 0, n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", tid);
	f = fopen(path, "r");
	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %lu", &n) == 1 ||
		    sscanf(line, "nonvoluntary_ctxt_switches: %lu", &n) == 1)
			total += n;
	fclose(f);
	return total;
}

static unsigned long peers_switches(void)
{
	unsigned long total = 0;

	for (int i = 0; i < g.nr_peers; i++)
		total += task_switches(g.peers[i].tid);
	return total;
}

static void sleep_ns(long ns)
{
	struct timespec ts = { .tv_sec = ns / NSEC_PER_SEC, .tv_nsec = ns % NSEC_PER_SEC };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void start_peers(enum state state, int nr_peers)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_attr_t attr;
	cpu_set_t set;

	g.state = state;
	g.nr_peers = nr_peers;
	atomic_store(&g.started, 0);
	atomic_store(&g.stop, false);
	if (pipe(g.pipe))
		die("pipe");
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PEER_STACK);
	CPU_ZERO(&set);
	CPU_SET(cpus > 1 ? CALLER_CPU + 1 : CALLER_CPU, &set);
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	for (int i = 0; i < nr_peers; i++) {
		atomic_store(&g.peers[i].tid, 0);
		if (pthread_create(&g.peers[i].thread, &attr, peer_main, &g.peers[i]))
			die("pthread_create");
	}
	pthread_attr_destroy(&attr);
	while (atomic_load(&g.started) < nr_peers)
		sleep_ns(100000);
	if (state == SLEEPING)
		for (int i = 0; i < nr_peers; i++)
			while (task_state(g.peers[i].tid) != 'S')
				sleep_ns(100000);
}

/* The threads that do not have the key's last rights. */
static int stop_peers(uint32_t mask, uint32_t bits)
{
	int stale = (read_pkru() & mask) != bits;

	atomic_store(&g.stop, true);
	for (int i = 0; i < g.nr_peers; i++)
		if (g.state == SLEEPING && write(g.pipe[1], "x", 1) != 1)
			die("write");
	for (int i = 0; i < g.nr_peers; i++) {
		pthread_join(g.peers[i].thread, NULL);
		stale += (g.peers[i].final_pkru & mask) != bits;
	}
	close(g.pipe[0]);
	close(g.pipe[1]);
	return stale;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report_sub(const char *metric, const char *what, double value)
{
	char name[96];

	snprintf(name, sizeof(name), "%s.%s", metric, what);
	report(name, value);
}

static void measure(enum method method, enum state state, int threads,
		    const struct budget_sync *b)
{
	void (*update)(int, uint32_t) = method == KERNEL ? update_by_kernel : update_by_signals;
	uint64_t lat[b->max_updates], spent = 0;
	unsigned long switches = 0;
	int n;
	uint32_t rights = 0;
	char metric[64];
	int pkey, stale;

	/* A fresh key, allocated before the threads start so that they
	 * all begin with it open; freeing it ends its process rights. */
	pkey = sys_pkey_alloc(0, 0);
	if (pkey < 0)
		die("pkey_alloc");
	g.key_mask = key_mask(pkey);
	start_peers(state, threads - 1);

	for (int i = 0; i < b->warmup; i++) {
		rights ^= RIGHTS_DISABLE_WRITE;
		update(pkey, rights);
	}
	if (state == SLEEPING)
		switches = peers_switches();
	for (n = 0; n < b->max_updates && (n < b->min_updates || spent < b->time_ns); n++) {
		uint64_t start;

		sleep_ns(b->gap_ns);
		rights ^= RIGHTS_DISABLE_WRITE;
		start = now_ns();
		update(pkey, rights);
		lat[n] = now_ns() - start;
		spent += lat[n];
	}
	if (state == SLEEPING)
		switches = peers_switches() - switches;
	stale = stop_peers(g.key_mask, key_bits(pkey, rights));
	if (sys_pkey_free(pkey))
		die("pkey_free");

	qsort(lat, n, sizeof(lat[0]), compare_u64);
	snprintf(metric, sizeof(metric), "sync_%s_%s_%d",
		 method_names[method], state_names[state], threads);
	report(metric, lat[n / 2]);
	report_sub(metric, "min", lat[0]);
	report_sub(metric, "p90", lat[(n * 9) / 10]);
	if (state == SLEEPING)
		report_sub(metric, "wakeups", (double)switches / n);
	report_sub(metric, "stale", stale);
}

/* pkey_set_process(-1, 0, 0) is EINVAL where the call exists. */
static bool kernel_method_supported(void)
{
	long ret = syscall(__NR_pkey_set_process, -1, 0, 0);

	if (ret == -1 && errno == ENOSYS) {
		printf("# sync_kernel unsupported: pkey_set_process() is ENOSYS\n");
		return false;
	}
	if (ret != -1 || errno != EINVAL)
		printf("# sync_kernel probe: pkey_set_process(-1, 0, 0) = %ld (%s), expected EINVAL\n",
		       ret, ret == -1 ? strerror(errno) : "no error");
	return true;
}

/* --threads=N,N,...: other thread counts than 1, 2, 4, 16, 64. */
static void parse_thread_counts(char *list)
{
	size_t n = 0;

	for (char *tok = strtok(list, ","); tok && n < nr_thread_counts; tok = strtok(NULL, ",")) {
		int threads = atoi(tok);

		if (threads < 1 || threads > MAX_THREADS) {
			fprintf(stderr, "sync: --threads: 1 to %d\n", MAX_THREADS);
			exit(1);
		}
		thread_counts[n++] = threads;
	}
	nr_thread_counts = n;
}

int main(int argc, char **argv)
{
	const struct budget_sync *b = parse_smoke(argc, argv) ? &smoke_budget : &full_budget;
	bool kernel_ok;
	cpu_set_t set;
	int pkey;

	if (!cpu_has_ospke()) {
		fprintf(stderr, "sync: the CPU or kernel has no protection keys\n");
		return 1;
	}
	CPU_ZERO(&set);
	CPU_SET(CALLER_CPU, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");

	g.pkru_offset = xsave_pkru_offset();
	install_handler();
	pkey = sys_pkey_alloc(0, 0);
	if (pkey < 0)
		die("pkey_alloc");
	if (!frame_edit_works(pkey))
		printf("# sync_signal frame_edit_ignored: a handler's edit of the PKRU in its signal frame did not reach the interrupted code\n");
	sys_pkey_free(pkey);
	kernel_ok = kernel_method_supported();
	fflush(stdout);

	if (argc > 2 && strncmp(argv[2], "--threads=", 10) == 0)
		parse_thread_counts(argv[2] + 10);
	for (size_t t = 0; t < nr_thread_counts; t++)
		for (enum state s = RUNNING; s <= SLEEPING; s++)
			for (enum method m = KERNEL; m <= SIGNAL; m++)
				if (m == SIGNAL || kernel_ok)
					measure(m, s, thread_counts[t], b);
	return 0;
}
