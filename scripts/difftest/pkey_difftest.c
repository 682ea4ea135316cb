// SPDX-License-Identifier: GPL-2.0
/*
 * pkey_difftest: a deterministic random walk over the Linux pkeys ABI.
 *
 *   pkey_difftest SEED NOPS
 *
 * Runs NOPS operations drawn from a PRNG seeded with SEED and prints one
 * line per operation: its index, what it did, its result and PKRU
 * afterwards.  The same binary run on two kernels prints the same log
 * when the kernels behave the same: no addresses (offsets into a fixed
 * arena instead), no pids, no times.  Which operation comes next and
 * with which arguments depends on the PRNG only, never on a result, so
 * the logs of two kernels stay aligned line by line even after they
 * start to differ.
 *
 * Written from the man pages (pkeys(7), pkey_alloc(2), pkey_mprotect(2),
 * mprotect(2), mmap(2), mremap(2), madvise(2), mseal(2), sigaction(2)).
 *
 *   pkey_difftest --exec-probe   (used by the exec operation) prints the
 *                                PKRU a freshly exec'd program starts
 *                                with and what pkey_alloc() gives it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef __x86_64__
# define NR_pkey_mprotect 329
# define NR_pkey_alloc    330
# define NR_pkey_free     331
# define NR_mseal         462
# define BITS 64
#else
# define NR_pkey_mprotect 380
# define NR_pkey_alloc    381
# define NR_pkey_free     382
# define BITS 32
#endif

#ifndef SEGV_PKUERR
# define SEGV_PKUERR 4
#endif
#ifndef MREMAP_DONTUNMAP
# define MREMAP_DONTUNMAP 4
#endif
#ifndef PROT_SEM
# define PROT_SEM 0x8
#endif

#define PG            4096UL
#define ARENA_PAGES   64
#define ARENA_BASE    0x30000000UL
#define ARENA         ((char *)ARENA_BASE)
#define ARENA_END     (ARENA_BASE + ARENA_PAGES * PG)
#define SLOTS         16		/* probe slots per page, 256 bytes apart */
#define SLOT(p, s)    (ARENA + (p) * PG + (s) * 256)

/* ---- PRNG: splitmix64 ------------------------------------------------ */

static uint64_t rng;

static uint64_t rnd64(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint32_t n)
{
	return n ? (uint32_t)(rnd64() % n) : 0;
}

/* ---- PKRU ----------------------------------------------------------- */

volatile unsigned char g_has_pku;	/* CPUID.7.0:ECX.OSPKE */
static int cpu_pku, cpu_ospke;
static unsigned pkru_xoff;		/* PKRU offset in the XSAVE area */

static unsigned rdpkru(void)
{
	unsigned eax, edx;

	asm volatile(".byte 0x0f,0x01,0xee" : "=a"(eax), "=d"(edx) : "c"(0));
	return eax;
}

static void wrpkru(unsigned v)
{
	asm volatile(".byte 0x0f,0x01,0xef" : : "a"(v), "c"(0), "d"(0) : "memory");
}

static void cpuid(unsigned leaf, unsigned sub, unsigned r[4])
{
	asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(leaf), "c"(sub));
}

static void detect_cpu(void)
{
	unsigned r[4];

	cpuid(0, 0, r);
	if (r[0] >= 7) {
		cpuid(7, 0, r);
		cpu_pku = !!(r[2] & (1u << 3));
		cpu_ospke = !!(r[2] & (1u << 4));
	}
	g_has_pku = cpu_pku && cpu_ospke;
	if (g_has_pku) {
		cpuid(0xd, 9, r);
		pkru_xoff = r[1];
	}
}

static unsigned cur_pkru(void)
{
	return g_has_pku ? rdpkru() : 0;
}

/* A random PKRU that leaves key 0 fully open: the program runs on it. */
static unsigned rand_pkru(void)
{
	unsigned v = 0;

	for (int k = 1; k < 16; k++) {
		unsigned r = rnd(8);
		/* 0: open (most likely), 1: AD, 2: WD, 3: AD|WD */
		v |= (r < 4 ? 0 : r < 6 ? 1 : r < 7 ? 2 : 3) << (2 * k);
	}
	return v;
}

/* ---- logging ---------------------------------------------------------- */

static char line[8192];
static size_t llen;
static int opno;

static void lp(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	llen += vsnprintf(line + llen, sizeof(line) - llen, fmt, ap);
	va_end(ap);
	if (llen >= sizeof(line))
		llen = sizeof(line) - 1;
}

/*
 * The PKRU the man pages make us expect: what we wrote with WRPKRU,
 * what pkey_alloc() set for the key it gave, what sigreturn restored
 * from the frame.  After each operation the log gets the real PKRU and,
 * when it differs, the tester resets it to this model: a kernel that
 * changes PKRU on its own shows on that one line, and the rest of the
 * run goes on with the same PKRU on every kernel.
 */
static unsigned model_pkru;

static void model_set_key(long key, unsigned long rights)
{
	if (key >= 0 && key < 16)
		model_pkru = (model_pkru & ~(3u << (2 * key))) | (rights & 3) << (2 * key);
}

static void lend(void)
{
	if (g_has_pku) {
		unsigned v = rdpkru();

		lp(" pkru=%08x", v);
		if (v != model_pkru) {
			lp(" reset-to=%08x", model_pkru);
			wrpkru(model_pkru);
		}
	} else {
		lp(" pkru=-");
	}
	fputs(line, stdout);
	fputc('\n', stdout);
	llen = 0;
}

static const char *errname(int e)
{
	static char buf[16];

	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOSYS: return "ENOSYS";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EOVERFLOW: return "EOVERFLOW";
	case EHWPOISON: return "EHWPOISON";
	}
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

/* "0", "3" or "-EINVAL" for a libc-style return (r == -1: errno). */
static void lres(long r)
{
	if (r == -1)
		lp("-%s", errname(errno));
	else
		lp("%ld", r);
}

/* Where an address is, as the log may say it. */
static void laddr(void *a)
{
	uintptr_t u = (uintptr_t)a;

	if (a == MAP_FAILED)
		lp("-%s", errname(errno));
	else if (u >= ARENA_BASE && u < ARENA_END)
		lp("@%lu+%lu", (unsigned long)((u - ARENA_BASE) / PG),
		   (unsigned long)((u - ARENA_BASE) % PG));
	else
		lp("outside");
}

static void lprot(int prot)
{
	lp("0x%x", (unsigned)prot);
}

/* ---- syscalls --------------------------------------------------------- */

static long pkey_alloc_(unsigned long flags, unsigned long rights)
{
	return syscall(NR_pkey_alloc, flags, rights);
}

static long pkey_free_(long key)
{
	return syscall(NR_pkey_free, key);
}

static long pkey_mprotect_(void *a, size_t len, unsigned long prot, long key)
{
	return syscall(NR_pkey_mprotect, a, len, prot, key);
}

/* ---- faults ----------------------------------------------------------- */

struct fault {
	int signo, code, addr_ok, pkey;
	unsigned hpkru;			/* PKRU the handler started with */
};

static __thread sigjmp_buf *probe_jb;
static __thread void *probe_addr;
static __thread struct fault flt;

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	unsigned hp = g_has_pku ? rdpkru() : 0;
	char msg[128];

	(void)uc;
	if (!probe_jb) {
		fflush(stdout);
		snprintf(msg, sizeof(msg),
			 "FATAL unexpected signal %d code %d in op %d\n",
			 sig, si->si_code, opno);
		if (write(1, msg, strlen(msg)) < 0)
			_exit(98);
		_exit(99);
	}
	flt.signo = sig;
	flt.code = si->si_code;
	flt.addr_ok = si->si_addr == probe_addr;
	flt.pkey = si->si_pkey;
	flt.hpkru = hp;
	siglongjmp(*probe_jb, 1);
}

static void lfault(void)
{
	lp("SIG%s code=%d%s addr=%s",
	   flt.signo == SIGSEGV ? "SEGV" : flt.signo == SIGBUS ? "BUS" :
	   flt.signo == SIGILL ? "ILL" : "?", flt.code,
	   flt.signo == SIGSEGV && flt.code == SEGV_PKUERR ? "(PKUERR)" :
	   flt.signo == SIGSEGV && flt.code == SEGV_ACCERR ? "(ACCERR)" :
	   flt.signo == SIGSEGV && flt.code == SEGV_MAPERR ? "(MAPERR)" : "",
	   flt.addr_ok ? "ok" : "other");
	if (flt.signo == SIGSEGV && flt.code == SEGV_PKUERR)
		lp(" si_pkey=%d", flt.pkey);
	if (g_has_pku)
		lp(" hpkru=%08x", flt.hpkru);
}

enum { P_READ, P_WRITE, P_EXEC, P_KINDS };

struct probe {
	int kind, page, slot;
	unsigned char val;
};

static void rand_probe(struct probe *p)
{
	p->kind = rnd(P_KINDS);
	p->page = rnd(ARENA_PAGES);
	p->slot = rnd(4) ? rnd(SLOTS) : 0;
	p->val = rnd(255) + 1;
	if (p->kind == P_WRITE && p->slot == 0)
		p->val = 0xc3;		/* "ret": what an exec probe calls */
	if (p->kind == P_EXEC)
		p->slot = 0;
}

/* Result classes, for the fork child's exit code. */
enum { RES_OK, RES_PKUERR, RES_SIG, RES_SKIP };

static void exec_ret(void *a)
{
	((void (*)(void))a)();
}

/*
 * Run one probe.  Returns its class; *val gets the byte read, *note a
 * reason an exec probe was not made.  PKRU is put back after a fault:
 * siglongjmp() leaves the handler's PKRU in place.
 */
static int do_probe(const struct probe *p, int *val, const char **note)
{
	sigjmp_buf jb;
	volatile char *a = SLOT(p->page, p->slot);
	volatile unsigned saved = cur_pkru();
	volatile int ret = RES_OK;

	*note = NULL;
	*val = -1;
	probe_addr = (void *)a;
	probe_jb = &jb;
	if (sigsetjmp(jb, 1) == 0) {
		switch (p->kind) {
		case P_READ:
			*val = *a;
			break;
		case P_WRITE:
			*a = p->val;
			break;
		case P_EXEC:
			/* Call it only when it holds a "ret"; look with all keys open. */
			if (g_has_pku)
				wrpkru(0);
			*note = "unreadable";
			if (*(volatile unsigned char *)a != 0xc3) {
				*note = "no-ret";
				if (g_has_pku)
					wrpkru(saved);
				ret = RES_SKIP;
				break;
			}
			*note = NULL;
			if (g_has_pku)
				wrpkru(saved);
			exec_ret((void *)a);
			break;
		}
	} else {
		if (g_has_pku)
			wrpkru(saved);
		ret = flt.signo == SIGSEGV && flt.code == SEGV_PKUERR ? RES_PKUERR
									  : RES_SIG;
		if (*note) {		/* the look-up faulted, not the call */
			ret = RES_SKIP;
		}
	}
	probe_jb = NULL;
	return ret;
}

static const char *kname[] = { "read", "write", "exec" };

static void lprobe(const struct probe *p)
{
	int val;
	const char *note;
	int r = do_probe(p, &val, &note);

	lp("%s @%d.%d", kname[p->kind], p->page, p->slot);
	if (p->kind == P_WRITE)
		lp("<-0x%02x", p->val);
	lp(" = ");
	if (r == RES_SKIP)
		lp("skipped(%s)", note);
	else if (r != RES_OK)
		lfault();
	else if (p->kind == P_READ)
		lp("ok 0x%02x", val & 0xff);
	else
		lp("ok");
}

/* ---- operations --------------------------------------------------------- */

static int rand_key(void)
{
	switch (rnd(20)) {
	case 0: return -1;
	case 1: return 0;
	case 2: return 16;
	case 3: return (int)rnd64();
	default: return 1 + rnd(15);
	}
}

static int rand_prot(void)
{
	static const int base[] = {
		PROT_NONE, PROT_READ, PROT_WRITE, PROT_READ | PROT_WRITE,
		PROT_EXEC, PROT_READ | PROT_EXEC, PROT_WRITE | PROT_EXEC,
		PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	int prot = rnd(4) ? base[rnd(8)] : rnd(2) ? PROT_EXEC : PROT_READ | PROT_WRITE;

	switch (rnd(16)) {
	case 0: prot |= PROT_SEM; break;
	case 1: prot |= PROT_GROWSDOWN; break;
	case 2: prot |= PROT_GROWSUP; break;
	case 3: prot |= 1 << (4 + rnd(20)); break;	/* an invalid bit */
	}
	return prot;
}

/* A page range inside the arena; sometimes misaligned or odd-sized. */
struct range {
	int page, npages;
	char *addr;
	size_t len;
};

static void rand_range(struct range *r)
{
	r->page = rnd(ARENA_PAGES);
	r->npages = 1 + rnd(8);
	if (r->page + r->npages > ARENA_PAGES)
		r->npages = ARENA_PAGES - r->page;
	r->addr = ARENA + r->page * PG;
	r->len = r->npages * PG;
	switch (rnd(32)) {
	case 0: r->addr += 1 + rnd(PG - 1); break;	/* misaligned */
	case 1: r->len -= PG / 2; break;		/* rounds up */
	case 2: r->len = 0; break;
	}
}

static void lrange(const struct range *r)
{
	lp("@%lu+%lu,len=%lu", (unsigned long)((uintptr_t)r->addr - ARENA_BASE) / PG,
	   (unsigned long)((uintptr_t)r->addr - ARENA_BASE) % PG,
	   (unsigned long)r->len);
}

static void op_pkey_alloc(void)
{
	/*
	 * Bits 0-2 are the series' opt-in flags (PKEY_ALLOC_PROCESS,
	 * PKEY_ALLOC_STRICT, PKEY_ALLOC_ENFORCE): a program that sets one
	 * asks for a difference from stock, and their own selftests test it.
	 */
	unsigned long flags = rnd(8) ? 0 : 8ul << rnd(29);
	unsigned long rights = rnd(4) ? rnd(4) : rnd(2) ? 4 : 1ul << rnd(32);
	long r;

	lp("pkey_alloc(flags=0x%lx,rights=0x%lx) = ", flags, rights);
	r = pkey_alloc_(flags, rights);
	lres(r);
	if (r >= 0)
		model_set_key(r, rights);
}

static void op_pkey_free(void)
{
	int key = rand_key();
	long r;

	lp("pkey_free(%d) = ", key);
	r = pkey_free_(key);
	lres(r);
	/*
	 * A kernel that frees key 0 (stock does) would hand it out again
	 * and desynchronise the rest of the run: take it back at once.
	 */
	if (key == 0 && r == 0) {
		lp(" [key 0 re-allocated: ");
		r = pkey_alloc_(0, 0);
		lres(r);
		lp("]");
		if (r >= 0)
			model_set_key(r, 0);
	}
}

static void op_pkey_mprotect(void)
{
	struct range r;
	int prot, key;

	rand_range(&r);
	prot = rand_prot();
	key = rand_key();
	lp("pkey_mprotect(");
	lrange(&r);
	lp(",prot=");
	lprot(prot);
	lp(",key=%d) = ", key);
	lres(pkey_mprotect_(r.addr, r.len, prot, key));
}

static void op_mprotect(void)
{
	struct range r;
	int prot;

	rand_range(&r);
	prot = rand_prot();
	lp("mprotect(");
	lrange(&r);
	lp(",prot=");
	lprot(prot);
	lp(") = ");
	lres(mprotect(r.addr, r.len, prot));
}

static void op_mmap(void)
{
	struct range r;
	int prot = rand_prot() & ~(PROT_GROWSDOWN | PROT_GROWSUP);
	int flags = MAP_FIXED | MAP_ANONYMOUS | (rnd(4) ? MAP_PRIVATE : MAP_SHARED);

	rand_range(&r);
	r.addr = ARENA + r.page * PG;		/* MAP_FIXED needs alignment */
	if (!r.len)
		r.len = PG;
	switch (rnd(16)) {
	case 0: flags |= MAP_POPULATE; break;
	case 1: flags |= MAP_NORESERVE; break;
	case 2: flags |= MAP_GROWSDOWN; break;
	}
	lp("mmap(");
	lrange(&r);
	lp(",prot=");
	lprot(prot);
	lp(",flags=0x%x) = ", (unsigned)flags);
	laddr(mmap(r.addr, r.len, prot, flags, -1, 0));
}

static void op_munmap(void)
{
	struct range r;

	rand_range(&r);
	lp("munmap(");
	lrange(&r);
	lp(") = ");
	lres(munmap(r.addr, r.len));
}

static void op_mremap(void)
{
	struct range r;
	int newpage = rnd(ARENA_PAGES), newn = 1 + rnd(8);
	int kind = rnd(8);
	int flags;
	void *res;

	rand_range(&r);
	if (kind < 3) {				/* in place */
		flags = 0;
		if (r.page + newn > ARENA_PAGES)
			newn = ARENA_PAGES - r.page;
	} else {
		flags = MREMAP_MAYMOVE | MREMAP_FIXED;
		if (kind == 7)
			flags |= MREMAP_DONTUNMAP;
		if (newpage + newn > ARENA_PAGES)
			newn = ARENA_PAGES - newpage;
	}
	if (kind == 6 && rnd(2))
		flags |= 8 << rnd(8);		/* invalid flag */
	lp("mremap(");
	lrange(&r);
	lp(",newlen=%lu,flags=0x%x", (unsigned long)newn * PG, (unsigned)flags);
	if (flags & MREMAP_FIXED)
		lp(",new=@%d", newpage);
	lp(") = ");
	if (flags & MREMAP_FIXED)
		res = mremap(r.addr, r.len, newn * PG, flags, ARENA + newpage * PG);
	else
		res = mremap(r.addr, r.len, newn * PG, flags);
	laddr(res);
}

static void op_madvise(void)
{
	static const int adv[] = {
		MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED,
		MADV_DONTNEED, MADV_DONTNEED, MADV_FREE, MADV_FREE, MADV_REMOVE,
		MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE, MADV_HUGEPAGE,
		MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP, MADV_WIPEONFORK,
		MADV_KEEPONFORK, MADV_COLD, MADV_PAGEOUT, MADV_POPULATE_READ,
		MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_POPULATE_WRITE,
		MADV_DONTNEED_LOCKED, 77,
	};
	struct range r;
	int a = adv[rnd(sizeof(adv) / sizeof(adv[0]))];

	rand_range(&r);
	lp("madvise(");
	lrange(&r);
	lp(",advice=%d) = ", a);
	lres(madvise(r.addr, r.len, a));
}

static void op_mseal(void)
{
	struct range r;
	unsigned long flags = rnd(8) ? 0 : 1ul << rnd(32);

	rand_range(&r);
	r.npages = 1 + rnd(2);		/* seal little: sealed pages stay */
	r.len = r.npages * PG;
	if (r.page + r.npages > ARENA_PAGES)
		r.len = PG;
	lp("mseal(");
	lrange(&r);
	lp(",flags=0x%lx) = ", flags);
#ifdef NR_mseal
	lres(syscall(NR_mseal, r.addr, r.len, flags));
#else
	lp("skipped(32-bit)");
#endif
}

static void op_wrpkru(void)
{
	unsigned v = rand_pkru();

	lp("wrpkru(%08x) = ", v);
	if (!g_has_pku) {
		lp("skipped(no pku)");
		return;
	}
	wrpkru(v);
	model_pkru = v;
	lp("%08x", rdpkru());
}

static void op_probe(void)
{
	struct probe p;

	rand_probe(&p);
	lp("probe ");
	lprobe(&p);
}

static int pipefd[2];

static void drain(unsigned char *buf, size_t n, int *got)
{
	int r;

	*got = 0;
	while ((r = read(pipefd[0], buf + *got, n - *got)) > 0)
		*got += r;
}

/* read(2) from a pipe into the arena: copy_to_user under PKRU. */
static void op_pipe_read(void)
{
	int page = rnd(ARENA_PAGES), off = rnd(SLOTS) * 256 + rnd(2) * 248;
	int n = 16;
	unsigned char src[16], junk[64];
	long r;
	int got;

	for (int i = 0; i < n; i++)
		src[i] = rnd(256);
	if (off == 0)
		src[0] = 0xc3;
	if (write(pipefd[1], src, n) != n) {
		lp("pipe-read: pipe write failed");
		return;
	}
	lp("read(pipe,@%d+%d,%d) = ", page, off, n);
	r = read(pipefd[0], ARENA + page * PG + off, n);
	lres(r);
	drain(junk, sizeof(junk), &got);
	if (got)
		lp(" (left %d)", got);
}

/* write(2) from the arena into a pipe: copy_from_user under PKRU. */
static void op_pipe_write(void)
{
	int page = rnd(ARENA_PAGES), off = rnd(SLOTS) * 256 + rnd(2) * 248;
	int n = 16, got;
	unsigned char buf[64];
	long r;

	lp("write(pipe,@%d+%d,%d) = ", page, off, n);
	r = write(pipefd[1], ARENA + page * PG + off, n);
	lres(r);
	drain(buf, sizeof(buf), &got);
	if (got) {
		lp(" data=");
		for (int i = 0; i < got; i++)
			lp("%02x", buf[i]);
	}
}

/* ProtectionKey and permissions of each arena page, from smaps. */
static char smaps_buf[1 << 20];

static void op_smaps(void)
{
	char prot[ARENA_PAGES + 1], key[ARENA_PAGES + 1];
	unsigned long start = 0, end = 0;
	int fd, n = 0, r, in = 0;
	char *s, *nl;

	memset(prot, '.', ARENA_PAGES);
	memset(key, '.', ARENA_PAGES);
	prot[ARENA_PAGES] = key[ARENA_PAGES] = 0;
	fd = open("/proc/self/smaps", O_RDONLY);
	if (fd < 0) {
		lp("smaps = -%s", errname(errno));
		return;
	}
	while ((r = read(fd, smaps_buf + n, sizeof(smaps_buf) - 1 - n)) > 0)
		n += r;
	close(fd);
	smaps_buf[n] = 0;
	for (s = smaps_buf; *s; s = nl + 1) {
		unsigned long a, b;
		char perms[8];

		nl = strchr(s, '\n');
		if (!nl)
			break;
		*nl = 0;
		if (sscanf(s, "%lx-%lx %7s", &a, &b, perms) == 3 && strchr(s, ' ') &&
		    s[0] != ' ' && strchr(s, '-') < strchr(s, ' ')) {
			start = a;
			end = b;
			in = a < ARENA_END && b > ARENA_BASE;
			if (in) {
				int v = (perms[0] == 'r') | (perms[1] == 'w') << 1 |
					(perms[2] == 'x') << 2 | (perms[3] == 's') << 3;
				for (unsigned long x = a; x < b; x += PG)
					if (x >= ARENA_BASE && x < ARENA_END) {
						prot[(x - ARENA_BASE) / PG] = "0123456789abcdef"[v];
						key[(x - ARENA_BASE) / PG] = '-';
					}
			}
		} else if (in && !strncmp(s, "ProtectionKey:", 14)) {
			int k = atoi(s + 14);

			for (unsigned long x = start; x < end; x += PG)
				if (x >= ARENA_BASE && x < ARENA_END)
					key[(x - ARENA_BASE) / PG] =
						k >= 0 && k < 16 ? "0123456789abcdef"[k] : '?';
		}
	}
	lp("smaps prot=%s key=%s", prot, key);
}

/* fork: the child makes three probes and exits with their classes. */
static void op_fork(void)
{
	struct probe p[3];
	unsigned parent = cur_pkru();
	int st;
	pid_t pid;

	for (int i = 0; i < 3; i++)
		rand_probe(&p[i]);
	lp("fork probes=");
	for (int i = 0; i < 3; i++)
		lp("%s%s@%d.%d", i ? "," : "", kname[p[i].kind], p[i].page, p[i].slot);
	lp(" = ");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int code = cur_pkru() == parent;

		for (int i = 0; i < 3; i++) {
			int v;
			const char *note;

			code |= do_probe(&p[i], &v, &note) << (1 + 2 * i);
		}
		_exit(code);
	}
	if (pid < 0) {
		lp("-%s", errname(errno));
		return;
	}
	if (waitpid(pid, &st, 0) != pid) {
		lp("waitpid -%s", errname(errno));
		return;
	}
	if (WIFEXITED(st)) {
		static const char *cls[] = { "ok", "PKUERR", "sig", "skip" };
		int c = WEXITSTATUS(st);

		lp("exit %d (pkru %s; %s,%s,%s)", c, c & 1 ? "inherited" : "DIFFERS",
		   cls[(c >> 1) & 3], cls[(c >> 3) & 3], cls[(c >> 5) & 3]);
	} else if (WIFSIGNALED(st)) {
		lp("killed by signal %d", WTERMSIG(st));
	} else {
		lp("status 0x%x", st);
	}
}

/* A thread: logs its starting PKRU, probes, sets its own PKRU. */
struct thr {
	struct probe p[2];
	unsigned setv;
	unsigned start, after;
	char res[256];
};

static void *thread_fn(void *arg)
{
	struct thr *t = arg;
	size_t n = 0;

	t->start = cur_pkru();
	for (int i = 0; i < 2; i++) {
		int v;
		const char *note;
		int r = do_probe(&t->p[i], &v, &note);

		n += snprintf(t->res + n, sizeof(t->res) - n, "%s%s",
			      i ? "," : "",
			      r == RES_OK ? "ok" : r == RES_PKUERR ? "PKUERR" :
			      r == RES_SKIP ? "skip" : "sig");
	}
	if (g_has_pku)
		wrpkru(t->setv);
	t->after = cur_pkru();
	return NULL;
}

static void op_thread(void)
{
	struct thr t;
	pthread_t th;
	int e;

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < 2; i++)
		rand_probe(&t.p[i]);
	t.setv = rand_pkru();
	lp("thread probes=%s@%d.%d,%s@%d.%d set=%08x = ",
	   kname[t.p[0].kind], t.p[0].page, t.p[0].slot,
	   kname[t.p[1].kind], t.p[1].page, t.p[1].slot, t.setv);
	e = pthread_create(&th, NULL, thread_fn, &t);
	if (e) {
		lp("pthread_create -%s", errname(e));
		return;
	}
	pthread_join(th, NULL);
	if (g_has_pku)
		lp("start=%08x probes=%s after=%08x", t.start, t.res, t.after);
	else
		lp("probes=%s", t.res);
}

/* ---- signals ------------------------------------------------------------- */

/*
 * The handler starts in assembly: the first thing it does is read
 * PKRU, before it touches its stack (which may sit in a page that its
 * starting PKRU does not allow), then it opens every key and goes on in C.
 */
volatile unsigned g_sig_start_pkru;
void sig_c_handler(int sig, siginfo_t *si, void *uc);
void sig_stub(int sig, siginfo_t *si, void *uc);

#ifdef __x86_64__
asm(".text\n"
    ".globl sig_stub\n"
    "sig_stub:\n"
    "	cmpb $0, g_has_pku(%rip)\n"
    "	je 1f\n"
    "	mov %rdx, %r11\n"
    "	xor %ecx, %ecx\n"
    "	.byte 0x0f,0x01,0xee\n"		/* rdpkru */
    "	mov %eax, g_sig_start_pkru(%rip)\n"
    "	xor %eax, %eax\n"
    "	xor %edx, %edx\n"
    "	.byte 0x0f,0x01,0xef\n"		/* wrpkru: all keys open */
    "	mov %r11, %rdx\n"
    "1:	jmp sig_c_handler\n");
#else
asm(".text\n"
    ".globl sig_stub\n"
    "sig_stub:\n"
    "	cmpb $0, g_has_pku\n"
    "	je 1f\n"
    "	xor %ecx, %ecx\n"
    "	.byte 0x0f,0x01,0xee\n"
    "	mov %eax, g_sig_start_pkru\n"
    "	xor %eax, %eax\n"
    "	xor %edx, %edx\n"
    "	.byte 0x0f,0x01,0xef\n"
    "1:	jmp sig_c_handler\n");
#endif

static struct {
	int handled, code, onstack;
	int frame_has_pkru;		/* XSTATE_BV bit 9 in the frame */
	unsigned frame_pkru;
	int set_frame;			/* write this PKRU into the frame */
	unsigned set_value;
	char *alt_lo, *alt_hi;
} sg;

static char altbuf[4 * PG] __attribute__((aligned(4096)));

void sig_c_handler(int sig, siginfo_t *si, void *uc)
{
	ucontext_t *u = uc;
	char *fp = (char *)u->uc_mcontext.fpregs, *xs;
	char here;

	(void)sig;
	sg.handled++;
	sg.code = si->si_code;
	sg.onstack = sg.alt_lo && &here >= sg.alt_lo && &here < sg.alt_hi;
	sg.frame_has_pkru = -1;
	if (!g_has_pku || !fp)
		return;
#ifdef __x86_64__
	xs = fp;
#else
	xs = fp + 112;		/* the FXSAVE/XSAVE area follows the fsave header */
#endif
	/* sw_reserved: magic1 says an XSAVE layout follows */
	if (*(uint32_t *)(xs + 464) != 0x46505853U)
		return;
	sg.frame_has_pkru = !!(*(uint64_t *)(xs + 512) & (1u << 9));
	sg.frame_pkru = *(uint32_t *)(xs + pkru_xoff);
	if (sg.set_frame) {
		*(uint32_t *)(xs + pkru_xoff) = sg.set_value;
		*(uint64_t *)(xs + 512) |= 1u << 9;
	}
}

/*
 * Zero what a signal frame left on an arena altstack: it holds register
 * contents (XSAVE of vector registers that glibc's string functions
 * used), which differ from run to run, so a later read of the page
 * would too.  Pages it cannot write (read-only, unmapped) are left alone.
 */
static void wipe(char *lo, size_t len)
{
	volatile unsigned saved = cur_pkru();

	for (char *volatile pg = lo; pg < lo + len; pg += PG) {
		sigjmp_buf jb;

		probe_addr = pg;
		probe_jb = &jb;
		if (g_has_pku)
			wrpkru(0);
		if (sigsetjmp(jb, 1) == 0) {
			volatile char *c = pg;

			/* read then write each byte: a read-only page faults at once */
			c[0] = c[0];
			memset(pg, 0, PG);
		}
		probe_jb = NULL;
		if (g_has_pku)
			wrpkru(saved);
	}
}

static void op_signal(void)
{
	int kind = rnd(5), page = rnd(ARENA_PAGES - 1), key = 1 + rnd(15);
	int setf = rnd(2);
	unsigned setv = rand_pkru();
	struct sigaction sa;
	stack_t ss;
	sigjmp_buf jb;
	volatile unsigned saved = cur_pkru();

	memset(&sg, 0, sizeof(sg));
	memset(&ss, 0, sizeof(ss));
	lp("signal stack=");
	if (kind == 0) {
		lp("normal");
		ss.ss_flags = SS_DISABLE;
	} else if (kind == 1) {
		lp("static");
		ss.ss_sp = altbuf;
		ss.ss_size = sizeof(altbuf);
	} else {
		lp("@%d-%d", page, page + 1);
		ss.ss_sp = ARENA + page * PG;
		ss.ss_size = 2 * PG;
		if (kind >= 3) {
			/* a fresh read-write altstack, tagged with a random key */
			lp("(mmap=");
			laddr(mmap(ss.ss_sp, ss.ss_size, PROT_READ | PROT_WRITE,
				   MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
			lp(",key %d=", key);
			lres(pkey_mprotect_(ss.ss_sp, ss.ss_size, PROT_READ | PROT_WRITE, key));
			lp(")");
		}
	}
	sg.alt_lo = ss.ss_sp;
	sg.alt_hi = (char *)ss.ss_sp + ss.ss_size;
	if (setf && g_has_pku) {
		sg.set_frame = 1;
		sg.set_value = setv;
		lp(" frame<-%08x", setv);
	}
	lp(" = ");
	if (sigaltstack(&ss, NULL)) {
		lp("sigaltstack -%s", errname(errno));
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sig_stub;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	probe_addr = NULL;
	probe_jb = &jb;
	if (sigsetjmp(jb, 1) == 0) {
		syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1);
		probe_jb = NULL;
		lp("handled=%d code=%d onstack=%d", sg.handled, sg.code, sg.onstack);
		if (g_has_pku) {
			lp(" hpkru=%08x", g_sig_start_pkru);
			if (sg.frame_has_pkru < 0)
				lp(" frame=none");
			else
				lp(" frame=%08x/bv%d", sg.frame_pkru, sg.frame_has_pkru);
		}
	} else {
		probe_jb = NULL;
		/* no frame could be written: SIGSEGV instead */
		lp("frame failed: ");
		lfault();
		/* no handler ran: back to the PKRU the model expects */
		if (g_has_pku)
			wrpkru(sg.set_frame ? setv : saved);
	}
	/* sigreturn restores the PKRU in the frame */
	if (sg.set_frame)
		model_pkru = setv;
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	if (kind >= 2)
		wipe(ss.ss_sp, ss.ss_size);
}

/* ---- exec ------------------------------------------------------------------ */

static const char *self_exe = "/proc/self/exe";

static void op_exec(void)
{
	unsigned setv = rand_pkru();
	int pfd[2], st, n = 0, r;
	char buf[256];
	pid_t pid;

	lp("exec set=%08x = ", setv);
	if (pipe(pfd)) {
		lp("pipe -%s", errname(errno));
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "pkey_difftest", "--exec-probe", NULL };
		char *envp[] = { NULL };

		close(pfd[0]);
		dup2(pfd[1], 1);
		if (g_has_pku)
			wrpkru(setv);
		execve(self_exe, argv, envp);
		_exit(127);
	}
	close(pfd[1]);
	while (pid > 0 && n < (int)sizeof(buf) - 1 &&
	       (r = read(pfd[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	close(pfd[0]);
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	if (pid < 0) {
		lp("fork -%s", errname(errno));
		return;
	}
	waitpid(pid, &st, 0);
	lp("'%s' ", buf);
	if (WIFEXITED(st))
		lp("exit %d", WEXITSTATUS(st));
	else
		lp("status 0x%x", st);
}

static int exec_probe(void)
{
	long k;

	detect_cpu();
	if (g_has_pku)
		printf("pkru=%08x", rdpkru());
	else
		printf("pkru=-");
	k = pkey_alloc_(0, 0);
	printf(" pkey_alloc=");
	if (k < 0)
		printf("-%s\n", errname(errno));
	else
		printf("%ld\n", k);
	return 0;
}

/* ---- main ------------------------------------------------------------------ */

struct opdef {
	const char *name;
	void (*fn)(void);
	int weight;
};

static const struct opdef ops[] = {
	{ "pkey_alloc", op_pkey_alloc, 60 },
	{ "pkey_free", op_pkey_free, 40 },
	{ "pkey_mprotect", op_pkey_mprotect, 100 },
	{ "mprotect", op_mprotect, 70 },
	{ "mmap", op_mmap, 80 },
	{ "munmap", op_munmap, 25 },
	{ "mremap", op_mremap, 40 },
	{ "madvise", op_madvise, 50 },
	{ "mseal", op_mseal, 2 },
	{ "wrpkru", op_wrpkru, 70 },
	{ "probe", op_probe, 250 },
	{ "pipe_read", op_pipe_read, 30 },
	{ "pipe_write", op_pipe_write, 30 },
	{ "smaps", op_smaps, 40 },
	{ "fork", op_fork, 6 },
	{ "thread", op_thread, 6 },
	{ "signal", op_signal, 25 },
	{ "exec", op_exec, 2 },
};
#define NOPDEFS ((int)(sizeof(ops) / sizeof(ops[0])))

static void install_fault_handler(void)
{
	struct sigaction sa;
	int sigs[] = { SIGSEGV, SIGBUS, SIGILL };

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, NULL);
}

static void log_env(void)
{
	char buf[64];
	int fd = open("/proc/sys/vm/pkru_default", O_RDONLY), n;

	if (fd < 0) {
		lp("env vm.pkru_default = absent");
	} else {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		if (n > 0 && buf[n - 1] == '\n')
			buf[n - 1] = 0;
		lp("env vm.pkru_default = %s", buf);
	}
	lend();
}

int main(int argc, char **argv)
{
	unsigned long long seed;
	int nops, total = 0;

	if (argc == 2 && !strcmp(argv[1], "--exec-probe"))
		return exec_probe();
	if (argc != 3) {
		fprintf(stderr, "usage: %s SEED NOPS\n", argv[0]);
		return 2;
	}
	seed = strtoull(argv[1], NULL, 0);
	nops = atoi(argv[2]);
	rng = seed;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	detect_cpu();

	printf("# pkey_difftest %d-bit seed=%llu nops=%d\n", BITS, seed, nops);
	lp("cpu pku=%d ospke=%d", cpu_pku, cpu_ospke);
	if (!g_has_pku)
		lp(" (no PKU: WRPKRU operations are skipped)");
	lend();
	log_env();

	install_fault_handler();
	if (pipe2(pipefd, O_NONBLOCK)) {
		perror("pipe2");
		return 1;
	}
	/* An empty arena: nothing else gets mapped at this address. */
	if (mmap(ARENA, ARENA_PAGES * PG, PROT_NONE,
		 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != ARENA ||
	    munmap(ARENA, ARENA_PAGES * PG)) {
		perror("arena");
		return 1;
	}
	model_pkru = cur_pkru();
	lp("start");
	lend();

	for (int i = 0; i < NOPDEFS; i++)
		total += ops[i].weight;
	for (opno = 0; opno < nops; opno++) {
		int w = rnd(total), i;

		for (i = 0; w >= ops[i].weight; i++)
			w -= ops[i].weight;
		lp("%05d ", opno);
		ops[i].fn();
		lend();
	}
	opno = -1;
	lp("end");
	lend();
	op_smaps();
	lend();
	printf("# done\n");
	fflush(stdout);
	return 0;
}
