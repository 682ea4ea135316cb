// SPDX-License-Identifier: GPL-2.0
/*
 * Process-wide protection key rights: pkey_set_process() and
 * pkey_alloc(PKEY_ALLOC_PROCESS).
 *
 * PKRU is per thread, so a key allocated by one thread is out of reach
 * of threads that already exist, of threads they create and of every
 * signal handler (which starts with the default PKRU).  A JIT such as
 * V8 crashes in each of those places.  Process rights change one key's
 * two PKRU bits in every thread of the process at once and are applied
 * to new threads and signal handlers until the key is freed.
 *
 * The "v8_" fixtures run each crash pattern twice: with plain
 * pkey_alloc(), which must fault with SEGV_PKUERR on any kernel, and
 * with process rights, which must not (skipped where the kernel lacks
 * them).  The other tests check the rest of the contract: revocation
 * reaches every thread before the call returns, only the named key
 * changes, rseq critical sections see every update, sigreturn keeps
 * updates made during the handler, fork, exec, pkey_free(), errors,
 * the behaviour without PKU and io_uring workers.
 *
 * Nothing executes RDPKRU or WRPKRU unless CPUID reports OSPKE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
/* __rseq_offset and __rseq_size: glibc 2.35 and later. */
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 35)
# include <sys/rseq.h>
# define HAVE_SYS_RSEQ_H	1
#endif

#include "pkeys_util.h"
#include "../kselftest_harness.h"
#include "pkeys_harness.h"

/* Longest wait for another thread or process to get somewhere. */
#define WAIT_MS			10000
/* alarm() of helper child processes. */
#define CHILD_TIMEOUT_SECS	20
#define ALTSTACK_SIZE		(64 * 1024)
#define CLONE_STACK_SIZE	(64 * 1024)
/* Argument that makes main() run the checks of the exec test. */
#define EXEC_CHECK_ARG		"--process-rights-exec-check"
/* Bytes moved through pipes and io_uring. */
#define IO_LEN			64

#ifndef SYS_rseq
# ifdef __x86_64__
#  define SYS_rseq		334
# else
#  define SYS_rseq		386
# endif
#endif
#ifndef FUTEX_WAIT_PRIVATE
# define FUTEX_WAIT_PRIVATE	128
#endif
#ifndef FUTEX_WAKE_PRIVATE
# define FUTEX_WAKE_PRIVATE	129
#endif
/* i386: the 64-bit time futex call, present whatever COMPAT_32BIT_TIME says. */
#ifdef __x86_64__
# define SYS_futex_any		SYS_futex
# define REG_IP_INDEX		REG_RIP
#else
# define SYS_futex_any		422
# define REG_IP_INDEX		REG_EIP
#endif

/* PKRU when main() started: the kernel's value for a new program. */
static uint32_t startup_pkru;
static char *self_argv0;

/* Exit codes of helper child processes. */
enum child_result {
	CHILD_OK = 0,
	CHILD_WRONG_PKRU,
	CHILD_THREAD_PKRU,
	CHILD_HANDLER_PKRU,
	CHILD_KEY_STILL_ALLOCATED,
	CHILD_HANDLER_FAULTED,
	CHILD_SETUP_FAILED,
	CHILD_EXEC_FAILED,
	CHILD_BAD_ARGUMENTS,
	CHILD_TIMED_OUT,
	CHILD_CALL_FAILED,
};

static const char *child_result_name(int code)
{
	switch (code) {
	case CHILD_OK:			return "ok";
	case CHILD_WRONG_PKRU:		return "unexpected PKRU";
	case CHILD_THREAD_PKRU:		return "new thread has an unexpected PKRU";
	case CHILD_HANDLER_PKRU:	return "handler started with an unexpected PKRU";
	case CHILD_KEY_STILL_ALLOCATED:	return "key still known to pkey_set_process";
	case CHILD_HANDLER_FAULTED:	return "signal handler faulted";
	case CHILD_SETUP_FAILED:	return "child setup failed";
	case CHILD_EXEC_FAILED:		return "execv failed";
	case CHILD_BAD_ARGUMENTS:	return "bad exec-check arguments";
	case CHILD_TIMED_OUT:		return "timed out waiting for the parent";
	case CHILD_CALL_FAILED:		return "pkey_set_process failed";
	default:			return "killed or unknown status";
	}
}

/* ==================================================================== */
/* Feature probes                                                       */
/* ==================================================================== */

/* The call and PKU; see the require_*() helpers in pkeys_harness.h. */
static bool require_process_rights(struct __test_metadata *_metadata)
{
	if (!require_process_rights_call(_metadata))
		return false;
	return require_pku(_metadata);
}

/* ==================================================================== */
/* Small helpers                                                        */
/* ==================================================================== */

static inline void cpu_relax(void)
{
	asm volatile("pause" ::: "memory");
}

/* Keep the calling thread on @cpu. */
static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);	/* best effort */
}

/* RDPKRU that the compiler keeps in order with memory accesses. */
static uint32_t rdpkru_ordered(void)
{
	uint32_t eax, edx;

	asm volatile(".byte 0x0f, 0x01, 0xee"
		     : "=a" (eax), "=d" (edx) : "c" (0) : "memory");
	return eax;
}

/* Wait until *@p >= @value; false after WAIT_MS. */
static bool wait_at_least(const int *p, int value)
{
	uint64_t deadline = now_ms() + WAIT_MS;

	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) < value) {
		if (now_ms() > deadline)
			return false;
		sched_yield();
	}
	return true;
}

static void publish(int *p, int value)
{
	__atomic_store_n(p, value, __ATOMIC_RELEASE);
}

static int tgkill_raw(int tid, int sig)
{
	return (int)syscall(SYS_tgkill, getpid(), tid, sig);
}

/* Private anonymous memory shared with forked children, or NULL. */
static void *map_shared(size_t len)
{
	void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return addr == MAP_FAILED ? NULL : addr;
}

/* A PKRU value with recognisable bits for every key but @skip; key 0 open. */
static uint32_t pattern_pkru(unsigned int seed, int skip)
{
	uint32_t pkru = 0;
	int key;

	for (key = DEFAULT_PKEY + 1; key < NR_PKEYS; key++) {
		if (key == skip)
			continue;
		pkru = pkru_with_rights(pkru, key, (seed + (unsigned int)key) % 4);
	}
	return pkru;
}

/* Run @fn in a child process; its exit status, 128 + signal, or -1. */
#define run_in_child(fn, arg)	run_in_child_timeout(fn, arg, CHILD_TIMEOUT_SECS)

/* ==================================================================== */
/* Threads                                                              */
/* ==================================================================== */

/*
 * Threads are awaited through a completion flag, not pthread_join(),
 * so no C library futex wait is involved; they are detached.  Only the
 * main thread of a test may use the harness's EXPECT/ASSERT: threads
 * record what they saw and the main thread checks it.
 */
struct thread {
	pthread_t handle;
	void *(*fn)(void *arg);
	void *arg;
	int tid;
	int started;
	int done;
};

static void *thread_trampoline(void *arg)
{
	struct thread *t = arg;

	WRITE_ONCE(t->tid, gettid_raw());
	publish(&t->started, 1);
	t->fn(t->arg);
	publish(&t->done, 1);
	return NULL;
}

/* Start @fn(@arg) in a new thread and wait until it runs; false on failure. */
static bool start_thread(struct thread *t, void *(*fn)(void *), void *arg)
{
	t->fn = fn;
	t->arg = arg;
	t->tid = 0;
	t->started = 0;
	t->done = 0;
	if (pthread_create(&t->handle, NULL, thread_trampoline, t))
		return false;
	pthread_detach(t->handle);
	return wait_at_least(&t->started, 1);
}

static bool join_thread(struct thread *t)
{
	return wait_at_least(&t->done, 1);
}

/* PKRU a thread created now starts with. */
static bool new_thread_pkru(uint32_t *pkru)
{
	struct thread t;

	return start_thread(&t, sample_pkru, pkru) && join_thread(&t);
}

/* Shared with record_entry_pkru(): only READ_ONCE()/WRITE_ONCE(). */
static uint32_t entry_pkru_seen;
static int entry_pkru_count;

static void record_entry_pkru(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	(void)ctx;
	WRITE_ONCE(entry_pkru_seen, rdpkru());
	WRITE_ONCE(entry_pkru_count, READ_ONCE(entry_pkru_count) + 1);
}

/* PKRU a SIGUSR2 handler of the calling thread starts with. */
static bool handler_pkru(uint32_t *pkru)
{
	int before = READ_ONCE(entry_pkru_count);

	if (install_handler(SIGUSR2, record_entry_pkru, 0))
		return false;
	raise(SIGUSR2);
	*pkru = READ_ONCE(entry_pkru_seen);
	return READ_ONCE(entry_pkru_count) == before + 1;
}

/*
 * A thread that samples its PKRU whenever the main thread asks, meanwhile
 * spinning in user space (an IPI reaches it), calling sched_yield() (it
 * keeps entering and leaving the kernel) or sleeping in read() on a
 * pipe (it is in the kernel when the rights change).
 */
enum spinner_mode {
	SPIN_USER,
	SPIN_YIELD,
	SPIN_BLOCKED,
};

struct spinner {
	struct thread thread;
	enum spinner_mode mode;
	int set_own;		/* WRPKRU own_pkru when it starts */
	uint32_t own_pkru;
	int request;		/* bumped by the main thread */
	int answer;		/* the request the last sample answers */
	int stop;
	uint32_t pkru;		/* the last sample */
	int pipe[2];		/* SPIN_BLOCKED: 's' sample, 'q' quit */
};

static void *spinner_main(void *arg)
{
	struct spinner *s = arg;
	int seen = 0, req;
	char c;

	if (s->set_own)
		wrpkru(s->own_pkru);
	for (;;) {
		if (s->mode == SPIN_BLOCKED) {
			if (read(s->pipe[0], &c, 1) != 1 || c == 'q')
				break;
		} else if (READ_ONCE(s->stop)) {
			break;
		}
		req = __atomic_load_n(&s->request, __ATOMIC_ACQUIRE);
		if (req != seen) {
			WRITE_ONCE(s->pkru, rdpkru());
			seen = req;
			publish(&s->answer, req);
		}
		if (s->mode == SPIN_YIELD)
			sched_yield();
		else if (s->mode == SPIN_USER)
			cpu_relax();
	}
	return NULL;
}

static bool spinner_start(struct spinner *s, enum spinner_mode mode,
			  bool set_own, uint32_t own_pkru)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->set_own = set_own;
	s->own_pkru = own_pkru;
	if (mode == SPIN_BLOCKED && pipe(s->pipe))
		return false;
	return start_thread(&s->thread, spinner_main, s);
}

/* The spinner's PKRU, sampled after this call started. */
static bool spinner_sample(struct spinner *s, uint32_t *pkru)
{
	int req = __atomic_add_fetch(&s->request, 1, __ATOMIC_ACQ_REL);

	if (s->mode == SPIN_BLOCKED && write(s->pipe[1], "s", 1) != 1)
		return false;
	if (!wait_at_least(&s->answer, req))
		return false;
	*pkru = READ_ONCE(s->pkru);
	return true;
}

static void spinner_stop(struct spinner *s)
{
	WRITE_ONCE(s->stop, 1);
	if (s->mode == SPIN_BLOCKED && write(s->pipe[1], "q", 1) != 1)
		return;
	join_thread(&s->thread);
}

/* State of thread @tid from /proc/self/task/TID/stat ('R', 'S', ...), or 0. */
static char thread_state(int tid)
{
	char path[64], buf[512], *paren;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	paren = strrchr(buf, ')');
	if (!paren || paren[1] != ' ')
		return 0;
	return paren[2];
}

/* Wait until thread @tid sleeps in the kernel. */
static bool wait_sleeping(int tid)
{
	uint64_t deadline = now_ms() + WAIT_MS;

	while (thread_state(tid) != 'S') {
		if (now_ms() > deadline)
			return false;
		usleep(1000);
	}
	return true;
}

/* ==================================================================== */
/* Probing keyed memory                                                 */
/* ==================================================================== */

/*
 * pr_probe_read()/pr_probe_write() access one word; 1 if the access
 * completed, 0 if it faulted.  The SIGSEGV handler recognises the
 * faulting instruction, records the siginfo and resumes at the fixup
 * label, and the thread goes back through sigreturn: its PKRU is what
 * the kernel restores, not a value saved by the test, so rights that
 * change under a thread that probes in a loop stay as the kernel leaves
 * them.  (pkeys_util.h's probe_read() writes back the PKRU it saved
 * before the access; it is used where nothing else changes the rights.)
 */
asm(".pushsection .text\n"
	".globl pr_probe_read\n"
	".type pr_probe_read, @function\n"
	"pr_probe_read:\n"
#ifdef __x86_64__
	"	xor %eax, %eax\n"
	".globl pr_read_insn\n"
	"pr_read_insn:\n"
	"	mov (%rdi), %edx\n"
	"	mov %edx, (%rsi)\n"
	"	inc %eax\n"
#else
	"	mov 4(%esp), %ecx\n"
	"	xor %eax, %eax\n"
	".globl pr_read_insn\n"
	"pr_read_insn:\n"
	"	mov (%ecx), %edx\n"
	"	mov 8(%esp), %ecx\n"
	"	mov %edx, (%ecx)\n"
	"	inc %eax\n"
#endif
	".globl pr_read_fixup\n"
	"pr_read_fixup:\n"
	"	ret\n"
	".size pr_probe_read, . - pr_probe_read\n"
	".globl pr_probe_write\n"
	".type pr_probe_write, @function\n"
	"pr_probe_write:\n"
#ifdef __x86_64__
	"	xor %eax, %eax\n"
	".globl pr_write_insn\n"
	"pr_write_insn:\n"
	"	mov %esi, (%rdi)\n"
	"	inc %eax\n"
#else
	"	mov 4(%esp), %ecx\n"
	"	mov 8(%esp), %edx\n"
	"	xor %eax, %eax\n"
	".globl pr_write_insn\n"
	"pr_write_insn:\n"
	"	mov %edx, (%ecx)\n"
	"	inc %eax\n"
#endif
	".globl pr_write_fixup\n"
	"pr_write_fixup:\n"
	"	ret\n"
	".size pr_probe_write, . - pr_probe_write\n"
	".popsection\n");

/* The last fault of a pr_probe_*() of this thread, and how many there were. */
static __thread struct fault_info probe_fault;
static __thread int probe_faults;

static void segv_handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	greg_t *ip = &uc->uc_mcontext.gregs[REG_IP_INDEX];
	const char *fixup = NULL;

	if (*ip == (greg_t)(uintptr_t)pr_read_insn)
		fixup = pr_read_fixup;
	else if (*ip == (greg_t)(uintptr_t)pr_write_insn)
		fixup = pr_write_fixup;
	if (!fixup) {
		/* probe_read()/probe_write(), or a real crash. */
		fault_catcher(sig, si, ctx);
		return;
	}
	probe_fault.signo = sig;
	probe_fault.code = si->si_code;
	probe_fault.addr = si->si_addr;
	probe_fault.pkey = siginfo_pkey(si);
	probe_faults++;
	*ip = (greg_t)(uintptr_t)fixup;
}

/* The fault just recorded is a protection key fault on @addr with @key. */
static bool probe_fault_is(const void *addr, int key)
{
	return probe_fault.signo == SIGSEGV &&
	       probe_fault.code == SEGV_PKUERR &&
	       probe_fault.addr == addr && probe_fault.pkey == key;
}

/* What a thread saw when it touched keyed memory. */
struct access_result {
	int read_ok;
	uint32_t value;
	int write_ok;
	struct fault_info read_fault;
	uint32_t pkru;
};

/* Read, then (if the read worked) write @word; record everything. */
static void try_access(uint32_t *word, struct access_result *r)
{
	r->pkru = rdpkru();
	r->read_ok = probe_read(word, &r->value);
	r->read_fault = last_fault;
	r->write_ok = r->read_ok && probe_write(word, MARKER);
}

/* Checks for a thread that must have been refused with SEGV_PKUERR. */
static void expect_key_fault(struct __test_metadata *_metadata,
			     const struct access_result *r,
			     const uint32_t *word, int key)
{
	EXPECT_FALSE(r->read_ok)
		TH_LOG("read of the keyed word succeeded, PKRU 0x%08x", r->pkru);
	if (r->read_ok)
		return;
	EXPECT_EQ(SIGSEGV, r->read_fault.signo);
	EXPECT_EQ(SEGV_PKUERR, r->read_fault.code);
	EXPECT_EQ((uintptr_t)word, (uintptr_t)r->read_fault.addr);
	EXPECT_EQ(key, r->read_fault.pkey);
}

/* Checks for a thread that must have read and written the keyed word. */
static void expect_key_access(struct __test_metadata *_metadata,
			      const struct access_result *r)
{
	EXPECT_TRUE(r->read_ok)
		TH_LOG("read faulted (si_code %d, si_pkey %d), PKRU 0x%08x",
		       r->read_fault.code, r->read_fault.pkey, r->pkru);
	if (!r->read_ok)
		return;
	EXPECT_EQ(MARKER, r->value);
	EXPECT_TRUE(r->write_ok);
}

/* ==================================================================== */
/* The V8 crash patterns                                                */
/* ==================================================================== */

/* How the test gives the key's rights (allow everything) to the process. */
enum grant_mode {
	GRANT_NONE,		/* pkey_alloc(0, 0): the allocating thread only */
	GRANT_ALLOC_FLAG,	/* pkey_alloc(PKEY_ALLOC_PROCESS, 0) */
	GRANT_SET_PROCESS,	/* pkey_alloc(0, 0), pkey_set_process(key, 0, 0) */
};

static bool require_for_mode(struct __test_metadata *_metadata,
			     enum grant_mode mode)
{
	if (mode == GRANT_NONE)
		return require_pku(_metadata);
	return require_process_rights(_metadata);
}

/* A keyed page (see keyed_page()) whose key allows everything as @mode says. */
static int alloc_for_mode(void **page, enum grant_mode mode)
{
	int key = keyed_page(page, mode == GRANT_ALLOC_FLAG ?
			     PKEY_ALLOC_PROCESS : 0, PKEY_ALLOW_ALL);

	if (key > 0 && mode == GRANT_SET_PROCESS &&
	    pkey_set_process(key, PKEY_ALLOW_ALL, 0))
		return -1;
	return key;
}

struct late_access {
	uint32_t *word;
	int go;
	struct thread inner;	/* v8_thread grandchild_*: the thread it creates */
	int inner_started;
	struct access_result r;
};

static void *access_when_told(void *arg)
{
	struct late_access *c = arg;

	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		sched_yield();
	try_access(c->word, &c->r);
	return NULL;
}

/*
 * (b) A thread created, after the key was allocated, by a thread that
 * existed before (not by the allocating thread) uses the key.
 */
static void *create_accessor_when_told(void *arg)
{
	struct late_access *c = arg;

	while (!__atomic_load_n(&c->go, __ATOMIC_ACQUIRE))
		sched_yield();
	if (start_thread(&c->inner, access_when_told, c)) {
		publish(&c->inner_started, 1);
		join_thread(&c->inner);
	}
	return NULL;
}

/*
 * A thread other than the allocating one uses the key: (a) one that
 * exists before the key is allocated (early_*), or (b) one that such a
 * thread creates after the allocation (grandchild_*).
 */
FIXTURE(v8_thread) {
};

FIXTURE_VARIANT(v8_thread) {
	enum grant_mode mode;
	bool grandchild;
};

FIXTURE_VARIANT_ADD(v8_thread, early_plain_alloc) {
	.mode = GRANT_NONE,
};

FIXTURE_VARIANT_ADD(v8_thread, early_alloc_process) {
	.mode = GRANT_ALLOC_FLAG,
};

FIXTURE_VARIANT_ADD(v8_thread, early_set_process) {
	.mode = GRANT_SET_PROCESS,
};

FIXTURE_VARIANT_ADD(v8_thread, grandchild_plain_alloc) {
	.mode = GRANT_NONE,
	.grandchild = true,
};

FIXTURE_VARIANT_ADD(v8_thread, grandchild_alloc_process) {
	.mode = GRANT_ALLOC_FLAG,
	.grandchild = true,
};

FIXTURE_VARIANT_ADD(v8_thread, grandchild_set_process) {
	.mode = GRANT_SET_PROCESS,
	.grandchild = true,
};

FIXTURE_SETUP(v8_thread)
{
	require_for_mode(_metadata, variant->mode);
}

FIXTURE_TEARDOWN(v8_thread)
{
}

TEST_F(v8_thread, touches_keyed_memory)
{
	struct late_access c = { 0 };
	struct thread t;
	void *page;
	int key;

	ASSERT_TRUE(start_thread(&t, variant->grandchild ?
				 create_accessor_when_told : access_when_told,
				 &c));
	key = alloc_for_mode(&page, variant->mode);
	ASSERT_GT(key, DEFAULT_PKEY);
	c.word = probe_word(page);
	publish(&c.go, 1);
	ASSERT_TRUE(join_thread(&t));
	if (variant->grandchild)
		ASSERT_EQ(1, READ_ONCE(c.inner_started));
	if (variant->mode == GRANT_NONE)
		expect_key_fault(_metadata, &c.r, c.word, key);
	else
		expect_key_access(_metadata, &c.r);
}

/*
 * (c) A signal handler on a sigaltstack tagged with the key.  The kernel
 * writes the frame with every key open and starts the handler with the
 * default PKRU plus the process rights; an ordinary C handler then uses
 * its stack at once (its return address at the latest).  With plain
 * pkey_alloc() the default PKRU denies the stack and the handler
 * faults; with process rights it may use the stack exactly as the
 * rights allow.
 *
 * Runs in a child: its SIGSEGV handler (no SA_ONSTACK, so it runs on
 * the same keyed stack) opens every key with WRPKRU before it touches
 * the stack, records the fault in shared memory and exits.
 */
struct altstack_report {
	int key;
	int faulted;
	int code;
	int pkey;
	uintptr_t addr;
	int handler_ran;
	uint32_t handler_pkru;
	uintptr_t stack_lo, stack_hi;
};

static struct altstack_report *altstack_report;

asm(".pushsection .text\n"
	".globl pr_open_segv_entry\n"
	".type pr_open_segv_entry, @function\n"
	"pr_open_segv_entry:\n"
#ifdef __x86_64__
	"	mov %rdx, %r8\n"		/* WRPKRU needs EDX = 0 */
#endif
	"	xor %eax, %eax\n"
	"	xor %ecx, %ecx\n"
	"	xor %edx, %edx\n"
	"	.byte 0x0f, 0x01, 0xef\n"	/* wrpkru: every key open */
#ifdef __x86_64__
	"	mov %r8, %rdx\n"
#endif
	"	jmp pr_open_segv_body\n"
	".size pr_open_segv_entry, . - pr_open_segv_entry\n"
	".popsection\n");

void pr_open_segv_body(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)ctx;
	WRITE_ONCE(altstack_report->code, si->si_code);
	WRITE_ONCE(altstack_report->pkey, siginfo_pkey(si));
	WRITE_ONCE(altstack_report->addr, (uintptr_t)si->si_addr);
	WRITE_ONCE(altstack_report->faulted, 1);
	_exit(CHILD_HANDLER_FAULTED);
}

static void altstack_user_handler(int sig, siginfo_t *si, void *ctx)
{
	char buf[256];

	(void)sig;
	(void)si;
	(void)ctx;
	WRITE_ONCE(altstack_report->handler_pkru, rdpkru());
	/* Stores to the stack the compiler cannot leave out. */
	memset(buf, 0x5a, sizeof(buf));
	asm volatile("" : : "r" (buf) : "memory");
	WRITE_ONCE(altstack_report->handler_ran, 1);
}

struct altstack_request {
	enum grant_mode mode;
	unsigned long rights;
};

static int child_keyed_altstack(void *arg)
{
	const struct altstack_request *req = arg;
	char *stack = map_anon(ALTSTACK_SIZE, PROT_READ | PROT_WRITE);
	stack_t ss = { .ss_size = ALTSTACK_SIZE };
	unsigned long flags = req->mode == GRANT_NONE ? 0 : PKEY_ALLOC_PROCESS;
	int key;

	if (!stack || install_handler(SIGSEGV, pr_open_segv_entry, 0))
		return CHILD_SETUP_FAILED;
	key = (int)sys_pkey_alloc(flags, req->rights);
	if (key <= DEFAULT_PKEY ||
	    sys_pkey_mprotect(stack, ALTSTACK_SIZE, PROT_READ | PROT_WRITE, key))
		return CHILD_SETUP_FAILED;
	WRITE_ONCE(altstack_report->key, key);
	WRITE_ONCE(altstack_report->stack_lo, (uintptr_t)stack);
	WRITE_ONCE(altstack_report->stack_hi, (uintptr_t)stack + ALTSTACK_SIZE);
	ss.ss_sp = stack;
	if (sigaltstack(&ss, NULL) ||
	    install_handler(SIGUSR1, altstack_user_handler, SA_ONSTACK))
		return CHILD_SETUP_FAILED;
	raise(SIGUSR1);
	if (!READ_ONCE(altstack_report->handler_ran))
		return CHILD_SETUP_FAILED;
	return CHILD_OK;
}

FIXTURE(v8_keyed_altstack) {
	struct altstack_report *report;
};

FIXTURE_VARIANT(v8_keyed_altstack) {
	enum grant_mode mode;
	unsigned long rights;
};

/* The stock pattern: the allocating thread may use the key, its handler not. */
FIXTURE_VARIANT_ADD(v8_keyed_altstack, plain_alloc) {
	.mode = GRANT_NONE,
	.rights = PKEY_ALLOW_ALL,
};

FIXTURE_VARIANT_ADD(v8_keyed_altstack, process_allow_all) {
	.mode = GRANT_ALLOC_FLAG,
	.rights = PKEY_ALLOW_ALL,
};

FIXTURE_VARIANT_ADD(v8_keyed_altstack, process_disable_write) {
	.mode = GRANT_ALLOC_FLAG,
	.rights = PKEY_DISABLE_WRITE,
};

FIXTURE_VARIANT_ADD(v8_keyed_altstack, process_disable_access) {
	.mode = GRANT_ALLOC_FLAG,
	.rights = PKEY_DISABLE_ACCESS,
};

FIXTURE_SETUP(v8_keyed_altstack)
{
	if (!require_for_mode(_metadata, variant->mode))
		return;
	self->report = map_shared(page_size());
	ASSERT_FALSE(!self->report);
	altstack_report = self->report;
}

FIXTURE_TEARDOWN(v8_keyed_altstack)
{
}

TEST_F(v8_keyed_altstack, handler_uses_its_stack)
{
	struct altstack_request req = {
		.mode = variant->mode,
		.rights = variant->rights,
	};
	struct altstack_report *rep = self->report;
	int ret = run_in_child(child_keyed_altstack, &req);

	if (variant->mode != GRANT_NONE && variant->rights == PKEY_ALLOW_ALL) {
		ASSERT_EQ(CHILD_OK, ret)
			TH_LOG("child: %s (%d), fault si_code %d si_pkey %d",
			       child_result_name(ret), ret, rep->code, rep->pkey);
		EXPECT_EQ(pkru_with_rights(startup_pkru, rep->key, variant->rights),
			  rep->handler_pkru);
		return;
	}
	ASSERT_EQ(CHILD_HANDLER_FAULTED, ret)
		TH_LOG("child: %s (%d), handler ran with PKRU 0x%08x",
		       child_result_name(ret), ret, rep->handler_pkru);
	EXPECT_EQ(SEGV_PKUERR, rep->code);
	EXPECT_EQ(rep->key, rep->pkey);
	EXPECT_GE(rep->addr, rep->stack_lo);
	EXPECT_LT(rep->addr, rep->stack_hi);
}

/*
 * (d) A thread sleeping in a system call (read() on a pipe, FUTEX_WAIT)
 * while the rights change, and using the key once the call returns.
 */
enum blocked_change {
	BLOCKED_PLAIN_ALLOC,	/* pkey_alloc(0, 0) meanwhile: not for the sleeper */
	BLOCKED_GRANT,		/* pkey_set_process(key, 0, 0) meanwhile */
	BLOCKED_REVOKE,		/* allowed before, PKEY_DISABLE_ACCESS meanwhile */
};

struct blocked_ctx {
	bool futex;
	int fds[2];
	uint32_t futex_word;
	uint32_t *word;		/* keyed word; set before the thread is woken */
	int first_done;		/* the thread is about to block */
	int returned;		/* the blocking call returned */
	struct access_result before;
	struct access_result after;
	int sys_ret;
	int sys_errno;
};

static void *blocked_thread(void *arg)
{
	struct blocked_ctx *c = arg;
	uint32_t *early_word = READ_ONCE(c->word);
	char byte;
	long ret;

	/* BLOCKED_REVOKE: the key is there already and may be used. */
	if (early_word)
		try_access(early_word, &c->before);
	publish(&c->first_done, 1);
	if (c->futex) {
		ret = 0;
		while (!__atomic_load_n(&c->futex_word, __ATOMIC_ACQUIRE)) {
			ret = syscall(SYS_futex_any, &c->futex_word,
				      FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
			if (ret == -1 && errno != EAGAIN && errno != EINTR)
				break;
		}
	} else {
		ret = read(c->fds[0], &byte, 1);
	}
	c->sys_errno = ret < 0 ? errno : 0;
	c->sys_ret = (int)ret;
	publish(&c->returned, 1);
	try_access(READ_ONCE(c->word), &c->after);
	return NULL;
}

FIXTURE(v8_blocked_thread) {
};

FIXTURE_VARIANT(v8_blocked_thread) {
	enum blocked_change change;
	bool futex;
};

FIXTURE_VARIANT_ADD(v8_blocked_thread, plain_alloc_pipe) {
	.change = BLOCKED_PLAIN_ALLOC,
};

FIXTURE_VARIANT_ADD(v8_blocked_thread, grant_pipe) {
	.change = BLOCKED_GRANT,
};

FIXTURE_VARIANT_ADD(v8_blocked_thread, revoke_pipe) {
	.change = BLOCKED_REVOKE,
};

FIXTURE_VARIANT_ADD(v8_blocked_thread, plain_alloc_futex) {
	.change = BLOCKED_PLAIN_ALLOC,
	.futex = true,
};

FIXTURE_VARIANT_ADD(v8_blocked_thread, grant_futex) {
	.change = BLOCKED_GRANT,
	.futex = true,
};

FIXTURE_VARIANT_ADD(v8_blocked_thread, revoke_futex) {
	.change = BLOCKED_REVOKE,
	.futex = true,
};

FIXTURE_SETUP(v8_blocked_thread)
{
	require_for_mode(_metadata, variant->change == BLOCKED_PLAIN_ALLOC ?
			 GRANT_NONE : GRANT_SET_PROCESS);
}

FIXTURE_TEARDOWN(v8_blocked_thread)
{
}

TEST_F(v8_blocked_thread, reads_after_the_call_returns)
{
	struct blocked_ctx c = { .futex = variant->futex };
	struct thread t;
	void *page = NULL;
	int key = -1;

	ASSERT_EQ(0, pipe(c.fds));
	if (variant->change == BLOCKED_REVOKE) {
		key = alloc_for_mode(&page, GRANT_ALLOC_FLAG);
		ASSERT_GT(key, DEFAULT_PKEY);
		c.word = probe_word(page);
	}
	ASSERT_TRUE(start_thread(&t, blocked_thread, &c));
	ASSERT_TRUE(wait_at_least(&c.first_done, 1));
	if (!wait_sleeping(t.tid)) {
		if (READ_ONCE(t.done) && c.sys_errno == ERRNO_NO_SYSCALL)
			SKIP(return, "no futex system call for this ABI");
		ASSERT_TRUE(false) TH_LOG("thread never went to sleep");
	}

	switch (variant->change) {
	case BLOCKED_PLAIN_ALLOC:
		key = alloc_for_mode(&page, GRANT_NONE);
		ASSERT_GT(key, DEFAULT_PKEY);
		break;
	case BLOCKED_GRANT:
		key = alloc_for_mode(&page, GRANT_SET_PROCESS);
		ASSERT_GT(key, DEFAULT_PKEY);
		break;
	case BLOCKED_REVOKE:
		ASSERT_EQ(0, pkey_set_process(key, PKEY_DISABLE_ACCESS, 0));
		break;
	}
	/* Still in the call: the change happened while it was in the kernel. */
	ASSERT_EQ(0, READ_ONCE(c.returned));
	WRITE_ONCE(c.word, probe_word(page));
	if (variant->futex) {
		__atomic_store_n(&c.futex_word, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex_any, &c.futex_word, FUTEX_WAKE_PRIVATE, 1,
			NULL, NULL, 0);
	} else {
		ASSERT_EQ(1, write(c.fds[1], "x", 1));
	}
	ASSERT_TRUE(join_thread(&t));
	EXPECT_LE(0, c.sys_ret) TH_LOG("blocking call: %s", strerror(c.sys_errno));
	if (variant->change == BLOCKED_REVOKE)
		expect_key_access(_metadata, &c.before);
	if (variant->change == BLOCKED_GRANT)
		expect_key_access(_metadata, &c.after);
	else
		expect_key_fault(_metadata, &c.after, c.word, key);
}

/*
 * A system call already in progress in another thread finishes with the
 * rights it had: a read() asleep on an empty pipe, into a keyed buffer,
 * while the key's process rights change, copies (or fails) as the old
 * rights say once data arrives.
 */
struct in_progress_ctx {
	char *buf;
	int fds[2];
	int ret;
	int err;
};

static void *read_into_keyed_buffer(void *arg)
{
	struct in_progress_ctx *c = arg;

	c->ret = (int)read(c->fds[0], c->buf, IO_LEN);
	c->err = c->ret < 0 ? errno : 0;
	return NULL;
}

FIXTURE(in_progress_syscall) {
};

FIXTURE_VARIANT(in_progress_syscall) {
	unsigned long before;
	unsigned long during;
};

FIXTURE_VARIANT_ADD(in_progress_syscall, revoked_meanwhile) {
	.before = PKEY_ALLOW_ALL,
	.during = PKEY_DISABLE_ACCESS,
};

FIXTURE_VARIANT_ADD(in_progress_syscall, granted_meanwhile) {
	.before = PKEY_DISABLE_ACCESS,
	.during = PKEY_ALLOW_ALL,
};

FIXTURE_SETUP(in_progress_syscall)
{
	require_process_rights(_metadata);
}

FIXTURE_TEARDOWN(in_progress_syscall)
{
}

TEST_F(in_progress_syscall, finishes_with_the_old_rights)
{
	struct in_progress_ctx c = { 0 };
	char data[IO_LEN];
	struct thread t;
	void *page;
	int key;

	key = keyed_page(&page, PKEY_ALLOC_PROCESS, variant->before);
	ASSERT_GT(key, DEFAULT_PKEY);
	c.buf = page;
	ASSERT_EQ(0, pipe(c.fds));
	memset(data, 0x3c, sizeof(data));
	ASSERT_TRUE(start_thread(&t, read_into_keyed_buffer, &c));
	ASSERT_TRUE(wait_sleeping(t.tid));
	ASSERT_EQ(0, pkey_set_process(key, variant->during, 0));
	ASSERT_EQ(IO_LEN, write(c.fds[1], data, IO_LEN));
	ASSERT_TRUE(join_thread(&t));
	if (variant->before & PKEY_DISABLE_ACCESS) {
		EXPECT_EQ(-1, c.ret);
		EXPECT_EQ(EFAULT, c.err)
			TH_LOG("read() got the new rights: %d (%s)", c.ret,
			       strerror(c.err));
		return;
	}
	EXPECT_EQ(IO_LEN, c.ret)
		TH_LOG("read() got the new rights: %s", strerror(c.err));
	ASSERT_EQ(0, pkey_set_process(key, PKEY_ALLOW_ALL, 0));
	if (c.ret == IO_LEN)
		EXPECT_EQ(0, memcmp(data, c.buf, IO_LEN));
}

/* ==================================================================== */
/* The calling thread and the other threads                             */
/* ==================================================================== */

FIXTURE(set_rights) {
	int key;
	uint32_t *word;
};

FIXTURE_VARIANT(set_rights) {
	unsigned long rights;
};

FIXTURE_VARIANT_ADD(set_rights, allow_all) {
	.rights = PKEY_ALLOW_ALL,
};

FIXTURE_VARIANT_ADD(set_rights, disable_access) {
	.rights = PKEY_DISABLE_ACCESS,
};

FIXTURE_VARIANT_ADD(set_rights, disable_write) {
	.rights = PKEY_DISABLE_WRITE,
};

FIXTURE_VARIANT_ADD(set_rights, disable_access_and_write) {
	.rights = PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE,
};

FIXTURE_SETUP(set_rights)
{
	void *page;

	if (!require_process_rights(_metadata))
		return;
	self->key = keyed_page(&page, 0, PKEY_ALLOW_ALL);
	ASSERT_GT(self->key, DEFAULT_PKEY);
	self->word = probe_word(page);
}

FIXTURE_TEARDOWN(set_rights)
{
}

/* The rights are in force in the calling thread when the call returns. */
TEST_F(set_rights, apply_to_caller_on_return)
{
	uint32_t before, value;
	int ok;

	/* Start from the opposite of what is set, other keys scrambled. */
	before = pkru_with_rights(pattern_pkru(5, self->key), self->key,
				  ~variant->rights & PKEY_RIGHTS_MASK);
	wrpkru(before);
	ASSERT_EQ(0, pkey_set_process(self->key, variant->rights, 0));
	EXPECT_EQ(pkru_with_rights(before, self->key, variant->rights), rdpkru());

	ok = pr_probe_read(self->word, &value);
	EXPECT_EQ(!(variant->rights & PKEY_DISABLE_ACCESS), ok);
	if (!ok)
		EXPECT_TRUE(probe_fault_is(self->word, self->key));
	ok = pr_probe_write(self->word, MARKER);
	EXPECT_EQ(!variant->rights, ok);
	if (!ok)
		EXPECT_TRUE(probe_fault_is(self->word, self->key));
}

/*
 * pkey_alloc(PKEY_ALLOC_PROCESS, rights) gives the rights to every
 * thread, the caller included, before it returns; other keys' bits stay.
 */
TEST_F(set_rights, alloc_flag_applies_to_all_threads)
{
	static const enum spinner_mode modes[] = {
		SPIN_USER, SPIN_YIELD, SPIN_BLOCKED,
	};
	struct spinner s[ARRAY_SIZE(modes)];
	uint32_t own[ARRAY_SIZE(modes)], pkru, mine;
	unsigned int i;
	int key;

	/* The fixture's key is not used: the next free one is allocated. */
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		own[i] = pattern_pkru(i, -1);
		ASSERT_TRUE(spinner_start(&s[i], modes[i], true, own[i]));
		ASSERT_TRUE(spinner_sample(&s[i], &pkru));
		ASSERT_EQ(own[i], pkru);
	}
	ASSERT_TRUE(wait_sleeping(s[2].thread.tid));
	mine = rdpkru();
	key = (int)sys_pkey_alloc(PKEY_ALLOC_PROCESS, variant->rights);
	ASSERT_GT(key, DEFAULT_PKEY);
	EXPECT_EQ(pkru_with_rights(mine, key, variant->rights), rdpkru());
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		ASSERT_TRUE(spinner_sample(&s[i], &pkru));
		EXPECT_EQ(pkru_with_rights(own[i], key, variant->rights), pkru)
			TH_LOG("thread %u (mode %d)", i, modes[i]);
		spinner_stop(&s[i]);
	}
}

/*
 * Only the named key's two bits change, in every thread: each thread
 * set every other key for itself, differently, and keeps that.
 */
TEST_F(set_rights, change_only_that_key_in_every_thread)
{
	static const enum spinner_mode modes[] = {
		SPIN_USER, SPIN_YIELD, SPIN_BLOCKED,
		SPIN_USER, SPIN_YIELD, SPIN_BLOCKED,
	};
	static const unsigned long sequence[] = {
		PKEY_DISABLE_ACCESS, PKEY_ALLOW_ALL, PKEY_DISABLE_WRITE,
		PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE,
	};
	struct spinner s[ARRAY_SIZE(modes)];
	uint32_t own[ARRAY_SIZE(modes)], pkru, mine;
	unsigned long rights;
	unsigned int i, round;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		own[i] = pattern_pkru(i + 1, -1);
		ASSERT_TRUE(spinner_start(&s[i], modes[i], true, own[i]));
		ASSERT_TRUE(spinner_sample(&s[i], &pkru));
	}
	mine = pattern_pkru(11, -1);
	wrpkru(mine);
	for (round = 0; round <= ARRAY_SIZE(sequence); round++) {
		rights = round < ARRAY_SIZE(sequence) ? sequence[round] :
			 variant->rights;
		for (i = 0; i < ARRAY_SIZE(modes); i++)
			if (modes[i] == SPIN_BLOCKED)
				ASSERT_TRUE(wait_sleeping(s[i].thread.tid));
		ASSERT_EQ(0, pkey_set_process(self->key, rights, 0));
		EXPECT_EQ(pkru_with_rights(mine, self->key, rights), rdpkru());
		for (i = 0; i < ARRAY_SIZE(modes); i++) {
			ASSERT_TRUE(spinner_sample(&s[i], &pkru));
			EXPECT_EQ(pkru_with_rights(own[i], self->key, rights), pkru)
				TH_LOG("round %u, thread %u (mode %d)", round, i,
				       modes[i]);
		}
	}
	for (i = 0; i < ARRAY_SIZE(modes); i++)
		spinner_stop(&s[i]);
}

/* ==================================================================== */
/* Revocation reaches every thread before the call returns              */
/* ==================================================================== */

/*
 * Threads read the keyed word in a loop; the main thread grants and
 * revokes the key.  The phase is published after pkey_set_process()
 * returned (GRANTED, REVOKED) and before the next call (GRANTING,
 * REVOKING), and read before and after every access: an access that
 * both reads see in one REVOKED phase happened after the revocation
 * returned and before the next grant began, and must fault; in one
 * GRANTED phase it must work.  (An access with a phase change around
 * it, for instance because the thread was preempted, proves nothing.)
 * The "rdpkru" variants look at the thread's PKRU instead of reading
 * the word, so no signal is involved, and tell a late update from one
 * the thread had and then lost.
 */
enum revoke_state {
	PHASE_GRANTING,
	PHASE_GRANTED,
	PHASE_REVOKING,
	PHASE_REVOKED,
};

#define PHASE(round, state)	((int)(round) * 4 + (state))
#define PHASE_STATE(phase)	((phase) & 3)

struct revoke_shared {
	uint32_t *word;
	int key;
	int phase;
	int stop;
};

struct revoke_thread {
	struct thread thread;
	struct revoke_shared *shared;
	bool yield;
	bool rdpkru_only;
	int cpu;		/* pinned there, if >= 0 */
	int reverted;		/* wrong again after being right in that phase */
	int last_ok_phase;
	int last_fault_phase;
	int reads_after_revoke;	/* must stay 0 */
	int first_bad_read_phase;
	int faults_after_grant;	/* must stay 0 */
	int first_bad_fault_phase;
	int wrong_faults;	/* not SEGV_PKUERR on the word with the key */
	struct fault_info wrong;
};

static void *revoke_reader(void *arg)
{
	struct revoke_thread *t = arg;
	struct revoke_shared *sh = t->shared;
	int phase, ok, right_phase = -1;
	uint32_t value;

	if (t->cpu >= 0)
		pin_to_cpu(t->cpu);
	while (!READ_ONCE(sh->stop)) {
		if (t->yield)
			sched_yield();
		phase = __atomic_load_n(&sh->phase, __ATOMIC_ACQUIRE);
		signal_fence();
		if (t->rdpkru_only)
			ok = !(pkru_key_rights(rdpkru_ordered(), sh->key) &
			       PKEY_DISABLE_ACCESS);
		else
			ok = pr_probe_read(sh->word, &value);
		signal_fence();
		if (__atomic_load_n(&sh->phase, __ATOMIC_ACQUIRE) != phase)
			continue;
		if (ok == (PHASE_STATE(phase) == PHASE_GRANTED) ||
		    !(phase & 1))
			right_phase = phase;
		else if (right_phase == phase)
			t->reverted++;
		if (ok) {
			if (PHASE_STATE(phase) == PHASE_REVOKED &&
			    !t->reads_after_revoke++)
				t->first_bad_read_phase = phase;
			publish(&t->last_ok_phase, phase);
		} else {
			if (!t->rdpkru_only && !probe_fault_is(sh->word, sh->key) &&
			    !t->wrong_faults++)
				t->wrong = probe_fault;
			if (PHASE_STATE(phase) == PHASE_GRANTED &&
			    !t->faults_after_grant++)
				t->first_bad_fault_phase = phase;
			publish(&t->last_fault_phase, phase);
		}
	}
	return NULL;
}

FIXTURE(revocation) {
	struct revoke_shared shared;
	struct revoke_thread *threads;
};

FIXTURE_VARIANT(revocation) {
	int threads;
	int rounds;
	bool rdpkru_only;
	bool share_cpu;		/* all readers on the last CPU, none yielding */
};

FIXTURE_VARIANT_ADD(revocation, threads_8) {
	.threads = 8,
	.rounds = 20,
};

FIXTURE_VARIANT_ADD(revocation, threads_32) {
	.threads = 32,
	.rounds = 8,
};

FIXTURE_VARIANT_ADD(revocation, threads_4_rdpkru) {
	.threads = 4,
	.rounds = 50,
	.rdpkru_only = true,
};

FIXTURE_VARIANT_ADD(revocation, threads_16_rdpkru) {
	.threads = 16,
	.rounds = 20,
	.rdpkru_only = true,
};

/* Readers that preempt each other on one CPU while they run user code. */
FIXTURE_VARIANT_ADD(revocation, threads_3_rdpkru_one_cpu) {
	.threads = 3,
	.rounds = 50,
	.rdpkru_only = true,
	.share_cpu = true,
};

FIXTURE_SETUP(revocation)
{
	void *page;

	if (!require_process_rights(_metadata))
		return;
	/* Denied to everyone until the first round grants it. */
	self->shared.key = keyed_page(&page, PKEY_ALLOC_PROCESS,
				      PKEY_DISABLE_ACCESS);
	ASSERT_GT(self->shared.key, DEFAULT_PKEY);
	self->shared.word = probe_word(page);
	self->shared.phase = PHASE(0, PHASE_GRANTING);
	self->threads = calloc(variant->threads, sizeof(*self->threads));
	ASSERT_FALSE(!self->threads);
}

FIXTURE_TEARDOWN(revocation)
{
}

TEST_F_TIMEOUT(revocation, no_read_after_revoke_returns, 120)
{
	struct revoke_shared *sh = &self->shared;
	uint64_t deadline = now_ms() + 40000;
	int i, round, stuck = -1, rounds_done = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct revoke_thread *t;
	uint32_t value;

	if (variant->share_cpu && cpus > 1)
		pin_to_cpu(0);
	for (i = 0; i < variant->threads; i++) {
		t = &self->threads[i];
		t->shared = sh;
		t->yield = i & 1;	/* half of them keep entering the kernel */
		t->rdpkru_only = variant->rdpkru_only;
		t->cpu = -1;
		if (variant->share_cpu) {
			t->yield = false;
			t->cpu = cpus > 1 ? (int)cpus - 1 : -1;
		}
		t->last_ok_phase = -1;
		t->last_fault_phase = -1;
		ASSERT_TRUE(start_thread(&t->thread, revoke_reader, t));
	}
	for (round = 0; round < variant->rounds && now_ms() < deadline; round++) {
		publish(&sh->phase, PHASE(round, PHASE_GRANTING));
		ASSERT_EQ(0, pkey_set_process(sh->key, PKEY_ALLOW_ALL, 0));
		publish(&sh->phase, PHASE(round, PHASE_GRANTED));
		for (i = 0; i < variant->threads && stuck < 0; i++)
			if (!wait_at_least(&self->threads[i].last_ok_phase,
					   PHASE(round, PHASE_GRANTED)))
				stuck = i;
		ASSERT_EQ(-1, stuck)
			TH_LOG("round %d: thread %d never read after the grant",
			       round, stuck);

		publish(&sh->phase, PHASE(round, PHASE_REVOKING));
		ASSERT_EQ(0, pkey_set_process(sh->key, PKEY_DISABLE_ACCESS, 0));
		EXPECT_FALSE(pr_probe_read(sh->word, &value));
		publish(&sh->phase, PHASE(round, PHASE_REVOKED));
		for (i = 0; i < variant->threads && stuck < 0; i++)
			if (!wait_at_least(&self->threads[i].last_fault_phase,
					   PHASE(round, PHASE_REVOKED)))
				stuck = i;
		ASSERT_EQ(-1, stuck)
			TH_LOG("round %d: thread %d never faulted after the revocation",
			       round, stuck);
		rounds_done++;
	}
	WRITE_ONCE(sh->stop, 1);
	for (i = 0; i < variant->threads; i++)
		ASSERT_TRUE(join_thread(&self->threads[i].thread));
	TH_LOG("%d rounds, %d threads (%s)", rounds_done, variant->threads,
	       variant->share_cpu ? "all spinning on one CPU" :
	       "odd ones yield, even ones spin in user space");
	for (i = 0; i < variant->threads; i++) {
		t = &self->threads[i];
		EXPECT_EQ(0, t->reads_after_revoke)
			TH_LOG("thread %d had access after a revocation (first: round %d)",
			       i, t->first_bad_read_phase / 4);
		EXPECT_EQ(0, t->faults_after_grant)
			TH_LOG("thread %d was refused after a grant returned (first in round %d)",
			       i, t->first_bad_fault_phase / 4);
		EXPECT_EQ(0, t->reverted)
			TH_LOG("thread %d: %d times the old rights came back",
			       i, t->reverted);
		EXPECT_EQ(0, t->wrong_faults)
			TH_LOG("thread %d: fault si_code %d si_pkey %d addr %p",
			       i, t->wrong.code, t->wrong.pkey, t->wrong.addr);
	}
}

/* ==================================================================== */
/* A thread's own read-modify-write of PKRU, plain and in rseq          */
/* ==================================================================== */

/*
 * The rseq ABI (include/uapi/linux/rseq.h): a 32-byte area per thread
 * whose rseq_cs field, at offset 8, points to the descriptor of the
 * critical section the thread is in; a section interrupted by
 * preemption, a signal or (here) pkey_set_process() resumes at its
 * abort address, preceded by the 4-byte signature the thread
 * registered.  The C library registers the area itself (glibc 2.35 and
 * later, __rseq_size and __rseq_offset in <sys/rseq.h>); otherwise the
 * test registers one per thread.
 */
#define RSEQ_AREA_SIZE		32
#define RSEQ_CS_OFFSET		8
#define PR_RSEQ_SIG		0x53053053
#define PR_RSEQ_SIG_STR		"0x53053053"
#if defined(RSEQ_SIG) && RSEQ_SIG != PR_RSEQ_SIG
# error "unexpected x86 rseq signature"
#endif

static char *thread_pointer(void)
{
	char *tp;

#ifdef __x86_64__
	asm volatile("mov %%fs:0, %0" : "=r" (tp));
#else
	asm volatile("mov %%gs:0, %0" : "=r" (tp));
#endif
	return tp;
}

/* This thread's rseq area, registered by the C library or by us; or NULL. */
static char *thread_rseq_area(bool *by_libc)
{
	char *area;

#ifdef HAVE_SYS_RSEQ_H
	if (__rseq_size > 0) {
		*by_libc = true;
		return thread_pointer() + __rseq_offset;
	}
#endif
	*by_libc = false;
	/* A page of its own: aligned, and zero as the ABI wants it. */
	area = map_anon(page_size(), PROT_READ | PROT_WRITE);
	if (!area || syscall(SYS_rseq, area, RSEQ_AREA_SIZE, 0, PR_RSEQ_SIG))
		return NULL;
	return area;
}

/*
 * Toggle @mask in PKRU: RDPKRU, @spins turns of a delay loop, WRPKRU.
 * Returns the value written.  @spins must not be 0.
 */
static uint32_t pkru_rmw_plain(uint32_t mask, unsigned long spins)
{
	unsigned long ctr;
	uint32_t val;

	asm volatile("	xor %%ecx, %%ecx\n"
		"	.byte 0x0f, 0x01, 0xee\n"	/* rdpkru */
		"	xor %[mask], %%eax\n"
		"	mov %[spins], %[ctr]\n"
		"1:	dec %[ctr]\n"
		"	jnz 1b\n"
		"	xor %%edx, %%edx\n"
		"	.byte 0x0f, 0x01, 0xef\n"	/* wrpkru */
		: "=&a" (val), [ctr] "=&r" (ctr)
		: [mask] "rm" (mask), [spins] "rm" (spins)
		: "ecx", "edx", "memory", "cc");
	return val;
}

/*
 * The same as an rseq critical section that commits with the WRPKRU:
 * an abort starts it again from the RDPKRU, and counts in *@aborts.
 */
static uint32_t pkru_rmw_rseq(char *rseq_area, uint32_t mask,
			      unsigned long spins, unsigned int *aborts)
{
	uint32_t *cs = (uint32_t *)(rseq_area + RSEQ_CS_OFFSET);
	unsigned int restarts = 0;
	unsigned long ctr;
	uint32_t val;

	asm volatile(".pushsection .data\n"
		".balign 32\n"
		"pr_rseq_cs_%=:\n"
		"	.long 0, 0\n"			/* version, flags */
#ifdef __x86_64__
		"	.quad 3f, 4f - 3f, 5f\n"	/* start, length, abort */
#else
		"	.long 3f, 0, 4f - 3f, 0, 5f, 0\n"
#endif
		".popsection\n"
		"2:\n"
#ifdef __x86_64__
		"	lea pr_rseq_cs_%=(%%rip), %%rax\n"
		"	mov %%rax, %[cs_lo]\n"		/* the whole 64-bit field */
#else
		"	movl $pr_rseq_cs_%=, %[cs_lo]\n"
		"	movl $0, %[cs_hi]\n"
#endif
		"3:\n"
		"	xor %%ecx, %%ecx\n"
		"	.byte 0x0f, 0x01, 0xee\n"	/* rdpkru */
		"	xor %[mask], %%eax\n"
		"	mov %[spins], %[ctr]\n"
		"1:	dec %[ctr]\n"
		"	jnz 1b\n"
		"	xor %%edx, %%edx\n"
		"	.byte 0x0f, 0x01, 0xef\n"	/* wrpkru: the commit */
		"4:\n"
		"	jmp 6f\n"
		"	.byte 0x0f, 0xb9, 0x3d\n"	/* ud1: signature as operand */
		"	.long " PR_RSEQ_SIG_STR "\n"
		"5:\n"
		"	addl $1, %[restarts]\n"
		"	jmp 2b\n"
		"6:\n"
		: "=&a" (val), [ctr] "=&r" (ctr),
#ifdef __x86_64__
		  [cs_lo] "=m" (*(uint64_t *)cs),
#else
		  [cs_lo] "=m" (cs[0]), [cs_hi] "=m" (cs[1]),
#endif
		  [restarts] "+m" (restarts)
		: [mask] "m" (mask), [spins] "m" (spins)
		: "ecx", "edx", "memory", "cc");
	*aborts += restarts;
	return val;
}

struct rmw_ctx {
	struct thread thread;
	bool use_rseq;
	int key_other;		/* the key the thread toggles */
	unsigned long spins;
	int stop;
	int no_rseq;		/* no rseq area: the thread gave up */
	int rseq_by_libc;
	int iterations;
	uint32_t last_pkru;	/* PKRU right after the latest commit */
	int own_bits_lost;	/* its own key's bits not as written */
	unsigned int aborts;
};

static void *rmw_thread(void *arg)
{
	struct rmw_ctx *c = arg;
	uint32_t mask = PKEY_RIGHTS_MASK << pkru_shift(c->key_other);
	uint32_t written, now;
	char *area = NULL;
	bool by_libc;

	if (c->use_rseq) {
		area = thread_rseq_area(&by_libc);
		if (!area) {
			publish(&c->no_rseq, 1);
			return NULL;
		}
		c->rseq_by_libc = by_libc;
	}
	while (!READ_ONCE(c->stop)) {
		if (c->use_rseq)
			written = pkru_rmw_rseq(area, mask, c->spins, &c->aborts);
		else
			written = pkru_rmw_plain(mask, c->spins);
		now = rdpkru();
		if (pkru_key_rights(now, c->key_other) !=
		    pkru_key_rights(written, c->key_other))
			c->own_bits_lost++;
		WRITE_ONCE(c->last_pkru, now);
		publish(&c->iterations, c->iterations + 1);
	}
	return NULL;
}

static void *rmw_thread_pinned(void *arg)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
		pin_to_cpu(1);
	return rmw_thread(arg);
}

FIXTURE(own_rmw) {
	struct rmw_ctx ctx;
	int key;
};

FIXTURE_VARIANT(own_rmw) {
	bool use_rseq;
};

/* May lose updates: reported, not checked. */
FIXTURE_VARIANT_ADD(own_rmw, plain) {
	.use_rseq = false,
};

FIXTURE_VARIANT_ADD(own_rmw, rseq) {
	.use_rseq = true,
};

FIXTURE_SETUP(own_rmw)
{
	if (!require_process_rights(_metadata))
		return;
	self->key = (int)sys_pkey_alloc(0, PKEY_ALLOW_ALL);
	ASSERT_GT(self->key, DEFAULT_PKEY);
}

FIXTURE_TEARDOWN(own_rmw)
{
}

#define RMW_ROUNDS	400
#define RMW_MS		8000
#define RMW_SPINS	20000

TEST_F_TIMEOUT(own_rmw, concurrent_updates, 60)
{
	static const unsigned long sequence[] = {
		PKEY_DISABLE_ACCESS, PKEY_DISABLE_WRITE, PKEY_ALLOW_ALL,
		PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE,
	};
	struct rmw_ctx *c = &self->ctx;
	uint64_t deadline = now_ms() + RMW_MS;
	int round, start, lost = 0, stuck = 0;
	unsigned long rights;
	uint32_t pkru;

	c->use_rseq = variant->use_rseq;
	c->key_other = self->key % (NR_PKEYS - 1) + 1;	/* any other key */
	c->spins = RMW_SPINS;
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
		pin_to_cpu(0);
	ASSERT_TRUE(start_thread(&c->thread, rmw_thread_pinned, c));
	ASSERT_TRUE(wait_at_least(&c->iterations, 1) || READ_ONCE(c->no_rseq));
	if (READ_ONCE(c->no_rseq))
		SKIP(return, "no rseq: the C library did not register it and sys_rseq failed");

	for (round = 0; round < RMW_ROUNDS && now_ms() < deadline; round++) {
		rights = sequence[round % ARRAY_SIZE(sequence)];
		ASSERT_EQ(0, pkey_set_process(self->key, rights, 0));
		/* The second commit after this point began after the call returned. */
		start = __atomic_load_n(&c->iterations, __ATOMIC_ACQUIRE);
		if (!wait_at_least(&c->iterations, start + 2)) {
			stuck = 1;
			break;
		}
		pkru = READ_ONCE(c->last_pkru);
		if (pkru_key_rights(pkru, self->key) != rights)
			lost++;
	}
	WRITE_ONCE(c->stop, 1);
	ASSERT_TRUE(join_thread(&c->thread));
	ASSERT_EQ(0, stuck) TH_LOG("the thread stopped making progress");
	TH_LOG("%s: %d updates, %d lost, %u rseq aborts, %d RMWs%s",
	       variant->use_rseq ? "rseq" : "plain", round, lost, c->aborts,
	       c->iterations,
	       variant->use_rseq ? (c->rseq_by_libc ? " (libc's rseq area)" :
				    " (own rseq area)") : "");
	EXPECT_EQ(0, c->own_bits_lost)
		TH_LOG("the thread's own key changed under it");
	if (variant->use_rseq)
		EXPECT_EQ(0, lost)
			TH_LOG("an update was lost despite the rseq critical section");
}

/* ==================================================================== */
/* Signal handlers and sigreturn                                        */
/* ==================================================================== */

/*
 * A thread is interrupted by SIGUSR1 and held in the handler (spinning,
 * or asleep in read()) while the main thread changes the key's process
 * rights, or not.  After sigreturn the interrupted code must have the
 * key's new process rights if they were set during the handler, and
 * otherwise the PKRU it was interrupted with, whatever the handler
 * wrote into PKRU.  Shared with the handler: READ_ONCE()/WRITE_ONCE().
 */
#define HELD_NO_CHANGE		(-1L)

struct held_signal {
	struct thread thread;
	int key;
	int scribble_key;	/* the handler WRPKRUs this key, if > 0 */
	uint32_t *word;
	uint32_t interrupted;	/* PKRU the thread runs with */
	bool block;		/* the handler sleeps in read() */
	int fds[2];
	int ready;
	int in_handler;
	int release;
	int handled;
	uint32_t entry_pkru;	/* PKRU the handler started with */
	uint32_t late_pkru;	/* PKRU in the handler after the change */
	uint32_t after_pkru;	/* PKRU after sigreturn */
	int read_ok;
	struct fault_info fault;
};

static struct held_signal *held;

static void held_handler(int sig, siginfo_t *si, void *ctx)
{
	struct held_signal *h = held;
	char byte;

	(void)sig;
	(void)si;
	(void)ctx;
	WRITE_ONCE(h->entry_pkru, rdpkru());
	if (h->scribble_key > 0)
		set_key_rights(h->scribble_key,
			       PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE);
	publish(&h->in_handler, 1);
	if (h->block) {
		if (read(h->fds[0], &byte, 1) != 1)
			WRITE_ONCE(h->late_pkru, 0);
	} else {
		while (!__atomic_load_n(&h->release, __ATOMIC_ACQUIRE))
			cpu_relax();
	}
	WRITE_ONCE(h->late_pkru, rdpkru());
	publish(&h->handled, 1);
}

static void *held_thread(void *arg)
{
	struct held_signal *h = arg;
	uint32_t value;

	wrpkru(h->interrupted);
	publish(&h->ready, 1);
	while (!__atomic_load_n(&h->handled, __ATOMIC_ACQUIRE))
		cpu_relax();
	h->after_pkru = rdpkru();
	h->read_ok = pr_probe_read(h->word, &value);
	h->fault = probe_fault;
	return NULL;
}

FIXTURE(sigreturn) {
	struct held_signal h;
};

FIXTURE_VARIANT(sigreturn) {
	unsigned long initial;	/* the key's process rights before the signal */
	unsigned long local;	/* the thread's own rights before the signal */
	long change;		/* process rights set during the handler */
	bool block;
	bool scribble;		/* the handler WRPKRUs another key */
};

FIXTURE_VARIANT_ADD(sigreturn, revoke_while_handler_spins) {
	.initial = PKEY_ALLOW_ALL,
	.local = PKEY_ALLOW_ALL,
	.change = PKEY_DISABLE_ACCESS,
};

FIXTURE_VARIANT_ADD(sigreturn, revoke_while_handler_sleeps) {
	.initial = PKEY_ALLOW_ALL,
	.local = PKEY_ALLOW_ALL,
	.change = PKEY_DISABLE_ACCESS,
	.block = true,
};

FIXTURE_VARIANT_ADD(sigreturn, write_disable_while_handler_sleeps) {
	.initial = PKEY_ALLOW_ALL,
	.local = PKEY_ALLOW_ALL,
	.change = PKEY_DISABLE_WRITE,
	.block = true,
};

FIXTURE_VARIANT_ADD(sigreturn, grant_while_handler_sleeps) {
	.initial = PKEY_DISABLE_ACCESS,
	.local = PKEY_DISABLE_ACCESS,
	.change = PKEY_ALLOW_ALL,
	.block = true,
};

/* The handler's own WRPKRU of another key is undone; the revocation is not. */
FIXTURE_VARIANT_ADD(sigreturn, revoke_while_handler_changes_other_key) {
	.initial = PKEY_ALLOW_ALL,
	.local = PKEY_ALLOW_ALL,
	.change = PKEY_DISABLE_ACCESS,
	.scribble = true,
};

/* Nothing set during the handler: the frame's PKRU comes back, exactly. */
FIXTURE_VARIANT_ADD(sigreturn, no_change_handler_changes_other_key) {
	.initial = PKEY_ALLOW_ALL,
	.local = PKEY_ALLOW_ALL,
	.change = HELD_NO_CHANGE,
	.scribble = true,
};

/*
 * Process rights set before the signal, then changed by the thread
 * itself: the handler starts with the process rights, sigreturn brings
 * back the thread's own value.
 */
FIXTURE_VARIANT_ADD(sigreturn, local_change_before_signal_comes_back) {
	.initial = PKEY_ALLOW_ALL,
	.local = PKEY_DISABLE_ACCESS,
	.change = HELD_NO_CHANGE,
};

FIXTURE_SETUP(sigreturn)
{
	struct held_signal *h = &self->h;
	void *page;

	if (!require_process_rights(_metadata))
		return;
	h->key = keyed_page(&page, PKEY_ALLOC_PROCESS, variant->initial);
	ASSERT_GT(h->key, DEFAULT_PKEY);
	h->word = probe_word(page);
	h->block = variant->block;
	if (variant->scribble)
		h->scribble_key = h->key % (NR_PKEYS - 1) + 1;
	h->interrupted = pkru_with_rights(pattern_pkru(3, h->key), h->key,
					  variant->local);
	ASSERT_EQ(0, pipe(h->fds));
	held = h;
	ASSERT_EQ(0, install_handler(SIGUSR1, held_handler, 0));
}

FIXTURE_TEARDOWN(sigreturn)
{
}

TEST_F(sigreturn, interrupted_code_gets_right_pkru)
{
	struct held_signal *h = &self->h;
	unsigned long final = variant->change == HELD_NO_CHANGE ?
			      variant->local : (unsigned long)variant->change;
	uint32_t expected = pkru_with_rights(h->interrupted, h->key, final);

	ASSERT_TRUE(start_thread(&h->thread, held_thread, h));
	ASSERT_TRUE(wait_at_least(&h->ready, 1));
	ASSERT_EQ(0, tgkill_raw(h->thread.tid, SIGUSR1));
	ASSERT_TRUE(wait_at_least(&h->in_handler, 1));
	if (h->block)
		ASSERT_TRUE(wait_sleeping(h->thread.tid));
	if (variant->change != HELD_NO_CHANGE)
		ASSERT_EQ(0, pkey_set_process(h->key, variant->change, 0));
	publish(&h->release, 1);
	ASSERT_EQ(1, write(h->fds[1], "x", 1));
	ASSERT_TRUE(join_thread(&h->thread));

	/* The handler started with the default plus the process rights. */
	EXPECT_EQ(pkru_with_rights(startup_pkru, h->key, variant->initial),
		  h->entry_pkru);
	if (variant->change != HELD_NO_CHANGE)
		EXPECT_EQ((uint32_t)variant->change,
			  pkru_key_rights(h->late_pkru, h->key))
			TH_LOG("the handler did not get the change: PKRU 0x%08x",
			       h->late_pkru);
	EXPECT_EQ(expected, h->after_pkru)
		TH_LOG("interrupted 0x%08x, after sigreturn 0x%08x, expected 0x%08x",
		       h->interrupted, h->after_pkru, expected);
	if (final & PKEY_DISABLE_ACCESS) {
		EXPECT_FALSE(h->read_ok);
		if (!h->read_ok) {
			EXPECT_EQ(SEGV_PKUERR, h->fault.code);
			EXPECT_EQ(h->key, h->fault.pkey);
			EXPECT_EQ((uintptr_t)h->word, (uintptr_t)h->fault.addr);
		}
	} else {
		EXPECT_TRUE(h->read_ok)
			TH_LOG("read faulted: si_code %d si_pkey %d",
			       h->fault.code, h->fault.pkey);
	}
}

/* ==================================================================== */
/* New threads and signal handlers                                      */
/* ==================================================================== */

/*
 * Two keys with process rights (one allows all, one write-disables),
 * one without, one not allocated; the creating thread has changed all
 * four for itself.
 */
struct four_keys {
	int open;		/* process rights PKEY_ALLOW_ALL */
	int wd;			/* process rights PKEY_DISABLE_WRITE */
	int plain;		/* no process rights */
	int unallocated;
	uint32_t local;		/* the creator's PKRU */
};

static bool setup_four_keys(struct four_keys *k)
{
	k->open = (int)sys_pkey_alloc(PKEY_ALLOC_PROCESS, PKEY_ALLOW_ALL);
	k->wd = (int)sys_pkey_alloc(PKEY_ALLOC_PROCESS, PKEY_DISABLE_WRITE);
	k->plain = (int)sys_pkey_alloc(0, PKEY_ALLOW_ALL);
	if (k->open <= 0 || k->wd <= 0 || k->plain <= 0)
		return false;
	k->unallocated = NR_PKEYS - 1;
	if (k->unallocated == k->open || k->unallocated == k->wd ||
	    k->unallocated == k->plain)
		return false;
	k->local = pattern_pkru(7, -1);
	k->local = pkru_with_rights(k->local, k->open, PKEY_DISABLE_ACCESS);
	k->local = pkru_with_rights(k->local, k->wd, PKEY_ALLOW_ALL);
	k->local = pkru_with_rights(k->local, k->plain, PKEY_DISABLE_WRITE);
	k->local = pkru_with_rights(k->local, k->unallocated, PKEY_ALLOW_ALL);
	return true;
}

/* What a thread created by a thread with @base gets. */
static uint32_t with_process_rights(const struct four_keys *k, uint32_t base)
{
	base = pkru_with_rights(base, k->open, PKEY_ALLOW_ALL);
	return pkru_with_rights(base, k->wd, PKEY_DISABLE_WRITE);
}

TEST(new_thread_gets_process_rights_not_creators)
{
	struct four_keys k;
	uint32_t pkru;

	if (!require_process_rights(_metadata))
		return;
	ASSERT_TRUE(setup_four_keys(&k));
	wrpkru(k.local);
	ASSERT_TRUE(new_thread_pkru(&pkru));
	EXPECT_EQ(with_process_rights(&k, k.local), pkru)
		TH_LOG("creator 0x%08x", k.local);
	EXPECT_EQ(k.local, rdpkru());
}

struct creator_ctx {
	const struct four_keys *k;
	int ok;
	uint32_t child_pkru;
};

static void *change_then_create(void *arg)
{
	struct creator_ctx *c = arg;

	wrpkru(c->k->local);
	c->ok = new_thread_pkru(&c->child_pkru);
	return NULL;
}

/* The creator is not the allocating thread and changed the keys itself. */
TEST(thread_created_by_other_thread_gets_process_rights)
{
	struct creator_ctx c = { 0 };
	struct four_keys k;
	struct thread t;

	if (!require_process_rights(_metadata))
		return;
	ASSERT_TRUE(setup_four_keys(&k));
	c.k = &k;
	ASSERT_TRUE(start_thread(&t, change_then_create, &c));
	ASSERT_TRUE(join_thread(&t));
	ASSERT_TRUE(c.ok);
	EXPECT_EQ(with_process_rights(&k, k.local), c.child_pkru);
}

struct handler_ctx {
	const struct four_keys *k;
	int ok;
	uint32_t entry;
};

static void *change_then_signal(void *arg)
{
	struct handler_ctx *c = arg;

	wrpkru(c->k->local);
	c->ok = handler_pkru(&c->entry);
	return NULL;
}

/* Default PKRU plus the process rights, whatever the thread had. */
TEST(handler_starts_with_default_plus_process_rights)
{
	struct handler_ctx c = { 0 };
	struct four_keys k;
	struct thread t;
	uint32_t entry;

	if (!require_process_rights(_metadata))
		return;
	ASSERT_TRUE(setup_four_keys(&k));
	wrpkru(k.local);
	ASSERT_TRUE(handler_pkru(&entry));
	EXPECT_EQ(with_process_rights(&k, startup_pkru), entry);
	EXPECT_EQ(k.local, rdpkru());

	c.k = &k;
	ASSERT_TRUE(start_thread(&t, change_then_signal, &c));
	ASSERT_TRUE(join_thread(&t));
	ASSERT_TRUE(c.ok);
	EXPECT_EQ(with_process_rights(&k, startup_pkru), c.entry);
}

/*
 * clone(CLONE_VM) without CLONE_THREAD: the child shares the mm but is
 * not in the thread group.  It starts with the process rights like any
 * new task, and is not updated afterwards.
 */
struct clone_vm_ctx {
	uint32_t start_pkru;
	uint32_t late_pkru;
	int started;
	int sample;
};

static int clone_vm_child(void *arg)
{
	struct clone_vm_ctx *c = arg;

	WRITE_ONCE(c->start_pkru, rdpkru());
	publish(&c->started, 1);
	while (!__atomic_load_n(&c->sample, __ATOMIC_ACQUIRE))
		cpu_relax();
	WRITE_ONCE(c->late_pkru, rdpkru());
	return 0;
}

TEST(clone_vm_child_starts_with_process_rights_not_updated_later)
{
	struct clone_vm_ctx c = { 0 };
	struct four_keys k;
	int status;
	char *stack;
	pid_t pid;

	if (!require_process_rights(_metadata))
		return;
	ASSERT_TRUE(setup_four_keys(&k));
	stack = map_anon(CLONE_STACK_SIZE, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!stack);
	wrpkru(k.local);
	pid = clone(clone_vm_child, stack + CLONE_STACK_SIZE,
		    CLONE_VM | SIGCHLD, &c);
	ASSERT_LT(0, pid);
	if (!wait_at_least(&c.started, 1)) {
		kill(pid, SIGKILL);
		ASSERT_TRUE(false) TH_LOG("clone child did not run");
	}
	ASSERT_EQ(0, pkey_set_process(k.open, PKEY_DISABLE_WRITE, 0));
	publish(&c.sample, 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(with_process_rights(&k, k.local), c.start_pkru);
	EXPECT_EQ(c.start_pkru, c.late_pkru)
		TH_LOG("a task outside the thread group was updated");
}

/*
 * The same for a vfork() child: while the parent thread waits for it,
 * another thread of the parent changes the rights.
 */
struct vfork_ctx {
	int key;
	int child_started;
	int changed;
	int set_ret;
	uint32_t start_pkru;
	uint32_t late_pkru;
};

static struct vfork_ctx *vfork_ctx;

static void *set_when_vfork_child_runs(void *arg)
{
	struct vfork_ctx *c = arg;

	if (wait_at_least(&c->child_started, 1))
		c->set_ret = pkey_set_process(c->key, PKEY_DISABLE_WRITE, 0);
	publish(&c->changed, 1);
	return NULL;
}

TEST(vfork_child_starts_with_process_rights_not_updated_later)
{
	struct vfork_ctx c = { 0 };
	struct four_keys k;
	struct thread t;
	int status;
	pid_t pid;

	if (!require_process_rights(_metadata))
		return;
	ASSERT_TRUE(setup_four_keys(&k));
	c.key = k.open;
	c.set_ret = -1;
	vfork_ctx = &c;
	ASSERT_TRUE(start_thread(&t, set_when_vfork_child_runs, &c));
	wrpkru(k.local);
	pid = vfork();
	if (pid == 0) {
		/* Shares the parent's memory: only plain loads and stores. */
		vfork_ctx->start_pkru = rdpkru();
		__atomic_store_n(&vfork_ctx->child_started, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&vfork_ctx->changed, __ATOMIC_ACQUIRE))
			cpu_relax();
		vfork_ctx->late_pkru = rdpkru();
		_exit(0);
	}
	ASSERT_LT(0, pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(join_thread(&t));
	ASSERT_EQ(0, c.set_ret);
	EXPECT_EQ(with_process_rights(&k, k.local), c.start_pkru);
	EXPECT_EQ(c.start_pkru, c.late_pkru)
		TH_LOG("a vfork() child was updated");
	/* The parent thread, in the thread group, was. */
	EXPECT_EQ((uint32_t)PKEY_DISABLE_WRITE, pkru_key_rights(rdpkru(), k.open));
}

/* ==================================================================== */
/* fork() and execve()                                                  */
/* ==================================================================== */

struct fork_shared {
	int key;
	uint32_t forker_pkru;	/* the forking thread's own PKRU */
	int child_ready;
	int parent_changed;
	uint32_t child_pkru;
	uint32_t child_thread_pkru;
	uint32_t child_spinner_pkru;
};

static struct fork_shared *fork_shared;

/* The child starts with the process rights, not the forking thread's bits. */
static int child_check_inherited(void *arg)
{
	struct fork_shared *sh = arg;
	uint32_t pkru, mine;

	pkru = rdpkru();
	WRITE_ONCE(sh->child_pkru, pkru);
	if (pkru != pkru_with_rights(sh->forker_pkru, sh->key, PKEY_ALLOW_ALL))
		return CHILD_WRONG_PKRU;
	/* Its own later threads get them too. */
	mine = pkru_with_rights(pkru, sh->key, PKEY_DISABLE_ACCESS);
	wrpkru(mine);
	if (!new_thread_pkru(&pkru))
		return CHILD_SETUP_FAILED;
	WRITE_ONCE(sh->child_thread_pkru, pkru);
	if (pkru != pkru_with_rights(mine, sh->key, PKEY_ALLOW_ALL))
		return CHILD_THREAD_PKRU;
	return CHILD_OK;
}

TEST(fork_child_inherits_process_rights)
{
	struct fork_shared *sh = map_shared(sizeof(*sh));
	int ret;

	if (!require_process_rights(_metadata))
		return;
	ASSERT_FALSE(!sh);
	sh->key = (int)sys_pkey_alloc(PKEY_ALLOC_PROCESS, PKEY_ALLOW_ALL);
	ASSERT_GT(sh->key, DEFAULT_PKEY);
	sh->forker_pkru = pkru_with_rights(pattern_pkru(2, sh->key), sh->key,
					   PKEY_DISABLE_ACCESS);
	wrpkru(sh->forker_pkru);
	ret = run_in_child(child_check_inherited, sh);
	EXPECT_EQ(CHILD_OK, ret)
		TH_LOG("child: %s; forker 0x%08x, child 0x%08x, its thread 0x%08x",
		       child_result_name(ret), sh->forker_pkru, sh->child_pkru,
		       sh->child_thread_pkru);
}

/* The child revokes; the parent's threads, old and new, keep the key. */
static int child_revokes(void *arg)
{
	struct fork_shared *sh = arg;
	uint32_t pkru;

	if (pkey_set_process(sh->key, PKEY_DISABLE_ACCESS, 0))
		return CHILD_CALL_FAILED;
	if (pkru_key_rights(rdpkru(), sh->key) != PKEY_DISABLE_ACCESS)
		return CHILD_WRONG_PKRU;
	if (!new_thread_pkru(&pkru))
		return CHILD_SETUP_FAILED;
	if (pkru_key_rights(pkru, sh->key) != PKEY_DISABLE_ACCESS)
		return CHILD_THREAD_PKRU;
	return CHILD_OK;
}

TEST(fork_child_set_process_leaves_parent_alone)
{
	struct fork_shared *sh = map_shared(sizeof(*sh));
	struct spinner s;
	uint32_t pkru;
	int ret;

	if (!require_process_rights(_metadata))
		return;
	ASSERT_FALSE(!sh);
	sh->key = (int)sys_pkey_alloc(PKEY_ALLOC_PROCESS, PKEY_ALLOW_ALL);
	ASSERT_GT(sh->key, DEFAULT_PKEY);
	ASSERT_TRUE(spinner_start(&s, SPIN_USER, false, 0));
	ret = run_in_child(child_revokes, sh);
	ASSERT_EQ(CHILD_OK, ret) TH_LOG("child: %s", child_result_name(ret));
	EXPECT_EQ((uint32_t)PKEY_ALLOW_ALL, pkru_key_rights(rdpkru(), sh->key));
	ASSERT_TRUE(spinner_sample(&s, &pkru));
	EXPECT_EQ((uint32_t)PKEY_ALLOW_ALL, pkru_key_rights(pkru, sh->key));
	ASSERT_TRUE(new_thread_pkru(&pkru));
	EXPECT_EQ((uint32_t)PKEY_ALLOW_ALL, pkru_key_rights(pkru, sh->key));
	spinner_stop(&s);
}

/* The parent revokes while the child runs; the child keeps the key. */
static int child_outlives_parent_revoke(void *arg)
{
	struct fork_shared *sh = arg;
	struct spinner s;
	uint32_t pkru;

	if (!spinner_start(&s, SPIN_USER, false, 0))
		return CHILD_SETUP_FAILED;
	publish(&sh->child_ready, 1);
	if (!wait_at_least(&sh->parent_changed, 1))
		return CHILD_TIMED_OUT;
	if (pkru_key_rights(rdpkru(), sh->key) != PKEY_ALLOW_ALL)
		return CHILD_WRONG_PKRU;
	if (!spinner_sample(&s, &pkru))
		return CHILD_SETUP_FAILED;
	WRITE_ONCE(sh->child_spinner_pkru, pkru);
	if (pkru_key_rights(pkru, sh->key) != PKEY_ALLOW_ALL)
		return CHILD_WRONG_PKRU;
	if (!new_thread_pkru(&pkru))
		return CHILD_SETUP_FAILED;
	if (pkru_key_rights(pkru, sh->key) != PKEY_ALLOW_ALL)
		return CHILD_THREAD_PKRU;
	return CHILD_OK;
}

TEST(parent_set_process_leaves_fork_child_alone)
{
	struct fork_shared *sh = map_shared(sizeof(*sh));
	int status;
	pid_t pid;

	if (!require_process_rights(_metadata))
		return;
	ASSERT_FALSE(!sh);
	fork_shared = sh;
	sh->key = (int)sys_pkey_alloc(PKEY_ALLOC_PROCESS, PKEY_ALLOW_ALL);
	ASSERT_GT(sh->key, DEFAULT_PKEY);
	fflush(NULL);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		alarm(CHILD_TIMEOUT_SECS);
		_exit(child_outlives_parent_revoke(sh));
	}
	if (wait_at_least(&sh->child_ready, 1))
		EXPECT_EQ(0, pkey_set_process(sh->key, PKEY_DISABLE_ACCESS, 0));
	publish(&sh->parent_changed, 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(CHILD_OK, WEXITSTATUS(status))
		TH_LOG("child: %s, its spinner 0x%08x",
		       child_result_name(WEXITSTATUS(status)),
		       sh->child_spinner_pkru);
}

/*
 * The new program has no process rights: its PKRU is the default, the
 * key is not allocated, a thread created after a local change gets its
 * creator's bits and a handler the plain default.
 */
static int exec_check_main(int argc, char **argv)
{
	uint32_t dflt, local, pkru;
	int key;

	if (argc != 4 || !cpu_has_ospke())
		return CHILD_BAD_ARGUMENTS;
	key = atoi(argv[2]);
	dflt = (uint32_t)strtoul(argv[3], NULL, 0);
	if (rdpkru() != dflt)
		return CHILD_WRONG_PKRU;
	errno = 0;
	if (pkey_set_process(key, PKEY_ALLOW_ALL, 0) != -1 || errno != EINVAL)
		return CHILD_KEY_STILL_ALLOCATED;
	local = pkru_with_rights(dflt, key, PKEY_DISABLE_WRITE);
	wrpkru(local);
	if (!new_thread_pkru(&pkru))
		return CHILD_SETUP_FAILED;
	if (pkru != local)
		return CHILD_THREAD_PKRU;
	if (!handler_pkru(&pkru))
		return CHILD_SETUP_FAILED;
	if (pkru != dflt)
		return CHILD_HANDLER_PKRU;
	/* The same key allocated again, plainly, has no process rights either. */
	if (sys_pkey_alloc(0, PKEY_DISABLE_WRITE) == key) {
		wrpkru(pkru_with_rights(dflt, key, PKEY_DISABLE_ACCESS));
		if (!new_thread_pkru(&pkru))
			return CHILD_SETUP_FAILED;
		if (pkru != pkru_with_rights(dflt, key, PKEY_DISABLE_ACCESS))
			return CHILD_THREAD_PKRU;
	}
	return CHILD_OK;
}

static int child_exec_self(void *arg)
{
	int key = *(int *)arg;
	char key_arg[16], pkru_arg[16];
	char *const argv[] = { self_argv0, EXEC_CHECK_ARG, key_arg, pkru_arg,
			       NULL };

	snprintf(key_arg, sizeof(key_arg), "%d", key);
	snprintf(pkru_arg, sizeof(pkru_arg), "0x%x", startup_pkru);
	exec_self(argv);
	return CHILD_EXEC_FAILED;
}

TEST(exec_drops_process_rights)
{
	int key, ret;

	if (!require_process_rights(_metadata))
		return;
	/* Process rights that differ from the default for that key. */
	key = (int)sys_pkey_alloc(PKEY_ALLOC_PROCESS, PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	ASSERT_NE((uint32_t)PKEY_ALLOW_ALL, pkru_key_rights(startup_pkru, key));
	ret = run_in_child(child_exec_self, &key);
	EXPECT_EQ(CHILD_OK, ret) TH_LOG("exec'd image: %s", child_result_name(ret));
}

/* ==================================================================== */
/* pkey_free()                                                          */
/* ==================================================================== */

TEST(free_ends_process_rights)
{
	uint32_t local, pkru, before;
	struct spinner s;
	int key;

	if (!require_process_rights(_metadata))
		return;
	key = (int)sys_pkey_alloc(PKEY_ALLOC_PROCESS, PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	ASSERT_TRUE(spinner_start(&s, SPIN_USER, false, 0));
	local = pkru_with_rights(pattern_pkru(4, key), key, PKEY_DISABLE_WRITE);
	wrpkru(local);
	ASSERT_TRUE(new_thread_pkru(&pkru));
	ASSERT_EQ(pkru_with_rights(local, key, PKEY_ALLOW_ALL), pkru);
	ASSERT_TRUE(spinner_sample(&s, &before));
	ASSERT_EQ((uint32_t)PKEY_ALLOW_ALL, pkru_key_rights(before, key));

	ASSERT_EQ(0, sys_pkey_free(key));
	/* Threads keep whatever bits they have. */
	EXPECT_EQ(local, rdpkru());
	ASSERT_TRUE(spinner_sample(&s, &pkru));
	EXPECT_EQ(before, pkru);
	/* New threads get their creator's bits again, handlers the default. */
	ASSERT_TRUE(new_thread_pkru(&pkru));
	EXPECT_EQ(local, pkru);
	ASSERT_TRUE(handler_pkru(&pkru));
	EXPECT_EQ(startup_pkru, pkru);
	/* And the key is not one pkey_set_process() accepts any more. */
	EXPECT_SYSCALL_ERRNO(EINVAL, pkey_set_process(key, PKEY_ALLOW_ALL, 0));
	spinner_stop(&s);
}

TEST(reallocated_key_has_no_process_rights)
{
	int key, again = -1, n = 0, got[NR_PKEYS];
	uint32_t local, pkru;

	if (!require_process_rights(_metadata))
		return;
	key = (int)sys_pkey_alloc(PKEY_ALLOC_PROCESS, PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	ASSERT_EQ(0, sys_pkey_free(key));
	/* Allocate until the same number comes back. */
	while (n < NR_PKEYS) {
		got[n] = (int)sys_pkey_alloc(0, PKEY_DISABLE_WRITE);
		if (got[n] < 0)
			break;
		if (got[n++] == key) {
			again = key;
			break;
		}
	}
	ASSERT_EQ(key, again) TH_LOG("the freed key was not handed out again");
	local = pkru_with_rights(pattern_pkru(9, key), key, PKEY_DISABLE_ACCESS);
	wrpkru(local);
	ASSERT_TRUE(new_thread_pkru(&pkru));
	EXPECT_EQ(local, pkru);
	ASSERT_TRUE(handler_pkru(&pkru));
	EXPECT_EQ(startup_pkru, pkru);
}

/* ==================================================================== */
/* Invalid arguments, and the probe                                     */
/* ==================================================================== */

/*
 * pkey_set_process(-1, 0, 0) is EINVAL or ENOSYS; where it is ENOSYS
 * the pkey_alloc() flag is unknown too (EINVAL), and where it exists
 * the flag is accepted (ENOSPC without PKU).
 */
TEST(probe_call_and_alloc_flag_agree)
{
	long key;
	int err;

	if (!require_pkey_syscalls(_metadata))
		return;
	errno = 0;
	EXPECT_EQ(-1, pkey_set_process(-1, 0, 0));
	err = errno;
	EXPECT_TRUE(err == EINVAL || err == ERRNO_NO_SYSCALL)
		TH_LOG("probe errno %d (%s)", err, strerror(err));
	errno = 0;
	key = sys_pkey_alloc(PKEY_ALLOC_PROCESS, PKEY_ALLOW_ALL);
	if (err == ERRNO_NO_SYSCALL) {
		EXPECT_EQ(-1, key);
		EXPECT_EQ(EINVAL, errno);
		return;
	}
	if (cpu_has_ospke()) {
		EXPECT_LT(DEFAULT_PKEY, key)
			TH_LOG("pkey_alloc(PKEY_ALLOC_PROCESS): %s", strerror(errno));
	} else {
		EXPECT_EQ(-1, key);
		EXPECT_EQ(ENOSPC, errno);
	}
}

TEST(set_process_nonzero_flags_einval)
{
	static const unsigned int flags[] = { 1, 2, 0x80000000u, ~0u };
	uint32_t pkru;
	unsigned int i;
	int key;

	if (!require_process_rights(_metadata))
		return;
	key = (int)sys_pkey_alloc(0, PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	wrpkru(pkru_with_rights(rdpkru(), key, PKEY_DISABLE_WRITE));
	for (i = 0; i < ARRAY_SIZE(flags); i++)
		EXPECT_SYSCALL_ERRNO(EINVAL,
				     pkey_set_process(key, PKEY_DISABLE_ACCESS, flags[i]));
	/* Nothing was applied: not here, not to new threads. */
	EXPECT_EQ((uint32_t)PKEY_DISABLE_WRITE, pkru_key_rights(rdpkru(), key));
	ASSERT_TRUE(new_thread_pkru(&pkru));
	EXPECT_EQ((uint32_t)PKEY_DISABLE_WRITE, pkru_key_rights(pkru, key));
}

TEST(set_process_rights_outside_mask_einval)
{
	static const unsigned long rights[] = {
		0x4, 0x8, PKEY_DISABLE_ACCESS | 0x4, 0x80000000ul, ~0ul,
#ifdef __x86_64__
		1ul << 32, (1ul << 32) | PKEY_DISABLE_WRITE,
#endif
	};
	uint32_t pkru;
	unsigned int i;
	int key;

	if (!require_process_rights(_metadata))
		return;
	key = (int)sys_pkey_alloc(0, PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	for (i = 0; i < ARRAY_SIZE(rights); i++)
		EXPECT_SYSCALL_ERRNO(EINVAL, pkey_set_process(key, rights[i], 0));
	EXPECT_EQ((uint32_t)PKEY_ALLOW_ALL, pkru_key_rights(rdpkru(), key));
	wrpkru(pkru_with_rights(rdpkru(), key, PKEY_DISABLE_ACCESS));
	ASSERT_TRUE(new_thread_pkru(&pkru));
	EXPECT_EQ((uint32_t)PKEY_DISABLE_ACCESS, pkru_key_rights(pkru, key));
}

TEST(set_process_bad_key_einval)
{
	static const int keys[] = { DEFAULT_PKEY, -1, -2, INT_MIN, NR_PKEYS,
				    NR_PKEYS + 1, 1000, INT_MAX };
	unsigned int i;
	int key;

	if (!require_process_rights(_metadata))
		return;
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		EXPECT_SYSCALL_ERRNO(EINVAL, pkey_set_process(keys[i], 0, 0));
	/* Never allocated. */
	for (key = DEFAULT_PKEY + 1; key < NR_PKEYS; key++)
		EXPECT_SYSCALL_ERRNO(EINVAL, pkey_set_process(key, 0, 0));
	/* Freed. */
	key = (int)sys_pkey_alloc(0, PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	EXPECT_EQ(0, pkey_set_process(key, PKEY_DISABLE_WRITE, 0));
	ASSERT_EQ(0, sys_pkey_free(key));
	EXPECT_SYSCALL_ERRNO(EINVAL, pkey_set_process(key, 0, 0));
}

TEST(set_process_exec_only_key_einval)
{
	size_t page = page_size();
	char *code;
	int key;

	if (!require_process_rights(_metadata))
		return;
	code = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!code);
	code[0] = (char)0xc3;	/* ret */
	ASSERT_EQ(0, mprotect(code, page, PROT_EXEC));
	key = smaps_pkey_at(code);
	if (key <= DEFAULT_PKEY)
		SKIP(return, "PROT_EXEC memory has no execute-only key (ProtectionKey %d)",
		     key);
	EXPECT_SYSCALL_ERRNO(EINVAL, pkey_set_process(key, PKEY_ALLOW_ALL, 0));
	EXPECT_SYSCALL_ERRNO(EINVAL, pkey_set_process(key, PKEY_DISABLE_ACCESS, 0));
	/* It stays execute-only for this thread. */
	EXPECT_EQ((uint32_t)PKEY_DISABLE_ACCESS,
		  pkru_key_rights(rdpkru(), key) & PKEY_DISABLE_ACCESS);
}

TEST(alloc_process_bad_rights_einval)
{
	static const unsigned long rights[] = { 0x4, 0x8,
						PKEY_DISABLE_WRITE | 0x4,
						0x80000000ul, ~0ul };
	unsigned int i;

	if (!require_process_rights_call(_metadata))
		return;
	for (i = 0; i < ARRAY_SIZE(rights); i++)
		EXPECT_SYSCALL_ERRNO(EINVAL,
				     sys_pkey_alloc(PKEY_ALLOC_PROCESS, rights[i]));
}

TEST(alloc_unknown_flags_einval)
{
	/* High bits that no flag uses, alone and with the flag. */
	static const unsigned long flags[] = {
		0x40000000ul, PKEY_ALLOC_PROCESS | 0x40000000ul, 0x80000000ul,
		PKEY_ALLOC_PROCESS | 0x80000000ul, ~0ul,
	};
	unsigned int i;

	if (!require_pkey_syscalls(_metadata))
		return;
	for (i = 0; i < ARRAY_SIZE(flags); i++)
		EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_alloc(flags[i], 0));
}

/* Every user key can be allocated with the flag, then ENOSPC. */
TEST(alloc_process_until_enospc)
{
	int n = 0;
	long key;

	if (!require_process_rights(_metadata))
		return;
	for (;;) {
		errno = 0;
		key = sys_pkey_alloc(PKEY_ALLOC_PROCESS, PKEY_DISABLE_WRITE);
		if (key < 0 || n > NR_USER_PKEYS)
			break;
		EXPECT_EQ((uint32_t)PKEY_DISABLE_WRITE, pkru_key_rights(rdpkru(), (int)key));
		n++;
	}
	EXPECT_EQ(-1, key);
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(NR_USER_PKEYS, n);
}

TEST(nopku_alloc_process_enospc)
{
	if (!require_process_rights_call(_metadata) ||
	    !require_no_pku(_metadata))
		return;
	EXPECT_SYSCALL_ERRNO(ENOSPC, sys_pkey_alloc(PKEY_ALLOC_PROCESS,
						    PKEY_ALLOW_ALL));
	EXPECT_SYSCALL_ERRNO(ENOSPC, sys_pkey_alloc(PKEY_ALLOC_PROCESS,
						    PKEY_DISABLE_ACCESS));
}

TEST(nopku_set_process_einval)
{
	int key;

	if (!require_process_rights_call(_metadata) ||
	    !require_no_pku(_metadata))
		return;
	EXPECT_SYSCALL_ERRNO(EINVAL, pkey_set_process(-1, 0, 0));
	for (key = DEFAULT_PKEY; key < NR_PKEYS; key++)
		EXPECT_SYSCALL_ERRNO(EINVAL, pkey_set_process(key, 0, 0));
}

/* ==================================================================== */
/* io_uring workers                                                     */
/* ==================================================================== */

/*
 * io_uring (pkeys_util.h): one-entry rings, a read from a pipe into a
 * keyed buffer.  The kernel threads that run requests for the process
 * (io-wq workers for IOSQE_ASYNC, the SQPOLL thread) must follow the
 * process rights at once.
 */
FIXTURE(uring_worker) {
	struct uring ring;
	char *buf;
	int key;
};

FIXTURE_VARIANT(uring_worker) {
	unsigned int setup_flags;
	uint8_t sqe_flags;
};

FIXTURE_VARIANT_ADD(uring_worker, submitter) {
	.setup_flags = 0,
	.sqe_flags = 0,
};

FIXTURE_VARIANT_ADD(uring_worker, io_wq_worker) {
	.setup_flags = 0,
	.sqe_flags = IOSQE_ASYNC,
};

FIXTURE_VARIANT_ADD(uring_worker, sqpoll_thread) {
	.setup_flags = IORING_SETUP_SQPOLL,
	.sqe_flags = 0,
};

FIXTURE_SETUP(uring_worker)
{
	void *page;
	int err;

	if (!require_process_rights(_metadata))
		return;
	self->key = keyed_page(&page, PKEY_ALLOC_PROCESS, PKEY_ALLOW_ALL);
	ASSERT_GT(self->key, DEFAULT_PKEY);
	self->buf = page;
	err = uring_setup(&self->ring, variant->setup_flags);
	if (err == -ERRNO_NO_SYSCALL)
		SKIP(return, "kernel has no io_uring");
	if (err == -EPERM)
		SKIP(return, "io_uring not permitted (kernel.io_uring_disabled, or SQPOLL)");
	ASSERT_EQ(0, err) TH_LOG("io_uring_setup: %s", strerror(-err));
}

FIXTURE_TEARDOWN(uring_worker)
{
}

/* One read through the ring from a fresh pipe; its result. */
static int uring_read_fresh(struct uring *r, char *buf, uint8_t sqe_flags,
			    bool *data_ok)
{
	char data[IO_LEN];
	int fds[2], res;

	memset(data, 0x5a, sizeof(data));
	if (pipe(fds) || write(fds[1], data, IO_LEN) != IO_LEN)
		return -EPIPE;
	res = uring_read(r, fds[0], buf, IO_LEN, sqe_flags);
	close(fds[0]);
	close(fds[1]);
	*data_ok = res == IO_LEN && !memcmp(buf, data, IO_LEN);
	return res;
}

TEST_F(uring_worker, follows_process_rights)
{
	static const struct {
		unsigned long rights;
		int result;
	} steps[] = {
		{ PKEY_ALLOW_ALL, IO_LEN },
		{ PKEY_DISABLE_ACCESS, -EFAULT },
		{ PKEY_ALLOW_ALL, IO_LEN },
		{ PKEY_DISABLE_WRITE, -EFAULT },
		{ PKEY_ALLOW_ALL, IO_LEN },
	};
	unsigned int i;
	bool data_ok = false;
	int res;

	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		ASSERT_EQ(0, pkey_set_process(self->key, steps[i].rights, 0));
		res = uring_read_fresh(&self->ring, self->buf,
				       variant->sqe_flags, &data_ok);
		EXPECT_EQ(steps[i].result, res)
			TH_LOG("step %u, rights %lu: %s", i, steps[i].rights,
			       strerror(res < 0 ? -res : 0));
		if (steps[i].result > 0 && res > 0)
			EXPECT_TRUE(data_ok);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa;

	if (argc > 1 && !strcmp(argv[1], EXEC_CHECK_ARG))
		return exec_check_main(argc, argv);

	self_argv0 = argv[0];
	/* Nothing ran WRPKRU yet: this is what the kernel gives a new program. */
	if (cpu_has_ospke())
		startup_pkru = rdpkru();
	/* Inherited by every test process; see pr_probe_read(). */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL)) {
		perror("sigaction(SIGSEGV)");
		return KSFT_FAIL;
	}
	return test_harness_run(argc, argv);
}
