/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the x86 Memory Protection Keys (PKU) selftests.
 *
 * Everything here follows the user-visible ABI: pkey_alloc(2),
 * pkey_free(2), pkey_mprotect(2), pkeys(7), sigaction(2) and proc(5),
 * plus the Intel SDM description of CPUID, PKRU, RDPKRU, WRPKRU and the
 * XSAVE layout (state component 9 is PKRU).
 */
#ifndef PKEYS_UTIL_H
#define PKEYS_UTIL_H

#include <cpuid.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>
#include <linux/io_uring.h>

#ifndef BIT
# define BIT(nr)		(1UL << (nr))
#endif
#ifndef BIT_ULL
# define BIT_ULL(nr)		(1ULL << (nr))
#endif

/*
 * Accesses the compiler must make exactly as written, like volatile ones:
 * for memory whose access is what a test checks (it may fault) and for
 * variables shared with signal handlers.
 */
#ifndef READ_ONCE
# define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#endif
#ifndef WRITE_ONCE
# define WRITE_ONCE(x, val)	__atomic_store_n(&(x), (val), __ATOMIC_RELAXED)
#endif

/* Keeps the compiler from moving memory accesses across it. */
static inline void signal_fence(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

/* System call numbers, for C libraries that predate the pkey calls. */
#ifdef __x86_64__
# ifndef SYS_pkey_mprotect
#  define SYS_pkey_mprotect	329
# endif
# ifndef SYS_pkey_alloc
#  define SYS_pkey_alloc	330
# endif
# ifndef SYS_pkey_free
#  define SYS_pkey_free		331
# endif
#else
# ifndef SYS_pkey_mprotect
#  define SYS_pkey_mprotect	380
# endif
# ifndef SYS_pkey_alloc
#  define SYS_pkey_alloc	381
# endif
# ifndef SYS_pkey_free
#  define SYS_pkey_free		382
# endif
#endif

#ifndef PKEY_DISABLE_ACCESS
# define PKEY_DISABLE_ACCESS	0x1
#endif
#ifndef PKEY_DISABLE_WRITE
# define PKEY_DISABLE_WRITE	0x2
#endif
/*
 * Process-wide rights: pkey_set_process() sets a key's rights in every
 * thread of the process, and pkey_alloc() with PKEY_ALLOC_PROCESS gives
 * the new key its initial rights that way.  The call has the same
 * number on i386 and x86-64.
 */
#ifndef __NR_pkey_set_process
# define __NR_pkey_set_process	463
#endif
#ifndef PKEY_ALLOC_PROCESS
# define PKEY_ALLOC_PROCESS	0x1
#endif
/* A strict key cannot be freed while mapped and survives replacement. */
#ifndef PKEY_ALLOC_STRICT
# define PKEY_ALLOC_STRICT	0x2
#endif
/* The only access-rights bits pkey_alloc() accepts on x86. */
#define PKEY_RIGHTS_MASK	(PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE)
/* No restriction at all: the key grants read and write. */
#define PKEY_ALLOW_ALL		0

#ifndef SEGV_ACCERR
# define SEGV_ACCERR		2
#endif
#ifndef SEGV_PKUERR
# define SEGV_PKUERR		4
#endif

/* x86 has 16 keys; key 0 is the default key of every mapping. */
#define NR_PKEYS		16
#define DEFAULT_PKEY		0
#define NR_USER_PKEYS		(NR_PKEYS - 1)
/* pkey_mprotect() with this key behaves exactly like mprotect(). */
#define NO_PKEY			(-1)

/*
 * PKRU holds two bits per key: Access Disable at bit 2k and Write
 * Disable at bit 2k+1.  PKEY_DISABLE_ACCESS and PKEY_DISABLE_WRITE use
 * the same encoding, so pkey_alloc() rights shift straight into PKRU.
 */
#define PKRU_BITS_PER_KEY	2
#define PKRU_AD			0x1u
#define PKRU_WD			0x2u
/* Linux starts every program with all keys but key 0 access-disabled. */
#define LINUX_DEFAULT_PKRU	0x55555554u
/* Every key except key 0 denied both access and writes. */
#define PKRU_DENY_ALL_BUT_KEY0	0xfffffffcu

/* CPUID.(EAX=7,ECX=0):ECX feature bits. */
#define CPUID_LEAF_EXTENDED_FEATURES	7
#define CPUID_7_ECX_PKU			BIT(3)
#define CPUID_7_ECX_OSPKE		BIT(4)
/* CPUID.(EAX=1):ECX bit 27: the OS enabled XSAVE (XCR0 usable). */
#define CPUID_LEAF_FEATURES		1
#define CPUID_1_ECX_OSXSAVE		BIT(27)
/* CPUID.(EAX=0xD,ECX=n): EAX = size, EBX = standard-format offset. */
#define CPUID_LEAF_XSTATE		0xd

/* XSAVE state component 9 is PKRU; it is 8 bytes, the low 4 are PKRU. */
#define XFEATURE_PKRU			9
#define XFEATURE_MASK_PKRU		BIT_ULL(XFEATURE_PKRU)
#define XSTATE_PKRU_SIZE		8

/*
 * Layout of the FXSAVE/XSAVE image (standard, non-compacted format):
 * bytes 464..511 of the legacy area are reserved for software, and the
 * kernel puts its "struct _fpx_sw_bytes" there in signal frames; the
 * XSAVE header, whose first quadword is XSTATE_BV, starts at byte 512.
 */
#define FXSAVE_SW_BYTES_OFFSET		464
#define SW_BYTES_MAGIC1_OFFSET		0
#define SW_BYTES_XFEATURES_OFFSET	8
#define SW_BYTES_XSTATE_SIZE_OFFSET	16
#define XSAVE_XSTATE_BV_OFFSET		512
#ifndef FP_XSTATE_MAGIC1
# define FP_XSTATE_MAGIC1		0x46505853u
#endif
#ifndef FP_XSTATE_MAGIC2
# define FP_XSTATE_MAGIC2		0x46505845u
#endif
/*
 * 32-bit signal frames put a 112-byte FSAVE image in front of the
 * FXSAVE image; its last 16-bit word is 0 when an FXSAVE image follows.
 */
#define FSAVE_IMAGE_SIZE		112
#define FSAVE_MAGIC_OFFSET		110
#define FSAVE_MAGIC_FXSR_FOLLOWS	0x0000

#ifndef NT_X86_XSTATE
# define NT_X86_XSTATE			0x202
#endif

/* ------------------------------------------------------------------ */
/* CPUID                                                               */
/* ------------------------------------------------------------------ */

static inline bool cpuid_query(unsigned int leaf, unsigned int subleaf,
			       unsigned int regs[4])
{
	if (__get_cpuid_max(0, NULL) < leaf)
		return false;
	__cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
	return true;
}

static inline unsigned int cpuid_7_ecx(void)
{
	unsigned int regs[4];

	if (!cpuid_query(CPUID_LEAF_EXTENDED_FEATURES, 0, regs))
		return 0;
	return regs[2];
}

/* The CPU implements protection keys for user pages. */
static inline bool cpu_has_pku(void)
{
	return cpuid_7_ecx() & CPUID_7_ECX_PKU;
}

/*
 * The OS set CR4.PKE, so RDPKRU/WRPKRU work.  Never execute either
 * instruction without this: they raise #UD otherwise.
 */
static inline bool cpu_has_ospke(void)
{
	return cpuid_7_ecx() & CPUID_7_ECX_OSPKE;
}

static inline bool cpu_has_osxsave(void)
{
	unsigned int regs[4];

	if (!cpuid_query(CPUID_LEAF_FEATURES, 0, regs))
		return false;
	return regs[2] & CPUID_1_ECX_OSXSAVE;
}

/*
 * Offset of an XSAVE state component in the standard (non-compacted)
 * format used by signal frames and by ptrace(NT_X86_XSTATE); 0 if the
 * CPU does not enumerate the component.
 */
static inline unsigned int xstate_component_offset(unsigned int component,
						   unsigned int *size)
{
	unsigned int regs[4];

	if (!cpu_has_osxsave() ||
	    !cpuid_query(CPUID_LEAF_XSTATE, component, regs))
		return 0;
	if (size)
		*size = regs[0];
	return regs[1];
}

/* ------------------------------------------------------------------ */
/* PKRU                                                                */
/* ------------------------------------------------------------------ */

/* RDPKRU (0f 01 ee): ECX must be 0, PKRU comes back in EAX, EDX is zeroed. */
static inline uint32_t rdpkru(void)
{
	uint32_t eax, edx;

	asm volatile(".byte 0x0f, 0x01, 0xee"
		     : "=a" (eax), "=d" (edx)
		     : "c" (0));
	return eax;
}

/*
 * WRPKRU (0f 01 ef): EAX is the new value, ECX and EDX must be 0.  The
 * memory clobber keeps the compiler from moving accesses to protected
 * memory across the change of rights.
 */
static inline void wrpkru(uint32_t pkru)
{
	asm volatile(".byte 0x0f, 0x01, 0xef"
		     : : "a" (pkru), "c" (0), "d" (0)
		     : "memory");
}

static inline unsigned int pkru_shift(int key)
{
	return (unsigned int)key * PKRU_BITS_PER_KEY;
}

/* The PKEY_DISABLE_* rights that @pkru gives @key. */
static inline uint32_t pkru_key_rights(uint32_t pkru, int key)
{
	return (pkru >> pkru_shift(key)) & PKEY_RIGHTS_MASK;
}

/* @pkru with the rights of @key replaced by @rights. */
static inline uint32_t pkru_with_rights(uint32_t pkru, int key,
					uint32_t rights)
{
	pkru &= ~(PKEY_RIGHTS_MASK << pkru_shift(key));
	return pkru | (rights & PKEY_RIGHTS_MASK) << pkru_shift(key);
}

/* Change the calling thread's rights for one key. */
static inline void set_key_rights(int key, uint32_t rights)
{
	wrpkru(pkru_with_rights(rdpkru(), key, rights));
}

/* ------------------------------------------------------------------ */
/* System calls                                                        */
/* ------------------------------------------------------------------ */

/*
 * Raw system calls: the tests need the kernel's own errno values and
 * must work with C libraries that have no pkey wrappers.  Every argument
 * is widened to long so no register carries stale upper bits.
 */
static inline long sys_pkey_alloc(unsigned long flags, unsigned long rights)
{
	return syscall(SYS_pkey_alloc, flags, rights);
}

static inline long sys_pkey_free(long key)
{
	return syscall(SYS_pkey_free, key);
}

static inline long sys_pkey_mprotect(void *addr, size_t len,
				     unsigned long prot, long key)
{
	return syscall(SYS_pkey_mprotect, (long)addr, (long)len,
		       (long)prot, key);
}

/*
 * pkey_set_process(), glibc style: 0, or -1 with errno set.  No C
 * library wraps it yet.
 */
static inline int pkey_set_process(int pkey, unsigned long rights,
				   unsigned int flags)
{
	return (int)syscall(__NR_pkey_set_process, (long)pkey, rights,
			    (unsigned long)flags);
}

/*
 * The errno of a system call the kernel does not implement: ENOSYS, 38 in
 * include/uapi/asm-generic/errno.h, which x86 uses.
 */
#define ERRNO_NO_SYSCALL	38

/*
 * A pkey_alloc() with invalid flags has no side effect: it fails with
 * EINVAL when the call exists and ENOSYS when the kernel lacks it.
 */
static inline bool pkey_syscalls_present(void)
{
	long ret;

	errno = 0;
	ret = sys_pkey_alloc(~0ul, 0);
	return !(ret == -1 && errno == ERRNO_NO_SYSCALL);
}

/* ------------------------------------------------------------------ */
/* Memory                                                              */
/* ------------------------------------------------------------------ */

static inline size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* Private anonymous memory, or NULL. */
static inline void *map_anon(size_t len, int prot)
{
	void *addr = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return addr == MAP_FAILED ? NULL : addr;
}

/* ------------------------------------------------------------------ */
/* Fault capture                                                       */
/* ------------------------------------------------------------------ */

struct fault_info {
	int signo;	/* 0: no fault */
	int code;	/* si_code */
	void *addr;	/* si_addr */
	int pkey;	/* si_pkey, only meaningful for SEGV_PKUERR */
};

/*
 * Per thread, so every thread can probe memory on its own.  fault_armed
 * is shared with the signal handler: only READ_ONCE()/WRITE_ONCE().
 */
static __thread sigjmp_buf fault_jmp;
static __thread int fault_armed;
static __thread uint32_t fault_saved_pkru;
static __thread struct fault_info last_fault;

/*
 * The protection key of a SEGV_PKUERR fault.  The kernel's _sigfault
 * union puts it right after si_addr and a pointer-sized pad (the
 * si_addr_lsb slot), which is what glibc calls si_pkey; compute it by
 * hand for C libraries that do not name it.
 */
static inline int siginfo_pkey(const siginfo_t *si)
{
#ifdef si_pkey
	return (int)si->si_pkey;
#else
	uint32_t pkey;

	memcpy(&pkey, (const char *)&si->si_addr + 2 * sizeof(void *),
	       sizeof(pkey));
	return (int)pkey;
#endif
}

/*
 * SIGSEGV handler for probe_read()/probe_write().  A fault nobody asked
 * for puts back the default action and returns, so the access runs
 * again and kills the test: the harness reports it as a failure.
 */
static inline void fault_catcher(int sig, siginfo_t *si, void *uctx)
{
	(void)uctx;
	if (!READ_ONCE(fault_armed)) {
		signal(sig, SIG_DFL);
		return;
	}
	WRITE_ONCE(fault_armed, 0);
	last_fault.signo = sig;
	last_fault.code = si->si_code;
	last_fault.addr = si->si_addr;
	last_fault.pkey = siginfo_pkey(si);
	siglongjmp(fault_jmp, 1);
}

static inline int install_fault_catcher(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_catcher;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGSEGV, &sa, NULL);
}

/*
 * Read or write one 32-bit word; true if the access completed, false
 * if it raised SIGSEGV (described by last_fault).  The handler runs with the
 * kernel's default PKRU and siglongjmp() skips sigreturn, so the rights
 * in force before the access are written back by hand.  A function that
 * calls sigsetjmp() is never inlined, so the jump always lands in this
 * function's own frame.
 */
static bool probe_access(uint32_t *addr, uint32_t *value, bool write)
{
	fault_saved_pkru = cpu_has_ospke() ? rdpkru() : 0;
	memset(&last_fault, 0, sizeof(last_fault));
	if (sigsetjmp(fault_jmp, 1)) {
		if (cpu_has_ospke())
			wrpkru(fault_saved_pkru);
		return false;
	}
	WRITE_ONCE(fault_armed, 1);
	signal_fence();
	if (write)
		WRITE_ONCE(*addr, *value);
	else
		*value = READ_ONCE(*addr);
	signal_fence();
	WRITE_ONCE(fault_armed, 0);
	return true;
}

/* Read one 32-bit word; see probe_access(). */
static bool probe_read(const uint32_t *addr, uint32_t *value)
{
	return probe_access((uint32_t *)addr, value, false);
}

/* Write one 32-bit word; see probe_access(). */
static bool probe_write(uint32_t *addr, uint32_t value)
{
	return probe_access(addr, &value, true);
}

/* ------------------------------------------------------------------ */
/* Alternate signal stack entry, defined in protection_keys.c          */
/* ------------------------------------------------------------------ */

/*
 * A SIGUSR1 handler written in assembly: it stores the PKRU the handler
 * started with in altstack_entry_pkru and loads PKRU from
 * altstack_handler_pkru before anything touches the stack, then jumps
 * to altstack_handler_body().
 */
void altstack_entry(int sig, siginfo_t *si, void *ctx);
void altstack_handler_body(int sig, siginfo_t *si, void *ctx);
extern uint32_t altstack_handler_pkru;
extern uint32_t altstack_entry_pkru;

/* ------------------------------------------------------------------ */
/* Assembly helpers defined in process_rights.c                        */
/* ------------------------------------------------------------------ */

/*
 * Read or write one word; 1 if the access completed, 0 if it faulted.
 * The faulting instruction is pr_read_insn/pr_write_insn; the SIGSEGV
 * handler resumes at pr_read_fixup/pr_write_fixup.
 */
int pr_probe_read(const uint32_t *addr, uint32_t *value);
int pr_probe_write(uint32_t *addr, uint32_t value);
extern const char pr_read_insn[], pr_read_fixup[];
extern const char pr_write_insn[], pr_write_fixup[];

/* A SIGSEGV handler that opens every key before it touches its stack. */
void pr_open_segv_entry(int sig, siginfo_t *si, void *ctx);
void pr_open_segv_body(int sig, siginfo_t *si, void *ctx);

/* ------------------------------------------------------------------ */
/* /proc/self/smaps                                                    */
/* ------------------------------------------------------------------ */

struct vma_info {
	unsigned long start;
	unsigned long end;
	char perms[8];
	int pkey;		/* ProtectionKey, -1 when smaps has none */
	long anon_huge_kb;	/* AnonHugePages */
};

/* "start-end perms ..." opens each mapping's block of lines. */
static inline bool smaps_header(const char *line, struct vma_info *vma)
{
	memset(vma, 0, sizeof(*vma));
	vma->pkey = -1;
	return sscanf(line, "%lx-%lx %7s", &vma->start, &vma->end,
		      vma->perms) == 3;
}

/*
 * Fill @vmas (at most @max of them; @vmas may be NULL) with the mappings
 * that overlap [@addr, @addr + @len), in address order, from one read of
 * /proc/self/smaps.  Returns how many overlap, or -1 if smaps cannot be
 * read.
 */
static inline int smaps_vmas_in(const void *addr, size_t len,
				struct vma_info *vmas, int max)
{
	unsigned long start = (unsigned long)addr;
	unsigned long end = start + len;
	struct vma_info cur, *vma = NULL;
	size_t cap = 0;
	char *line = NULL;
	int count = 0;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (smaps_header(line, &cur)) {
			/* smaps lists the mappings in address order. */
			if (cur.start >= end)
				break;
			vma = NULL;
			if (cur.end <= start)
				continue;
			if (vmas && count < max) {
				vmas[count] = cur;
				vma = &vmas[count];
			}
			count++;
			continue;
		}
		if (!vma)
			continue;
		if (sscanf(line, "ProtectionKey: %d", &vma->pkey) == 1)
			continue;
		/* Lines other than these two are skipped. */
		if (sscanf(line, "AnonHugePages: %ld kB", &vma->anon_huge_kb) == 1)
			continue;
	}
	free(line);
	fclose(f);
	return count;
}

/* Fill @vma with the mapping that contains @addr; false if none does. */
static inline bool smaps_vma_at(const void *addr, struct vma_info *vma)
{
	return smaps_vmas_in(addr, 1, vma, 1) > 0;
}

/* Number of mappings that overlap [addr, addr + len); -1 on error. */
static inline int smaps_count_vmas(const void *addr, size_t len)
{
	return smaps_vmas_in(addr, len, NULL, 0);
}

/* ProtectionKey of the mapping holding @addr; -1 if unknown. */
static inline int smaps_pkey_at(const void *addr)
{
	struct vma_info vma;

	if (!smaps_vma_at(addr, &vma))
		return -1;
	return vma.pkey;
}

/* ------------------------------------------------------------------ */
/* Test helpers shared by the kselftest_harness programs               */
/* ------------------------------------------------------------------ */

/*
 * A system call must fail with exactly @expected_errno.  For tests built
 * on kselftest_harness.h: it expands to the harness's EXPECT_EQ().
 */
#define EXPECT_SYSCALL_ERRNO(expected_errno, call) do {			\
	long __ret;							\
	int __err;							\
	errno = 0;							\
	__ret = (long)(call);						\
	__err = errno;							\
	EXPECT_EQ(-1, __ret) TH_LOG("%s succeeded", #call);		\
	EXPECT_EQ(expected_errno, __err)				\
		TH_LOG("%s: errno %d (%s)", #call, __err, strerror(__err)); \
} while (0)

/* CLOCK_MONOTONIC in milliseconds. */
static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline int install_handler(int sig,
				  void (*fn)(int, siginfo_t *, void *),
				  int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

/*
 * Run @fn in a child process; its exit status, 128 + signal, or -1.
 * With @timeout_secs, the child is killed by SIGALRM after that long.
 */
static inline int run_in_child_timeout(int (*fn)(void *), void *arg,
				       unsigned int timeout_secs)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (timeout_secs)
			alarm(timeout_secs);
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* ------------------------------------------------------------------ */
/* io_uring                                                            */
/* ------------------------------------------------------------------ */

/*
 * io_uring, through its raw system calls (the same numbers on i386 and
 * x86-64): a ring with one entry and a read through it.  Requests it
 * cannot complete at once run in a kernel worker thread of the process
 * (io-wq), and an SQPOLL ring's requests in its submission thread.
 */
#ifndef SYS_io_uring_setup
# define SYS_io_uring_setup	425
#endif
#ifndef SYS_io_uring_enter
# define SYS_io_uring_enter	426
#endif
/* An SQPOLL thread sleeps after this much idle time. */
#define URING_SQ_IDLE_MS	1000
/* uring_read() gives up waiting for a completion after this long. */
#define URING_WAIT_MS		10000

/* A ring with one entry, its rings and entries mapped. */
struct uring {
	int fd;
	struct io_uring_params params;
	char *sq_ring;
	char *cq_ring;
	struct io_uring_sqe *sqes;
};

/* A ring part of the size the kernel asked for, at its mmap() offset. */
static inline void *uring_map(int fd, size_t len, off_t offset)
{
	void *map = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, fd, offset);

	return map == MAP_FAILED ? NULL : map;
}

/* 0, or -errno of setting up a ring with @flags (IORING_SETUP_*). */
static inline int uring_setup(struct uring *ring, unsigned int flags)
{
	struct io_uring_params *p = &ring->params;

	memset(ring, 0, sizeof(*ring));
	p->flags = flags;
	p->sq_thread_idle = URING_SQ_IDLE_MS;
	ring->fd = (int)syscall(SYS_io_uring_setup, 1, p);
	if (ring->fd < 0)
		return -errno;
	ring->sq_ring = uring_map(ring->fd, p->sq_off.array +
				  p->sq_entries * sizeof(uint32_t),
				  IORING_OFF_SQ_RING);
	ring->cq_ring = uring_map(ring->fd, p->cq_off.cqes +
				  p->cq_entries * sizeof(struct io_uring_cqe),
				  IORING_OFF_CQ_RING);
	ring->sqes = uring_map(ring->fd, p->sq_entries * sizeof(*ring->sqes),
			       IORING_OFF_SQES);
	if (!ring->sq_ring || !ring->cq_ring || !ring->sqes)
		return -ENOMEM;
	return 0;
}

static inline uint32_t *uring_sq_field(struct uring *ring, uint32_t offset)
{
	return (uint32_t *)(ring->sq_ring + offset);
}

static inline uint32_t *uring_cq_field(struct uring *ring, uint32_t offset)
{
	return (uint32_t *)(ring->cq_ring + offset);
}

/*
 * read(@fd, @buf, @len) through the ring, with IOSQE_* @sqe_flags; waits
 * for its completion.  Returns the completion's result (bytes or
 * -errno), -errno of io_uring_enter(), or -ETIMEDOUT after
 * URING_WAIT_MS.
 */
static inline int uring_read(struct uring *ring, int fd, void *buf,
			     uint32_t len, uint8_t sqe_flags)
{
	struct io_uring_params *p = &ring->params;
	uint32_t *sq_tail = uring_sq_field(ring, p->sq_off.tail);
	uint32_t *cq_head = uring_cq_field(ring, p->cq_off.head);
	uint32_t tail = *sq_tail, head, index;
	uint64_t deadline = now_ms() + URING_WAIT_MS;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;

	index = tail & *uring_sq_field(ring, p->sq_off.ring_mask);
	sqe = &ring->sqes[index];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_READ;
	sqe->flags = sqe_flags;
	sqe->fd = fd;
	sqe->addr = (uintptr_t)buf;
	sqe->len = len;
	sqe->off = (uint64_t)-1;	/* the file position: a pipe has none */
	uring_sq_field(ring, p->sq_off.array)[index] = index;
	__atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);

	head = *cq_head;
	while (__atomic_load_n(uring_cq_field(ring, p->cq_off.tail),
			       __ATOMIC_ACQUIRE) == head) {
		/* SQ_WAKEUP wakes a sleeping SQPOLL thread, others ignore it. */
		if (syscall(SYS_io_uring_enter, ring->fd, 1, 1,
			    IORING_ENTER_GETEVENTS | IORING_ENTER_SQ_WAKEUP,
			    NULL, 0) < 0 && errno != EINTR)
			return -errno;
		if (now_ms() > deadline)
			return -ETIMEDOUT;
	}
	cqe = (struct io_uring_cqe *)(ring->cq_ring + p->cq_off.cqes) +
	      (head & *uring_cq_field(ring, p->cq_off.ring_mask));
	__atomic_store_n(cq_head, head + 1, __ATOMIC_RELEASE);
	return cqe->res;
}

#endif /* PKEYS_UTIL_H */
