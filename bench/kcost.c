// SPDX-License-Identifier: GPL-2.0
/*
 * Part 2 of the benchmarks: what the kernel paths that protection keys
 * touch cost (context switch, signal delivery, page fault, fork,
 * thread creation, mprotect, munmap, madvise, the kernel's reads of the
 * process's own memory, key allocation), to compare a kernel with the
 * series against stock.  The whole process runs on CPU 0, so a ping-pong is a
 * real context switch and not a wake-up of the other CPU.  Prints one
 * "<metric> <ns per operation>" line per figure.
 *
 * --process-rights=elsewhere: first a child process gives a key
 * process-wide rights (pkey_set_process()), which turns the kernel's
 * hooks for them on for good; the figures are then "<metric>.pr_elsewhere".
 * --process-rights=here: this process gives its own key process-wide
 * rights before measuring; the figures are "<metric>.pr_here".  Without
 * pkey_set_process() (ENOSYS) either prints an "unsupported" note only.
 */
#define _GNU_SOURCE
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

/* First touches are timed in mappings of this many pages, so that the
 * untimed mmap()/munmap() around them stay few. */
#define FAULT_CHUNK_PAGES	256l
#define BENCH_CPU		0

#ifndef __NR_pkey_set_process
#define __NR_pkey_set_process	463
#endif

/* "" or the suffix of every metric, after --process-rights=. */
static const char *metric_suffix = "";

static const struct budget full_budget = { .rounds = 7, .round_ns = 10000000 };
static const struct budget smoke_budget = { .rounds = 1, .round_ns = 1000000 };

/* A peer that echoes every byte back, as a thread or as a process. */
struct ping_pong {
	int to_peer[2], from_peer[2];
	/* The peer runs with this PKRU, or keeps the default one. */
	bool peer_sets_pkru;
	uint32_t peer_pkru;
	pthread_t thread;
	pid_t child;
};

static void report_metric(const char *metric, double ns)
{
	char name[96];

	snprintf(name, sizeof(name), "%s%s", metric, metric_suffix);
	report(name, ns);
}

static void pin_to_one_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(BENCH_CPU, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static void echo_until_eof(struct ping_pong *pp)
{
	char byte;

	if (pp->peer_sets_pkru)
		write_pkru(pp->peer_pkru);
	while (read(pp->to_peer[0], &byte, 1) == 1)
		if (write(pp->from_peer[1], &byte, 1) != 1)
			break;
}

static void *echo_thread(void *arg)
{
	echo_until_eof(arg);
	return NULL;
}

static void open_pipes(struct ping_pong *pp)
{
	if (pipe(pp->to_peer) || pipe(pp->from_peer))
		die("pipe");
}

static void close_pipes(struct ping_pong *pp)
{
	close(pp->to_peer[0]);
	close(pp->to_peer[1]);
	close(pp->from_peer[0]);
	close(pp->from_peer[1]);
}

static void start_peer(struct ping_pong *pp, bool as_process)
{
	open_pipes(pp);
	if (!as_process) {
		if (pthread_create(&pp->thread, NULL, echo_thread, pp))
			die("pthread_create");
		return;
	}
	pp->child = fork();
	if (pp->child < 0)
		die("fork");
	if (pp->child == 0) {
		close(pp->to_peer[1]);
		echo_until_eof(pp);
		_exit(0);
	}
	close(pp->to_peer[0]);
	pp->to_peer[0] = -1;
}

/* Closing the write end gives the peer EOF, and it ends. */
static void stop_peer(struct ping_pong *pp, bool as_process)
{
	close(pp->to_peer[1]);
	pp->to_peer[1] = -1;
	if (as_process)
		waitpid(pp->child, NULL, 0);
	else
		pthread_join(pp->thread, NULL);
	close_pipes(pp);
}

static uint64_t round_trips(void *ctx, long iters)
{
	struct ping_pong *pp = ctx;
	uint64_t start = now_ns();
	char byte = 0;

	for (long i = 0; i < iters; i++) {
		if (write(pp->to_peer[1], &byte, 1) != 1 ||
		    read(pp->from_peer[0], &byte, 1) != 1)
			die("ping-pong");
	}
	return now_ns() - start;
}

static void measure_ping_pong(const char *metric, bool as_process,
			      bool differing_pkru, int pkey,
			      const struct budget *b)
{
	struct ping_pong pp = {
		.peer_sets_pkru = differing_pkru,
		.peer_pkru = pkru_with_write_disabled(read_pkru(), pkey),
	};

	start_peer(&pp, as_process);
	report_metric(metric, min_ns_per_op(round_trips, &pp, b));
	stop_peer(&pp, as_process);
}

static void ignore_signal(int sig)
{
	(void)sig;
}

static uint64_t signal_round_trips(void *ctx, long iters)
{
	pid_t pid = getpid(), tid = gettid();
	uint64_t start = now_ns();

	(void)ctx;
	for (long i = 0; i < iters; i++)
		if (syscall(SYS_tgkill, pid, tid, SIGUSR1))
			die("tgkill");
	return now_ns() - start;
}

static void measure_signal(const char *metric, const struct budget *b)
{
	struct sigaction sa = { .sa_handler = ignore_signal };

	if (sigaction(SIGUSR1, &sa, NULL))
		die("sigaction");
	report_metric(metric, min_ns_per_op(signal_round_trips, NULL, b));
}

static char *map_pages(long pages)
{
	char *p = mmap(NULL, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	/* A huge page would make one fault for 512 pages. */
	if (madvise(p, pages * PAGE_SIZE, MADV_NOHUGEPAGE))
		die("madvise");
	return p;
}

/* Only the first writes are timed: each one is a minor fault that
 * allocates and maps a zeroed page. */
static uint64_t first_touch_faults(void *ctx, long iters)
{
	uint64_t spent = 0;

	(void)ctx;
	for (long done = 0; done < iters; done += FAULT_CHUNK_PAGES) {
		long pages = iters - done < FAULT_CHUNK_PAGES ?
			     iters - done : FAULT_CHUNK_PAGES;
		char *p = map_pages(pages);
		uint64_t start = now_ns();

		for (long i = 0; i < pages; i++)
			p[i * PAGE_SIZE] = 1;
		spent += now_ns() - start;
		munmap(p, pages * PAGE_SIZE);
	}
	return spent;
}

static uint64_t fork_exit_wait(void *ctx, long iters)
{
	uint64_t start = now_ns();

	(void)ctx;
	for (long i = 0; i < iters; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0)
			_exit(0);
		waitpid(pid, NULL, 0);
	}
	return now_ns() - start;
}

static void *return_at_once(void *arg)
{
	return arg;
}

/* clone(CLONE_THREAD) and the thread's exit, as a program makes them:
 * glibc reuses the stack of a joined thread, so no mmap() is timed. */
static uint64_t thread_create_join(void *ctx, long iters)
{
	uint64_t start = now_ns();

	(void)ctx;
	for (long i = 0; i < iters; i++) {
		pthread_t thread;

		if (pthread_create(&thread, NULL, return_at_once, NULL))
			die("pthread_create");
		pthread_join(thread, NULL);
	}
	return now_ns() - start;
}

struct one_page {
	char *addr;
	int pkey;
};

/* Each call flips the page between read-only and read-write, so every
 * call changes the PTE. */
static int flipped_prot(long i)
{
	return i % 2 ? PROT_READ | PROT_WRITE : PROT_READ;
}

static uint64_t mprotect_one_page(void *ctx, long iters)
{
	struct one_page *pg = ctx;
	uint64_t start = now_ns();

	for (long i = 0; i < iters; i++)
		if (mprotect(pg->addr, PAGE_SIZE, flipped_prot(i)))
			die("mprotect");
	return now_ns() - start;
}

static uint64_t pkey_mprotect_one_page(void *ctx, long iters)
{
	struct one_page *pg = ctx;
	uint64_t start = now_ns();

	for (long i = 0; i < iters; i++)
		if (sys_pkey_mprotect(pg->addr, PAGE_SIZE, flipped_prot(i), pg->pkey))
			die("pkey_mprotect");
	return now_ns() - start;
}

static void measure_mprotect(int pkey, const struct budget *b)
{
	struct one_page pg = { .addr = map_pages(1), .pkey = pkey };

	pg.addr[0] = 1;
	report_metric("mprotect_page", min_ns_per_op(mprotect_one_page, &pg, b));
	report_metric("pkey_mprotect_page", min_ns_per_op(pkey_mprotect_one_page, &pg, b));
	munmap(pg.addr, PAGE_SIZE);
}

/* mmap() and munmap() of one page never touched: no fault is timed. */
static uint64_t map_unmap_page(void *ctx, long iters)
{
	uint64_t start = now_ns();

	(void)ctx;
	for (long i = 0; i < iters; i++) {
		void *p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED || munmap(p, PAGE_SIZE))
			die("mmap/munmap");
	}
	return now_ns() - start;
}

/* After the first call the page is gone: the later ones time the call,
 * not the freeing of a page. */
static uint64_t madvise_dontneed_page(void *ctx, long iters)
{
	struct one_page *pg = ctx;
	uint64_t start = now_ns();

	for (long i = 0; i < iters; i++)
		if (madvise(pg->addr, PAGE_SIZE, MADV_DONTNEED))
			die("madvise");
	return now_ns() - start;
}

struct self_read {
	const char *addr;
	int mem_fd;
	char buf[PAGE_SIZE];
};

/* What a debugger or a sandbox does to its own memory: the kernel's
 * access through /proc/self/mem, which pins the page by GUP. */
static uint64_t proc_self_mem_read(void *ctx, long iters)
{
	struct self_read *r = ctx;
	uint64_t start = now_ns();

	for (long i = 0; i < iters; i++)
		if (pread(r->mem_fd, r->buf, PAGE_SIZE,
			  (off_t)(uintptr_t)r->addr) != PAGE_SIZE)
			die("pread /proc/self/mem");
	return now_ns() - start;
}

static uint64_t process_vm_readv_self(void *ctx, long iters)
{
	struct self_read *r = ctx;
	struct iovec local = { .iov_base = r->buf, .iov_len = PAGE_SIZE };
	struct iovec remote = { .iov_base = (void *)r->addr, .iov_len = PAGE_SIZE };
	pid_t self = getpid();
	uint64_t start = now_ns();

	for (long i = 0; i < iters; i++)
		if (process_vm_readv(self, &local, 1, &remote, 1, 0) != PAGE_SIZE)
			die("process_vm_readv");
	return now_ns() - start;
}

/* The paths that change or read mappings on the caller's behalf, on
 * memory of key 0. */
static void measure_mapping_calls(const struct budget *b)
{
	struct one_page pg = { .addr = map_pages(1) };
	static struct self_read r;

	report_metric("mmap_munmap_page", min_ns_per_op(map_unmap_page, NULL, b));
	report_metric("madvise_dontneed_page",
		      min_ns_per_op(madvise_dontneed_page, &pg, b));

	pg.addr[0] = 1;
	r.addr = pg.addr;
	r.mem_fd = open("/proc/self/mem", O_RDONLY);
	if (r.mem_fd < 0)
		die("open /proc/self/mem");
	report_metric("proc_self_mem_read_page",
		      min_ns_per_op(proc_self_mem_read, &r, b));
	report_metric("process_vm_readv_page",
		      min_ns_per_op(process_vm_readv_self, &r, b));
	close(r.mem_fd);
	munmap(pg.addr, PAGE_SIZE);
}

static uint64_t pkey_alloc_free(void *ctx, long iters)
{
	uint64_t start = now_ns();

	(void)ctx;
	for (long i = 0; i < iters; i++) {
		int pkey = sys_pkey_alloc(0, 0);

		if (pkey < 0 || sys_pkey_free(pkey))
			die("pkey_alloc/pkey_free");
	}
	return now_ns() - start;
}

/* pkey_free() alone: the clock reads around it cost the same on every
 * kernel, so the difference between kernels is that of pkey_free(). */
static uint64_t pkey_free_only(void *ctx, long iters)
{
	uint64_t spent = 0;

	(void)ctx;
	for (long i = 0; i < iters; i++) {
		int pkey = sys_pkey_alloc(0, 0);
		uint64_t start = now_ns();

		if (pkey < 0 || sys_pkey_free(pkey))
			die("pkey_alloc/pkey_free");
		spent += now_ns() - start;
	}
	return spent;
}

/* Give a fresh key process-wide rights that leave it open: PKRU stays
 * as it was.  False on a kernel without pkey_set_process(). */
static bool give_key_process_rights(void)
{
	int pkey = sys_pkey_alloc(0, 0);

	if (pkey < 0)
		die("pkey_alloc");
	if (syscall(__NR_pkey_set_process, pkey, 0, 0) == 0)
		return true;
	if (errno != ENOSYS)
		die("pkey_set_process");
	return false;
}

/* The hooks go on for the whole system; the child's mm, and with it its
 * process rights, goes away with the child. */
static bool process_rights_elsewhere(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0)
		_exit(give_key_process_rights() ? 0 : 2);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		die("waitpid");
	return WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv)
{
	const struct budget *b = parse_smoke(argc, argv) ? &smoke_budget : &full_budget;
	const char *mode = argc > 2 && strncmp(argv[2], "--process-rights=", 17) == 0 ?
			   argv[2] + 17 : NULL;
	int pkey;

	if (!cpu_has_ospke()) {
		fprintf(stderr, "kcost: the CPU or kernel has no protection keys\n");
		return 1;
	}
	if (mode) {
		bool here = strcmp(mode, "here") == 0;

		if (!here && strcmp(mode, "elsewhere") != 0) {
			fprintf(stderr, "kcost: --process-rights=here|elsewhere\n");
			return 1;
		}
		if (!(here ? give_key_process_rights() : process_rights_elsewhere())) {
			printf("# kcost_process_rights unsupported: pkey_set_process() is ENOSYS\n");
			return 0;
		}
		metric_suffix = here ? ".pr_here" : ".pr_elsewhere";
	}
	pin_to_one_cpu();
	/* Signal delivery may take another path once the process uses keys. */
	measure_signal("signal_round_trip", b);
	pkey = sys_pkey_alloc(0, 0);
	if (pkey < 0)
		die("pkey_alloc");

	measure_ping_pong("ctxsw_threads", false, false, pkey, b);
	measure_ping_pong("ctxsw_threads_pkru_differs", false, true, pkey, b);
	measure_ping_pong("ctxsw_processes", true, false, pkey, b);
	measure_ping_pong("ctxsw_processes_pkru_differs", true, true, pkey, b);
	measure_signal("signal_round_trip_pkey_allocated", b);
	report_metric("minor_fault", min_ns_per_op(first_touch_faults, NULL, b));
	report_metric("fork_exit_wait", min_ns_per_op(fork_exit_wait, NULL, b));
	report_metric("thread_create_join", min_ns_per_op(thread_create_join, NULL, b));
	measure_mprotect(pkey, b);
	measure_mapping_calls(b);
	report_metric("pkey_alloc_free", min_ns_per_op(pkey_alloc_free, NULL, b));
	report_metric("pkey_free", min_ns_per_op(pkey_free_only, NULL, b));
	return 0;
}
