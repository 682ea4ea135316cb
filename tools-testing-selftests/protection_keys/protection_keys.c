// SPDX-License-Identifier: GPL-2.0
/*
 * x86 Memory Protection Keys (PKU) selftests.
 *
 * Checks what user space can observe of protection keys: the
 * pkey_alloc(), pkey_free() and pkey_mprotect() system calls, the
 * per-thread PKRU register, protection-key faults and their siginfo,
 * kernel accesses made on the process's behalf, mprotect()/mremap()
 * interplay, execute-only memory, signal delivery and sigreturn, the
 * default PKRU sysctl, PKRU across suspend to RAM (opt-in), ptrace
 * access to PKRU, PKRU in core dumps and PKRU across context switches.
 *
 * Tests needing PKU skip when the kernel has no pkey system calls or
 * the CPU/kernel has not enabled PKU (CPUID OSPKE clear); the "nopku_"
 * tests check the documented behaviour when PKU is absent.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define _FILE_OFFSET_BITS 64	/* /proc/PID/mem offsets above 2 GiB on i386 */

#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/elf.h>
/*
 * The uapi names, PKEY_UNRESTRICTED among them.  KHDR_INCLUDES brings the
 * uapi headers in with -isystem, so the macros they share with the C
 * library's <sys/mman.h> do not warn as redefinitions.
 */
#include <linux/mman.h>

#include "pkeys_util.h"
#include "../kselftest_harness.h"
#include "pkeys_harness.h"

#ifndef FUTEX_WAIT
# define FUTEX_WAIT		0
#endif
#ifndef FUTEX_WAKE
# define FUTEX_WAKE		1
#endif
#ifndef FUTEX_PRIVATE_FLAG
# define FUTEX_PRIVATE_FLAG	128
#endif
#ifndef PTRACE_GETREGSET
# define PTRACE_GETREGSET	0x4204
#endif
#ifndef PTRACE_SETREGSET
# define PTRACE_SETREGSET	0x4205
#endif
#ifndef MADV_HUGEPAGE
# define MADV_HUGEPAGE		14
#endif
#ifndef MAP_HUGETLB
# define MAP_HUGETLB		0x40000
#endif
#ifndef PROT_GROWSDOWN
# define PROT_GROWSDOWN		0x01000000
#endif
#ifndef PROT_GROWSUP
# define PROT_GROWSUP		0x02000000
#endif
#ifndef PROT_SEM
# define PROT_SEM		0x8
#endif
#ifndef MAP_FIXED_NOREPLACE
# define MAP_FIXED_NOREPLACE	0x100000
#endif
#ifndef MADV_DONTNEED
# define MADV_DONTNEED		4
#endif
#ifndef SYS_mseal
# define SYS_mseal		462
#endif

/* What a child process stores, told apart from MARKER. */
#define CHILD_MARKER		0xc0de5678u
/* Size of the buffers moved through pipes, files and process_vm_readv. */
#define IO_LEN			64
/* Seed of the byte pattern written into test buffers. */
#define PATTERN_SEED		0x31
/* Fallback huge page size when sysfs does not say. */
#define DEFAULT_THP_SIZE	(2ul << 20)
#define KB			1024
/* Alternate signal stack size; far above any XSAVE signal frame. */
#define ALTSTACK_SIZE		(64 * 1024)
/* Less than any signal frame: a frame below it starts in the page before. */
#define ALTSTACK_TOP_IN_HIGH	256
/* Big enough for any standard-format XSAVE image, a multiple of 8. */
#define XSTATE_BUF_SIZE		(64 * 1024)
/* Context switch test: threads, their CPUs and yield round trips. */
#define SWITCH_THREADS		8
#define SWITCH_ROUNDS		10000
#define SWITCH_TIMEOUT_SECS	120
/* Argument that makes main() run the post-exec checks. */
#define EXEC_CHECK_ARG		"--pkeys-exec-check"
#define EXEC_CHECK_PKRU		"pkru"
#define EXEC_CHECK_KEYS		"keys"

/* Keys whose PKRU bits build recognisable PKRU values in signal/ptrace tests. */
#define SCRATCH_KEY_A		3
#define SCRATCH_KEY_B		7
#define SCRATCH_KEY_C		11

/* "mov $42, %eax; ret": the same bytes in 32-bit and 64-bit mode. */
static const uint8_t return_42_code[] = { 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3 };
#define RETURN_42_VALUE		42

/* PKRU when main() started: the kernel's value for a new program. */
static uint32_t startup_pkru;
static char *self_argv0;

/* Exit codes of helper child processes. */
enum child_result {
	CHILD_OK = 0,
	CHILD_WRONG_PKRU,
	CHILD_KEY_NOT_ALLOCATED,
	CHILD_KEY_STILL_ALLOCATED,
	CHILD_KEY_STILL_USABLE,
	CHILD_ACCESS_NOT_DENIED,
	CHILD_SETUP_FAILED,
	CHILD_EXEC_FAILED,
	CHILD_BAD_ARGUMENTS,
	CHILD_CARRIED_KEY_HANDED_OUT,
	CHILD_EXEC_ONLY_KEY_FREED,
};

static const char *child_result_name(int code)
{
	switch (code) {
	case CHILD_OK:			return "ok";
	case CHILD_WRONG_PKRU:		return "unexpected PKRU value";
	case CHILD_KEY_NOT_ALLOCATED:	return "key not allocated in child";
	case CHILD_KEY_STILL_ALLOCATED:	return "key still allocated";
	case CHILD_KEY_STILL_USABLE:	return "key still accepted by pkey_mprotect";
	case CHILD_ACCESS_NOT_DENIED:	return "protected access did not fault";
	case CHILD_SETUP_FAILED:	return "child setup failed";
	case CHILD_EXEC_FAILED:		return "execv failed";
	case CHILD_BAD_ARGUMENTS:	return "bad exec-check arguments";
	case CHILD_CARRIED_KEY_HANDED_OUT:
		return "pkey_alloc returned a key that a mapping carries";
	case CHILD_EXEC_ONLY_KEY_FREED:	return "pkey_free freed the execute-only key";
	default:			return "killed or unknown status";
	}
}

static void fill_pattern(void *buf, size_t len, unsigned int seed)
{
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

static int alloc_key(unsigned long rights)
{
	return (int)sys_pkey_alloc(0, rights);
}

/*
 * Allocate a key with full rights and tag [@addr, @addr + @len) with it,
 * read-write: the start of most tests of what a key does to a mapping.
 */
static int tag_with_new_key(struct __test_metadata *_metadata, void *addr,
			    size_t len)
{
	int key = alloc_key(PKEY_ALLOW_ALL);

	ASSERT_GT(key, DEFAULT_PKEY);
	ASSERT_EQ(0, sys_pkey_mprotect(addr, len, PROT_READ | PROT_WRITE, key));
	return key;
}

/* Allocate keys until the kernel refuses; returns how many it gave. */
static int alloc_all_keys(int keys[NR_PKEYS], unsigned long rights,
			  int *last_errno)
{
	int n = 0;
	long key;

	for (;;) {
		errno = 0;
		key = sys_pkey_alloc(0, rights);
		if (key < 0 || n == NR_PKEYS)
			break;
		keys[n++] = (int)key;
	}
	*last_errno = key < 0 ? errno : 0;
	return n;
}

/* The last caught fault was exactly @code at @addr (and key @key). */
static void expect_fault(struct __test_metadata *_metadata, int code,
			 const void *addr, int key)
{
	EXPECT_EQ(SIGSEGV, last_fault.signo);
	EXPECT_EQ(code, last_fault.code);
	EXPECT_EQ((uintptr_t)addr, (uintptr_t)last_fault.addr);
	if (code == SEGV_PKUERR)
		EXPECT_EQ(key, last_fault.pkey);
}

/* Run @fn in a child; its exit status, 128 + signal, or -1. */
#define run_in_child(fn, arg)	run_in_child_timeout(fn, arg, 0)

/*
 * A reusable barrier that needs no futex: a 32-bit C library waits with
 * the i386 futex call, which a 64-bit kernel without
 * CONFIG_COMPAT_32BIT_TIME does not provide.
 */
struct spin_barrier {
	int parties;
	int arrived;
	int generation;
};

static void spin_barrier_init(struct spin_barrier *b, int parties)
{
	b->parties = parties;
	b->arrived = 0;
	b->generation = 0;
}

static void spin_barrier_wait(struct spin_barrier *b)
{
	int generation = __atomic_load_n(&b->generation, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == b->parties) {
		__atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED);
		__atomic_add_fetch(&b->generation, 1, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&b->generation, __ATOMIC_ACQUIRE) == generation)
		sched_yield();
}

/*
 * Threads are awaited through a completion flag, not pthread_join(),
 * for the same reason: the 32-bit C library's join waits with the i386
 * futex call.  The threads are detached, so nothing is leaked.
 */
struct test_thread {
	pthread_t handle;
	void *(*fn)(void *arg);
	void *arg;
	int done;
};

static void *test_thread_main(void *arg)
{
	struct test_thread *t = arg;

	t->fn(t->arg);
	__atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int start_thread(struct test_thread *t, void *(*fn)(void *), void *arg)
{
	int ret;

	t->fn = fn;
	t->arg = arg;
	t->done = 0;
	ret = pthread_create(&t->handle, NULL, test_thread_main, t);
	if (!ret)
		pthread_detach(t->handle);
	return ret;
}

static void wait_thread(struct test_thread *t)
{
	while (!__atomic_load_n(&t->done, __ATOMIC_ACQUIRE))
		sched_yield();
}

/* ==================================================================== */
/* CPU and kernel feature reporting (valid on any kernel)               */
/* ==================================================================== */

/* 1 if the first "flags" line of /proc/cpuinfo lists @flag, 0 if not. */
static int cpuinfo_has_flag(const char *flag)
{
	char *line = NULL, *colon, *tok, *save;
	size_t cap = 0;
	int ret = -1;
	FILE *f;

	f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return -1;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "flags", strlen("flags")))
			continue;
		colon = strchr(line, ':');
		if (!colon)
			break;
		ret = 0;
		for (tok = strtok_r(colon + 1, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save)) {
			if (!strcmp(tok, flag)) {
				ret = 1;
				break;
			}
		}
		break;
	}
	free(line);
	fclose(f);
	return ret;
}

/*
 * "pku" says what the CPU has (CPUID.7.0:ECX[3]), whether or not the
 * kernel uses it: booted with nopku, the kernel leaves "pku" in place
 * and drops only "ospke" (CPUID OSPKE stays clear).
 */
TEST(cpuinfo_pku_flag_matches_cpuid)
{
	int flag = cpuinfo_has_flag("pku");

	if (flag < 0)
		SKIP(return, "no flags line in /proc/cpuinfo");
	EXPECT_EQ((int)cpu_has_pku(), flag)
		TH_LOG("CPUID.7.0:ECX[3] and the cpuinfo 'pku' flag differ");
}

TEST(cpuinfo_ospke_flag_matches_cpuid)
{
	int flag = cpuinfo_has_flag("ospke");

	if (flag < 0)
		SKIP(return, "no flags line in /proc/cpuinfo");
	EXPECT_EQ((int)cpu_has_ospke(), flag)
		TH_LOG("CPUID.7.0:ECX[4] and the cpuinfo 'ospke' flag differ");
}

/* A kernel that sets CR4.PKE is built with pkey support. */
TEST(ospke_kernel_has_pkey_syscalls)
{
	if (!cpu_has_ospke())
		SKIP(return, "OSPKE clear: nothing to check");
	EXPECT_TRUE(pkey_syscalls_present());
}

TEST(startup_pkru_is_linux_default)
{
	if (!require_pku(_metadata))
		return;
	EXPECT_EQ(LINUX_DEFAULT_PKRU, startup_pkru);
}

/* ==================================================================== */
/* Allocation                                                           */
/* ==================================================================== */

FIXTURE(alloc_rights) {
	int key;
};

FIXTURE_VARIANT(alloc_rights) {
	unsigned long rights;
};

FIXTURE_VARIANT_ADD(alloc_rights, allow_all) {
	.rights = PKEY_ALLOW_ALL,
};

FIXTURE_VARIANT_ADD(alloc_rights, disable_access) {
	.rights = PKEY_DISABLE_ACCESS,
};

FIXTURE_VARIANT_ADD(alloc_rights, disable_write) {
	.rights = PKEY_DISABLE_WRITE,
};

FIXTURE_VARIANT_ADD(alloc_rights, disable_access_and_write) {
	.rights = PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE,
};

FIXTURE_SETUP(alloc_rights)
{
	if (!require_pku(_metadata))
		return;
}

FIXTURE_TEARDOWN(alloc_rights)
{
}

/* The init rights land in the caller's PKRU; other keys keep theirs. */
TEST_F(alloc_rights, set_only_that_key_in_pkru)
{
	uint32_t before = rdpkru();

	self->key = alloc_key(variant->rights);
	ASSERT_GT(self->key, DEFAULT_PKEY);
	EXPECT_EQ((uint32_t)variant->rights,
		  pkru_key_rights(rdpkru(), self->key));
	EXPECT_EQ(pkru_with_rights(before, self->key, variant->rights),
		  rdpkru());
}

struct pkru_snapshot {
	struct spin_barrier *ready;
	uint32_t pkru;
};

static void *snapshot_pkru_after_barrier(void *arg)
{
	struct pkru_snapshot *snap = arg;

	spin_barrier_wait(snap->ready);
	snap->pkru = rdpkru();
	return NULL;
}

static void *snapshot_pkru(void *arg)
{
	struct pkru_snapshot *snap = arg;

	snap->pkru = rdpkru();
	return NULL;
}

/*
 * The uapi headers name the rights "none restricted" PKEY_UNRESTRICTED
 * (since Linux 6.14); no fallback here, the test checks the headers the
 * selftests are built with.
 */
TEST(alloc_pkey_unrestricted_allows_all)
{
#ifdef PKEY_UNRESTRICTED
	int key;

	if (!require_pku(_metadata))
		return;
	EXPECT_EQ(PKEY_ALLOW_ALL, PKEY_UNRESTRICTED);
	key = alloc_key(PKEY_UNRESTRICTED);
	ASSERT_GT(key, DEFAULT_PKEY);
	EXPECT_EQ((uint32_t)PKEY_ALLOW_ALL, pkru_key_rights(rdpkru(), key));
#else
	SKIP(return, "the uapi headers have no PKEY_UNRESTRICTED");
#endif
}

/* pkey_alloc() changes PKRU of the calling thread, not of its siblings. */
TEST(alloc_rights_apply_to_calling_thread_only)
{
	struct pkru_snapshot snap;
	struct spin_barrier ready;
	struct test_thread thread;
	uint32_t before;
	int key;

	if (!require_pku(_metadata))
		return;
	before = rdpkru();
	spin_barrier_init(&ready, 2);
	snap.ready = &ready;
	ASSERT_EQ(0, start_thread(&thread, snapshot_pkru_after_barrier, &snap));
	key = alloc_key(PKEY_ALLOW_ALL);
	spin_barrier_wait(&ready);
	wait_thread(&thread);
	ASSERT_GT(key, DEFAULT_PKEY);

	EXPECT_EQ((uint32_t)PKEY_ALLOW_ALL, pkru_key_rights(rdpkru(), key));
	EXPECT_EQ(before, snap.pkru);
	EXPECT_EQ(pkru_key_rights(before, key),
		  pkru_key_rights(snap.pkru, key));
}

TEST(new_thread_inherits_creator_pkru)
{
	struct pkru_snapshot snap;
	struct test_thread thread;
	uint32_t mine;
	int key;

	if (!require_pku(_metadata))
		return;
	key = alloc_key(PKEY_DISABLE_WRITE);
	ASSERT_GT(key, DEFAULT_PKEY);
	mine = rdpkru();
	ASSERT_NE(startup_pkru, mine);
	ASSERT_EQ(0, start_thread(&thread, snapshot_pkru, &snap));
	wait_thread(&thread);
	EXPECT_EQ(mine, snap.pkru);
}

/* Keys 1..15 can be allocated, each once; then ENOSPC. */
TEST(alloc_all_user_keys_then_enospc)
{
	int keys[NR_PKEYS], n, i, err;
	unsigned int seen = 0;

	if (!require_pku(_metadata))
		return;
	n = alloc_all_keys(keys, PKEY_ALLOW_ALL, &err);
	EXPECT_EQ(NR_USER_PKEYS, n);
	EXPECT_EQ(ENOSPC, err);
	for (i = 0; i < n; i++) {
		EXPECT_GT(keys[i], DEFAULT_PKEY);
		EXPECT_LT(keys[i], NR_PKEYS);
		EXPECT_EQ(0u, seen & (1u << keys[i]))
			TH_LOG("key %d handed out twice", keys[i]);
		seen |= 1u << keys[i];
	}
}

/* Copy return_42_code into a fresh page and make it PROT_EXEC only. */
static void *map_exec_only_function(void)
{
	size_t page = page_size();
	void *code = map_anon(page, PROT_READ | PROT_WRITE);

	if (!code)
		return NULL;
	memcpy(code, return_42_code, sizeof(return_42_code));
	if (mprotect(code, page, PROT_EXEC)) {
		munmap(code, page);
		return NULL;
	}
	return code;
}

/* The kernel's execute-only key is one of the 15; it is never handed out. */
TEST(alloc_with_exec_only_key_in_use)
{
	int keys[NR_PKEYS], n, i, err, exec_key;
	void *code;

	if (!require_pku(_metadata))
		return;
	code = map_exec_only_function();
	ASSERT_FALSE(!code);
	exec_key = smaps_pkey_at(code);
	ASSERT_GT(exec_key, DEFAULT_PKEY);

	n = alloc_all_keys(keys, PKEY_ALLOW_ALL, &err);
	EXPECT_EQ(NR_USER_PKEYS - 1, n);
	EXPECT_EQ(ENOSPC, err);
	for (i = 0; i < n; i++)
		EXPECT_NE(exec_key, keys[i]);
}

TEST(free_then_alloc_reuses_key)
{
	int keys[NR_PKEYS], n, err, victim;

	if (!require_pku(_metadata))
		return;
	n = alloc_all_keys(keys, PKEY_ALLOW_ALL, &err);
	ASSERT_EQ(NR_USER_PKEYS, n);
	victim = keys[n / 2];
	ASSERT_EQ(0, sys_pkey_free(victim));
	EXPECT_EQ(victim, alloc_key(PKEY_ALLOW_ALL));
	EXPECT_SYSCALL_ERRNO(ENOSPC, sys_pkey_alloc(0, PKEY_ALLOW_ALL));
}

/* A reallocated key gets the rights of the new pkey_alloc() call. */
TEST(realloc_applies_new_rights)
{
	int keys[NR_PKEYS], n, err, victim;

	if (!require_pku(_metadata))
		return;
	n = alloc_all_keys(keys, PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE,
			   &err);
	ASSERT_EQ(NR_USER_PKEYS, n);
	victim = keys[0];
	ASSERT_EQ(0, sys_pkey_free(victim));
	ASSERT_EQ(victim, alloc_key(PKEY_ALLOW_ALL));
	EXPECT_EQ((uint32_t)PKEY_ALLOW_ALL, pkru_key_rights(rdpkru(), victim));
}

/* pkey_free() only returns the key to the pool; PKRU is untouched. */
TEST(free_leaves_pkru_unchanged)
{
	uint32_t before;
	int key;

	if (!require_pku(_metadata))
		return;
	key = alloc_key(PKEY_DISABLE_WRITE);
	ASSERT_GT(key, DEFAULT_PKEY);
	before = rdpkru();
	ASSERT_EQ(0, sys_pkey_free(key));
	EXPECT_EQ(before, rdpkru());
}

/*
 * Key 0 is the key of every mapping that was never given another one;
 * it is not the caller's to free, so pkey_free(0) is EINVAL.  Stock
 * Linux 6.12 gets this wrong: it treats key 0 like an allocated key
 * and frees it, after which pkey_alloc() can hand out key 0.  Report
 * SKIP there rather than PASS.
 */
TEST(free_default_key0_einval)
{
	int ret;

	if (!require_pku(_metadata))
		return;
	ret = sys_pkey_free(DEFAULT_PKEY);
	if (ret == 0)
		SKIP(return, "kernel frees key 0 (stock Linux behaviour)");
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno);
}

static int child_check_pkru(void *arg)
{
	return rdpkru() == *(uint32_t *)arg ? CHILD_OK : CHILD_WRONG_PKRU;
}

TEST(fork_child_inherits_pkru)
{
	uint32_t parent_pkru;
	int key, ret;

	if (!require_pku(_metadata))
		return;
	/* Write-disable differs from the default (access-disable). */
	key = alloc_key(PKEY_DISABLE_WRITE);
	ASSERT_GT(key, DEFAULT_PKEY);
	parent_pkru = rdpkru();
	ASSERT_NE(startup_pkru, parent_pkru);
	ret = run_in_child(child_check_pkru, &parent_pkru);
	EXPECT_EQ(CHILD_OK, ret) TH_LOG("child: %s", child_result_name(ret));
}

static int child_use_and_free_key(void *arg)
{
	int key = *(int *)arg;
	size_t page = page_size();
	void *area = map_anon(page, PROT_READ | PROT_WRITE);

	if (!area)
		return CHILD_SETUP_FAILED;
	if (sys_pkey_mprotect(area, page, PROT_READ | PROT_WRITE, key))
		return CHILD_KEY_NOT_ALLOCATED;
	if (sys_pkey_free(key))
		return CHILD_KEY_NOT_ALLOCATED;
	return CHILD_OK;
}

/* The child gets a copy of the allocation map; freeing there is private. */
TEST(fork_child_inherits_allocations)
{
	int key, ret;

	if (!require_pku(_metadata))
		return;
	key = alloc_key(PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	ret = run_in_child(child_use_and_free_key, &key);
	EXPECT_EQ(CHILD_OK, ret) TH_LOG("child: %s", child_result_name(ret));
	EXPECT_EQ(0, sys_pkey_free(key));
}

/*
 * fork() while other threads allocate keys and tag pages with them, and
 * one makes a page execute-only (which allocates the execute-only key):
 * the child's allocation map must be the one that goes with the
 * mappings it got, taken at the same moment.  Each round is a fresh
 * process, so the execute-only key is allocated anew every time, and
 * forks several children; each fork comes after a different delay, to
 * land in different phases of the other threads' work.
 */
#define FORK_RACE_ROUNDS	500
#define FORK_RACE_FORKS		8
#define FORK_RACE_SECS		5
#define FORK_RACE_TAGGERS	2
#define FORK_RACE_KEYS_EACH	4
#define FORK_RACE_PAGES		(FORK_RACE_TAGGERS * FORK_RACE_KEYS_EACH)
#define FORK_RACE_DELAY_STEPS	32
#define FORK_RACE_DELAY_SPINS	1000

struct fork_race {
	char *arena;		/* FORK_RACE_PAGES pages, FORK_RACE_KEYS_EACH a tagger */
	void *code;		/* made execute-only by the first tagger */
	struct spin_barrier go;
	int stop;
};

struct fork_race_tagger {
	struct test_thread thread;
	struct fork_race *race;
	int index;
};

/* Tag each of my pages with a new key, then untag them and free the keys. */
static void *fork_race_tag_pages(void *arg)
{
	struct fork_race_tagger *t = arg;
	struct fork_race *race = t->race;
	size_t page = page_size();
	char *mine = race->arena + t->index * FORK_RACE_KEYS_EACH * page;
	int keys[FORK_RACE_KEYS_EACH], i;

	spin_barrier_wait(&race->go);
	if (t->index == 0)
		mprotect(race->code, page, PROT_EXEC);
	while (!__atomic_load_n(&race->stop, __ATOMIC_RELAXED)) {
		for (i = 0; i < FORK_RACE_KEYS_EACH; i++) {
			keys[i] = alloc_key(PKEY_ALLOW_ALL);
			if (keys[i] > DEFAULT_PKEY)
				sys_pkey_mprotect(mine + i * page, page,
						  PROT_READ | PROT_WRITE, keys[i]);
		}
		for (i = 0; i < FORK_RACE_KEYS_EACH; i++) {
			if (keys[i] <= DEFAULT_PKEY)
				continue;
			sys_pkey_mprotect(mine + i * page, page,
					  PROT_READ | PROT_WRITE, DEFAULT_PKEY);
			sys_pkey_free(keys[i]);
		}
	}
	return NULL;
}

/*
 * In the child: no key that a mapping carries may be handed out by
 * pkey_alloc(), and each of them must be allocated, which pkey_free()
 * shows: it frees a user key and refuses the execute-only key.
 */
static int fork_race_check_child(void *arg)
{
	struct fork_race *race = arg;
	struct vma_info vmas[2 * FORK_RACE_PAGES + 2];
	bool carried[NR_PKEYS] = { false }, exec_only[NR_PKEYS] = { false };
	size_t page = page_size();
	int n, i, key;

	n = smaps_vmas_in(race->arena, FORK_RACE_PAGES * page, vmas,
			  ARRAY_SIZE(vmas) - 1);
	if (n < 1 || n >= (int)ARRAY_SIZE(vmas) - 1 ||
	    !smaps_vma_at(race->code, &vmas[n]))
		return CHILD_SETUP_FAILED;
	for (i = 0; i <= n; i++) {
		key = vmas[i].pkey;
		if (key <= DEFAULT_PKEY || key >= NR_PKEYS)
			continue;
		carried[key] = true;
		exec_only[key] = !strncmp(vmas[i].perms, "--x", 3);
	}
	while ((key = alloc_key(PKEY_ALLOW_ALL)) > DEFAULT_PKEY)
		if (key < NR_PKEYS && carried[key])
			return CHILD_CARRIED_KEY_HANDED_OUT;
	for (key = DEFAULT_PKEY + 1; key < NR_PKEYS; key++) {
		if (!carried[key])
			continue;
		if (exec_only[key] && !sys_pkey_free(key))
			return CHILD_EXEC_ONLY_KEY_FREED;
		if (!exec_only[key] && sys_pkey_free(key))
			return CHILD_KEY_NOT_ALLOCATED;
	}
	return CHILD_OK;
}

/* A delay of @steps (0 .. FORK_RACE_DELAY_STEPS - 1) units. */
static void fork_race_delay(unsigned int steps)
{
	unsigned int spin;

	for (spin = 0; spin < steps * FORK_RACE_DELAY_SPINS; spin++)
		__builtin_ia32_pause();
}

/*
 * One round, in a fresh process: start the taggers, then fork a child
 * now and then; stops at the first child that finds a mismatch.
 */
static int fork_race_round(void *arg)
{
	struct fork_race_tagger taggers[FORK_RACE_TAGGERS];
	unsigned int round = *(unsigned int *)arg;
	size_t page = page_size();
	struct fork_race race = { 0 };
	int i, ret = CHILD_OK;

	race.arena = map_anon(FORK_RACE_PAGES * page, PROT_READ | PROT_WRITE);
	race.code = map_anon(page, PROT_READ | PROT_WRITE);
	if (!race.arena || !race.code)
		return CHILD_SETUP_FAILED;
	spin_barrier_init(&race.go, FORK_RACE_TAGGERS + 1);
	for (i = 0; i < FORK_RACE_TAGGERS; i++) {
		taggers[i] = (struct fork_race_tagger) { .race = &race, .index = i };
		if (start_thread(&taggers[i].thread, fork_race_tag_pages,
				 &taggers[i]))
			return CHILD_SETUP_FAILED;
	}
	spin_barrier_wait(&race.go);
	for (i = 0; i < FORK_RACE_FORKS && ret == CHILD_OK; i++) {
		fork_race_delay((round * FORK_RACE_FORKS + i) %
				FORK_RACE_DELAY_STEPS);
		ret = run_in_child(fork_race_check_child, &race);
	}
	__atomic_store_n(&race.stop, 1, __ATOMIC_RELAXED);
	return ret;
}

TEST(fork_child_allocations_match_its_mappings)
{
	time_t deadline = time(NULL) + FORK_RACE_SECS;
	int ret, first_failure = CHILD_OK;
	unsigned int round, failures = 0;

	if (!require_pku(_metadata))
		return;
	for (round = 0; round < FORK_RACE_ROUNDS && time(NULL) < deadline;
	     round++) {
		ret = run_in_child(fork_race_round, &round);
		if (ret != CHILD_OK && !failures++)
			first_failure = ret;
	}
	TH_LOG("%u rounds of up to %d forks, %u with a child whose keys do not match its mappings",
	       round, FORK_RACE_FORKS, failures);
	EXPECT_EQ(0u, failures)
		TH_LOG("first: %s", child_result_name(first_failure));
}

struct exec_request {
	const char *what;
	int key;
	uint32_t pkru;		/* what the new image must start with */
};

/* Re-execute this binary; main() then runs exec_check_main(). */
static int child_exec_self(void *arg)
{
	struct exec_request *req = arg;
	char key_arg[16], pkru_arg[16];
	char *const argv[] = { self_argv0, EXEC_CHECK_ARG, (char *)req->what,
			       key_arg, pkru_arg, NULL };

	snprintf(key_arg, sizeof(key_arg), "%d", req->key);
	snprintf(pkru_arg, sizeof(pkru_arg), "0x%x", req->pkru);
	/* Open every key: a reset to the default is then visible. */
	wrpkru(0);
	exec_self(argv);
	return CHILD_EXEC_FAILED;
}

/* Runs in the freshly executed image: argv = what, key, expected PKRU. */
static int exec_check_main(int argc, char **argv)
{
	size_t page = page_size();
	uint32_t expected;
	void *area;
	int key;

	if (argc != 5 || !cpu_has_ospke())
		return CHILD_BAD_ARGUMENTS;
	key = atoi(argv[3]);
	expected = (uint32_t)strtoul(argv[4], NULL, 0);

	if (!strcmp(argv[2], EXEC_CHECK_PKRU))
		return rdpkru() == expected ? CHILD_OK : CHILD_WRONG_PKRU;

	if (strcmp(argv[2], EXEC_CHECK_KEYS))
		return CHILD_BAD_ARGUMENTS;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	if (!area)
		return CHILD_SETUP_FAILED;
	errno = 0;
	if (sys_pkey_mprotect(area, page, PROT_READ, key) != -1 ||
	    errno != EINVAL)
		return CHILD_KEY_STILL_USABLE;
	errno = 0;
	if (sys_pkey_free(key) != -1 || errno != EINVAL)
		return CHILD_KEY_STILL_ALLOCATED;
	return CHILD_OK;
}

TEST(exec_resets_pkru_to_default)
{
	struct exec_request req = {
		.what = EXEC_CHECK_PKRU,
		.pkru = startup_pkru,
	};
	int ret;

	if (!require_pku(_metadata))
		return;
	req.key = alloc_key(PKEY_ALLOW_ALL);
	ASSERT_GT(req.key, DEFAULT_PKEY);
	ret = run_in_child(child_exec_self, &req);
	EXPECT_EQ(CHILD_OK, ret) TH_LOG("exec'd image: %s", child_result_name(ret));
}

TEST(exec_frees_allocated_keys)
{
	struct exec_request req = { .what = EXEC_CHECK_KEYS };
	int ret;

	if (!require_pku(_metadata))
		return;
	req.key = alloc_key(PKEY_ALLOW_ALL);
	ASSERT_GT(req.key, DEFAULT_PKEY);
	ret = run_in_child(child_exec_self, &req);
	EXPECT_EQ(CHILD_OK, ret) TH_LOG("exec'd image: %s", child_result_name(ret));
}

/* ==================================================================== */
/* Access checks on tagged memory                                       */
/* ==================================================================== */

/*
 * Two pages tagged with a freshly allocated key (rights: allow all).
 * The first was written before tagging, so its PTE is present; the
 * second was never touched, so the first access to it goes through
 * the kernel's page-fault path.
 */
FIXTURE(keyed_page) {
	size_t page;
	int key;
	char *area;
	uint32_t *touched;
	uint32_t *fresh;
};

FIXTURE_SETUP(keyed_page)
{
	if (!require_pku(_metadata))
		return;
	self->page = page_size();
	self->area = map_anon(2 * self->page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!self->area);
	self->touched = probe_word(self->area);
	self->fresh = probe_word(self->area + self->page);
	fill_pattern(self->area, self->page, PATTERN_SEED);
	WRITE_ONCE(*self->touched, MARKER);
	self->key = tag_with_new_key(_metadata, self->area, 2 * self->page);
}

FIXTURE_TEARDOWN(keyed_page)
{
}

TEST_F(keyed_page, access_disable_blocks_read_of_touched_page)
{
	uint32_t value;

	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	ASSERT_FALSE(probe_read(self->touched, &value));
	expect_fault(_metadata, SEGV_PKUERR, self->touched, self->key);
}

TEST_F(keyed_page, access_disable_blocks_write_of_touched_page)
{
	uint32_t value;

	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	ASSERT_FALSE(probe_write(self->touched, ~MARKER));
	expect_fault(_metadata, SEGV_PKUERR, self->touched, self->key);
	set_key_rights(self->key, PKEY_ALLOW_ALL);
	ASSERT_TRUE(probe_read(self->touched, &value));
	EXPECT_EQ(MARKER, value);
}

TEST_F(keyed_page, access_disable_blocks_read_of_fresh_page)
{
	uint32_t value;

	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	ASSERT_FALSE(probe_read(self->fresh, &value));
	expect_fault(_metadata, SEGV_PKUERR, self->fresh, self->key);
}

TEST_F(keyed_page, access_disable_blocks_write_of_fresh_page)
{
	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	ASSERT_FALSE(probe_write(self->fresh, MARKER));
	expect_fault(_metadata, SEGV_PKUERR, self->fresh, self->key);
}

TEST_F(keyed_page, write_disable_blocks_write_of_touched_page)
{
	uint32_t value;

	set_key_rights(self->key, PKEY_DISABLE_WRITE);
	ASSERT_FALSE(probe_write(self->touched, ~MARKER));
	expect_fault(_metadata, SEGV_PKUERR, self->touched, self->key);
	ASSERT_TRUE(probe_read(self->touched, &value));
	EXPECT_EQ(MARKER, value);
}

TEST_F(keyed_page, write_disable_blocks_write_of_fresh_page)
{
	set_key_rights(self->key, PKEY_DISABLE_WRITE);
	ASSERT_FALSE(probe_write(self->fresh, MARKER));
	expect_fault(_metadata, SEGV_PKUERR, self->fresh, self->key);
}

TEST_F(keyed_page, write_disable_allows_reads)
{
	uint32_t value;

	set_key_rights(self->key, PKEY_DISABLE_WRITE);
	ASSERT_TRUE(probe_read(self->touched, &value));
	EXPECT_EQ(MARKER, value);
	/* A never-touched anonymous page reads as zeroes. */
	ASSERT_TRUE(probe_read(self->fresh, &value));
	EXPECT_EQ(0u, value);
}

/* Rights change with WRPKRU alone, without any system call. */
TEST_F(keyed_page, cleared_rights_allow_read_and_write)
{
	uint32_t value;

	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	ASSERT_FALSE(probe_read(self->touched, &value));
	set_key_rights(self->key, PKEY_ALLOW_ALL);
	ASSERT_TRUE(probe_read(self->touched, &value));
	EXPECT_EQ(MARKER, value);
	ASSERT_TRUE(probe_write(self->touched, ~MARKER));
	EXPECT_EQ(~MARKER, READ_ONCE(*self->touched));
}

/*
 * Retagging a page that is mapped, and so may be cached in the TLB, takes
 * effect at once, both ways.  The rights are set before the retagging, so
 * no WRPKRU comes after it to flush the TLB by accident.
 */
TEST(retagged_mapped_page_obeys_new_key)
{
	size_t page = page_size();
	uint32_t *word, value;
	void *area;
	int key;

	if (!require_pku(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	word = probe_word(area);
	WRITE_ONCE(*word, MARKER);
	key = alloc_key(PKEY_DISABLE_ACCESS);
	ASSERT_GT(key, DEFAULT_PKEY);

	ASSERT_EQ(0, sys_pkey_mprotect(area, page, PROT_READ | PROT_WRITE, key));
	EXPECT_FALSE(probe_read(word, &value));
	expect_fault(_metadata, SEGV_PKUERR, word, key);

	ASSERT_EQ(0, sys_pkey_mprotect(area, page, PROT_READ | PROT_WRITE,
				       DEFAULT_PKEY));
	EXPECT_TRUE(probe_read(word, &value));
	EXPECT_EQ(MARKER, value);
	munmap(area, page);
}

/* Denying every other key leaves default-key (key 0) memory alone. */
TEST(default_key_unaffected_by_other_keys)
{
	uint32_t *word;
	bool read_ok, write_ok;
	uint32_t value = 0, saved;
	void *area;

	if (!require_pku(_metadata))
		return;
	area = map_anon(page_size(), PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	word = probe_word(area);
	WRITE_ONCE(*word, MARKER);
	saved = rdpkru();
	wrpkru(PKRU_DENY_ALL_BUT_KEY0);
	read_ok = probe_read(word, &value);
	write_ok = probe_write(word, ~MARKER);
	wrpkru(saved);
	EXPECT_TRUE(read_ok);
	EXPECT_EQ(MARKER, value);
	EXPECT_TRUE(write_ok);
	EXPECT_EQ(0, smaps_pkey_at(area));
}

struct per_thread_probe {
	struct spin_barrier *step;
	uint32_t *word;
	int key;
	bool read_ok_with_rights;
	uint32_t value;
	uint32_t rights_seen;
	bool read_ok_after_deny;
	struct fault_info fault;
};

/*
 * Second thread of pkru_is_per_thread: reads while the main thread is
 * denied, then denies itself while the main thread regains access.
 */
static void *per_thread_prober(void *arg)
{
	struct per_thread_probe *p = arg;
	uint32_t value;

	spin_barrier_wait(p->step);		/* main denied itself */
	p->rights_seen = pkru_key_rights(rdpkru(), p->key);
	p->read_ok_with_rights = probe_read(p->word, &p->value);
	spin_barrier_wait(p->step);		/* main probed */
	set_key_rights(p->key, PKEY_DISABLE_ACCESS);
	p->read_ok_after_deny = probe_read(p->word, &value);
	p->fault = last_fault;
	spin_barrier_wait(p->step);		/* main may read again */
	return NULL;
}

TEST_F(keyed_page, pkru_is_per_thread)
{
	struct per_thread_probe p = {
		.word = self->touched,
		.key = self->key,
	};
	struct spin_barrier step;
	struct test_thread thread;
	bool main_read_ok;
	uint32_t value;

	spin_barrier_init(&step, 2);
	p.step = &step;
	/* The thread starts with the main thread's PKRU: key open. */
	ASSERT_EQ(0, start_thread(&thread, per_thread_prober, &p));

	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	spin_barrier_wait(&step);
	spin_barrier_wait(&step);
	main_read_ok = probe_read(self->touched, &value);
	EXPECT_FALSE(main_read_ok);
	expect_fault(_metadata, SEGV_PKUERR, self->touched, self->key);

	set_key_rights(self->key, PKEY_ALLOW_ALL);
	spin_barrier_wait(&step);
	main_read_ok = probe_read(self->touched, &value);
	wait_thread(&thread);

	EXPECT_EQ((uint32_t)PKEY_ALLOW_ALL, p.rights_seen);
	EXPECT_TRUE(p.read_ok_with_rights);
	EXPECT_EQ(MARKER, p.value);
	EXPECT_FALSE(p.read_ok_after_deny);
	EXPECT_EQ(SEGV_PKUERR, p.fault.code);
	EXPECT_EQ(self->key, p.fault.pkey);
	EXPECT_TRUE(main_read_ok);
	EXPECT_EQ(MARKER, value);
}

/* ==================================================================== */
/* Fault reporting                                                      */
/* ==================================================================== */

/* Every denied key reports itself in si_pkey, at the exact address. */
TEST(fault_reports_key_of_each_page)
{
	enum { NR_TAGGED = 3 };
	int keys[NR_TAGGED], i;
	size_t page = page_size();
	uint32_t *word;
	uint32_t value;
	char *area;

	if (!require_pku(_metadata))
		return;
	area = map_anon(NR_TAGGED * page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	for (i = 0; i < NR_TAGGED; i++) {
		keys[i] = alloc_key(PKEY_DISABLE_ACCESS);
		ASSERT_GT(keys[i], DEFAULT_PKEY);
		ASSERT_EQ(0, sys_pkey_mprotect(area + i * page, page,
					       PROT_READ | PROT_WRITE, keys[i]));
	}
	for (i = 0; i < NR_TAGGED; i++) {
		/* An odd offset: si_addr is the byte address accessed. */
		word = (uint32_t *)(area + i * page + PROBE_OFFSET + 4 * i);
		ASSERT_FALSE(probe_read(word, &value));
		expect_fault(_metadata, SEGV_PKUERR, word, keys[i]);
	}
}

/* Plain page protections still report SEGV_ACCERR. */
TEST(prot_none_fault_is_accerr)
{
	uint32_t *word;
	uint32_t value;
	void *area;

	area = map_anon(page_size(), PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	word = probe_word(area);
	WRITE_ONCE(*word, MARKER);
	ASSERT_EQ(0, mprotect(area, page_size(), PROT_NONE));
	ASSERT_FALSE(probe_read(word, &value));
	expect_fault(_metadata, SEGV_ACCERR, word, 0);
}

/* A key that allows everything does not turn a PROT_READ fault into PKUERR. */
TEST_F(keyed_page, read_only_page_write_is_accerr)
{
	uint32_t value;

	ASSERT_EQ(0, sys_pkey_mprotect(self->area, self->page, PROT_READ,
				       self->key));
	ASSERT_FALSE(probe_write(self->touched, ~MARKER));
	expect_fault(_metadata, SEGV_ACCERR, self->touched, 0);
	ASSERT_TRUE(probe_read(self->touched, &value));
	EXPECT_EQ(MARKER, value);
}

/* ==================================================================== */
/* Kernel accesses on the process's behalf                              */
/* ==================================================================== */

static int make_filled_pipe(int fds[2], const void *data, size_t len)
{
	if (pipe(fds))
		return -1;
	if (write(fds[1], data, len) != (ssize_t)len)
		return -1;
	return 0;
}

TEST_F(keyed_page, read_into_access_disabled_buffer_efault)
{
	char data[IO_LEN], back[IO_LEN];
	int fds[2];

	fill_pattern(data, IO_LEN, ~PATTERN_SEED);
	ASSERT_EQ(0, make_filled_pipe(fds, data, IO_LEN));
	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	EXPECT_SYSCALL_ERRNO(EFAULT, read(fds[0], self->area, IO_LEN));
	set_key_rights(self->key, PKEY_ALLOW_ALL);
	/* Nothing was consumed by the failed read. */
	ASSERT_EQ(IO_LEN, read(fds[0], back, IO_LEN));
	EXPECT_EQ(0, memcmp(data, back, IO_LEN));
}

TEST_F(keyed_page, read_into_write_disabled_buffer_efault)
{
	char data[IO_LEN];
	int fds[2];

	fill_pattern(data, IO_LEN, ~PATTERN_SEED);
	ASSERT_EQ(0, make_filled_pipe(fds, data, IO_LEN));
	set_key_rights(self->key, PKEY_DISABLE_WRITE);
	EXPECT_SYSCALL_ERRNO(EFAULT, read(fds[0], self->area, IO_LEN));
}

TEST_F(keyed_page, write_from_access_disabled_buffer_efault)
{
	int fds[2], queued = -1;

	ASSERT_EQ(0, pipe(fds));
	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	EXPECT_SYSCALL_ERRNO(EFAULT, write(fds[1], self->area, IO_LEN));
	set_key_rights(self->key, PKEY_ALLOW_ALL);
	ASSERT_EQ(0, ioctl(fds[0], FIONREAD, &queued));
	EXPECT_EQ(0, queued);
}

/* The kernel only reads the buffer, which write-disable permits. */
TEST_F(keyed_page, write_from_write_disabled_buffer_succeeds)
{
	char back[IO_LEN];
	int fds[2];

	ASSERT_EQ(0, pipe(fds));
	set_key_rights(self->key, PKEY_DISABLE_WRITE);
	EXPECT_EQ(IO_LEN, write(fds[1], self->area, IO_LEN));
	ASSERT_EQ(IO_LEN, read(fds[0], back, IO_LEN));
	EXPECT_EQ(0, memcmp(self->area, back, IO_LEN));
}

TEST_F(keyed_page, pread_into_access_disabled_buffer_efault)
{
	char data[IO_LEN];
	int fd;

	fd = memfd_create("pkeys", 0);
	if (fd < 0)
		SKIP(return, "memfd_create: %s", strerror(errno));
	fill_pattern(data, IO_LEN, ~PATTERN_SEED);
	ASSERT_EQ(IO_LEN, pwrite(fd, data, IO_LEN, 0));
	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	EXPECT_SYSCALL_ERRNO(EFAULT, pread(fd, self->area, IO_LEN, 0));
	close(fd);
}

TEST_F(keyed_page, readv_into_access_disabled_buffer_efault)
{
	struct iovec iov = { .iov_base = self->area, .iov_len = IO_LEN };
	char data[IO_LEN];
	int fds[2];

	fill_pattern(data, IO_LEN, ~PATTERN_SEED);
	ASSERT_EQ(0, make_filled_pipe(fds, data, IO_LEN));
	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	EXPECT_SYSCALL_ERRNO(EFAULT, readv(fds[0], &iov, 1));
}

/*
 * No timeout is passed, so the i386 time64 variant is equivalent; it
 * also exists on kernels without CONFIG_COMPAT_32BIT_TIME.
 */
static long sys_futex(uint32_t *uaddr, int op, uint32_t val)
{
#if !defined(__x86_64__) && defined(SYS_futex_time64)
	long ret = syscall(SYS_futex_time64, uaddr, op, val, NULL, NULL, 0);

	if (ret != -1 || errno != ERRNO_NO_SYSCALL)
		return ret;
#endif
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

/* FUTEX_WAIT must read the word: EAGAIN when readable, EFAULT when denied. */
TEST_F(keyed_page, futex_wait_on_access_disabled_word_efault)
{
	const int op = FUTEX_WAIT | FUTEX_PRIVATE_FLAG;
	/* Never the stored value, so the call cannot block. */
	const uint32_t other = ~MARKER;

	EXPECT_SYSCALL_ERRNO(EAGAIN, sys_futex(self->touched, op, other));
	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	EXPECT_SYSCALL_ERRNO(EFAULT, sys_futex(self->touched, op, other));
}

/* A shared-futex wake looks the page up, which the key forbids. */
TEST_F(keyed_page, futex_wake_on_access_disabled_word_efault)
{
	EXPECT_EQ(0, sys_futex(self->touched, FUTEX_WAKE, 1));
	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	EXPECT_SYSCALL_ERRNO(EFAULT, sys_futex(self->touched, FUTEX_WAKE, 1));
}

/* FUTEX_WAIT only reads the word, which write-disable permits. */
TEST_F(keyed_page, futex_wait_on_write_disabled_word_reads_it)
{
	set_key_rights(self->key, PKEY_DISABLE_WRITE);
	EXPECT_SYSCALL_ERRNO(EAGAIN, sys_futex(self->touched,
					       FUTEX_WAIT | FUTEX_PRIVATE_FLAG,
					       ~MARKER));
}

/* The local side of process_vm_readv() is written like any user buffer. */
TEST_F(keyed_page, process_vm_readv_into_access_disabled_buffer_efault)
{
	char src[IO_LEN];
	struct iovec local = { .iov_base = self->area, .iov_len = IO_LEN };
	struct iovec remote = { .iov_base = src, .iov_len = IO_LEN };
	ssize_t ret;

	fill_pattern(src, IO_LEN, ~PATTERN_SEED);
	errno = 0;
	ret = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (ret < 0 && errno == ERRNO_NO_SYSCALL)
		SKIP(return, "no process_vm_readv (CONFIG_CROSS_MEMORY_ATTACH)");
	ASSERT_EQ(IO_LEN, ret);
	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	EXPECT_SYSCALL_ERRNO(EFAULT, process_vm_readv(getpid(), &local, 1,
						      &remote, 1, 0));
}

/*
 * The remote side is accessed like another process's memory, even when
 * the "remote" process is the caller: the caller's PKRU does not apply.
 */
TEST_F(keyed_page, process_vm_readv_from_access_disabled_range_succeeds)
{
	char expected[IO_LEN], dst[IO_LEN];
	struct iovec local = { .iov_base = dst, .iov_len = IO_LEN };
	struct iovec remote = { .iov_base = self->area, .iov_len = IO_LEN };
	ssize_t ret;

	memcpy(expected, self->area, IO_LEN);
	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	errno = 0;
	ret = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);
	if (ret < 0 && errno == ERRNO_NO_SYSCALL)
		SKIP(return, "no process_vm_readv (CONFIG_CROSS_MEMORY_ATTACH)");
	EXPECT_EQ(IO_LEN, ret);
	EXPECT_EQ(0, memcmp(expected, dst, IO_LEN));
}

TEST_F(keyed_page, vmsplice_from_access_disabled_buffer_efault)
{
	struct iovec iov = { .iov_base = self->area, .iov_len = IO_LEN };
	int fds[2];

	ASSERT_EQ(0, pipe(fds));
	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	EXPECT_SYSCALL_ERRNO(EFAULT, vmsplice(fds[1], &iov, 1, 0));
}

/* Splicing user pages into a pipe only reads them. */
TEST_F(keyed_page, vmsplice_from_write_disabled_buffer_succeeds)
{
	struct iovec iov = { .iov_base = self->area, .iov_len = IO_LEN };
	char back[IO_LEN];
	int fds[2];

	ASSERT_EQ(0, pipe(fds));
	set_key_rights(self->key, PKEY_DISABLE_WRITE);
	EXPECT_EQ(IO_LEN, vmsplice(fds[1], &iov, 1, 0));
	ASSERT_EQ(IO_LEN, read(fds[0], back, IO_LEN));
	EXPECT_EQ(0, memcmp(self->area, back, IO_LEN));
}

/* Direct I/O pins the user pages (GUP), which must honour the key too. */
TEST_F(keyed_page, o_direct_read_into_access_disabled_buffer_efault)
{
	char path[] = "pkeys_o_direct_XXXXXX";
	struct stat st;
	int fd;

	if (stat(".", &st) || major(st.st_dev) == 0)
		SKIP(return,
		     "no block-device backed filesystem in the working directory for O_DIRECT");
	fd = mkstemp(path);
	if (fd < 0)
		SKIP(return, "cannot create a file in the working directory: %s",
		     strerror(errno));
	unlink(path);
	ASSERT_EQ((ssize_t)self->page, pwrite(fd, self->area, self->page, 0));
	ASSERT_EQ(0, fsync(fd));
	if (fcntl(fd, F_SETFL, O_DIRECT)) {
		close(fd);
		SKIP(return, "filesystem refuses O_DIRECT: %s", strerror(errno));
	}
	set_key_rights(self->key, PKEY_DISABLE_ACCESS);
	EXPECT_SYSCALL_ERRNO(EFAULT, pread(fd, self->area, self->page, 0));
	close(fd);
}

/*
 * A page tagged with a key that this thread allows everything but the
 * default PKRU access-disables, and a pipe holding data for it.  The
 * key is set up before the ring, whose SQPOLL thread takes the PKRU
 * of the task that creates the ring.
 */
FIXTURE(uring_keyed_buffer) {
	struct uring ring;
	char data[IO_LEN];
	char *buf;
	int fds[2];
};

FIXTURE_VARIANT(uring_keyed_buffer) {
	unsigned int setup_flags;
	uint8_t sqe_flags;
};

/* The submitting thread itself does the read: the baseline. */
FIXTURE_VARIANT_ADD(uring_keyed_buffer, submitter) {
	.setup_flags = 0,
	.sqe_flags = 0,
};

FIXTURE_VARIANT_ADD(uring_keyed_buffer, io_wq_worker) {
	.setup_flags = 0,
	.sqe_flags = IOSQE_ASYNC,
};

FIXTURE_VARIANT_ADD(uring_keyed_buffer, sqpoll_thread) {
	.setup_flags = IORING_SETUP_SQPOLL,
	.sqe_flags = 0,
};

FIXTURE_SETUP(uring_keyed_buffer)
{
	size_t page = page_size();
	int key, err;

	if (!require_pku(_metadata))
		return;
	self->buf = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!self->buf);
	key = tag_with_new_key(_metadata, self->buf, page);
	ASSERT_EQ((uint32_t)PKEY_DISABLE_ACCESS,
		  pkru_key_rights(startup_pkru, key));
	fill_pattern(self->data, IO_LEN, ~PATTERN_SEED);
	ASSERT_EQ(0, make_filled_pipe(self->fds, self->data, IO_LEN));

	err = uring_setup(&self->ring, variant->setup_flags);
	if (err == -ERRNO_NO_SYSCALL)
		SKIP(return, "kernel has no io_uring");
	if (err == -EPERM)
		SKIP(return, "io_uring not permitted (kernel.io_uring_disabled, or SQPOLL)");
	ASSERT_EQ(0, err) TH_LOG("io_uring_setup: %s", strerror(-err));
}

FIXTURE_TEARDOWN(uring_keyed_buffer)
{
}

TEST_F(uring_keyed_buffer, read_into_buffer_the_submitter_may_write)
{
	int res = uring_read(&self->ring, self->fds[0], self->buf, IO_LEN,
			     variant->sqe_flags);

	EXPECT_EQ(IO_LEN, res) TH_LOG("read: %s", strerror(res < 0 ? -res : 0));
	EXPECT_EQ(0, memcmp(self->data, self->buf, IO_LEN));
}

/* The child tags its copy of the word, stores CHILD_MARKER and denies access. */
static int child_deny_own_word(uint32_t *word, int key)
{
	uint32_t value;

	WRITE_ONCE(*word, CHILD_MARKER);
	set_key_rights(key, PKEY_DISABLE_ACCESS);
	if (probe_read(word, &value))
		return CHILD_ACCESS_NOT_DENIED;
	return CHILD_OK;
}

/* A tracer reads memory the tracee itself cannot read. */
TEST_F(keyed_page, ptrace_peekdata_ignores_tracee_pkru)
{
	int status, ret;
	long data;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		ret = child_deny_own_word(self->touched, self->key);
		if (ret)
			_exit(ret);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
			_exit(CHILD_SETUP_FAILED);
		raise(SIGSTOP);
		_exit(CHILD_OK);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (!WIFSTOPPED(status)) {
		TH_LOG("child: %s", child_result_name(WEXITSTATUS(status)));
		ASSERT_TRUE(WIFSTOPPED(status));
	}
	errno = 0;
	data = ptrace(PTRACE_PEEKDATA, pid, (void *)self->touched, NULL);
	EXPECT_EQ(0, errno);
	EXPECT_EQ(CHILD_MARKER, (uint32_t)data);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* Reading /proc/PID/mem is a foreign access too. */
TEST_F(keyed_page, proc_pid_mem_read_ignores_target_pkru)
{
	int ready[2], release[2], fd, status;
	char path[64], result = CHILD_SETUP_FAILED;
	uint32_t value = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(release));
	fflush(NULL);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(release[1]);
		result = (char)child_deny_own_word(self->touched, self->key);
		if (write(ready[1], &result, 1) != 1)
			_exit(CHILD_SETUP_FAILED);
		/* Stay alive until the parent has read our memory. */
		if (read(release[0], &result, 1) < 0)
			_exit(CHILD_SETUP_FAILED);
		_exit(CHILD_OK);
	}
	close(release[0]);
	ASSERT_EQ(1, read(ready[0], &result, 1));
	EXPECT_EQ(CHILD_OK, result) TH_LOG("child: %s", child_result_name(result));

	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = open(path, O_RDONLY);
	EXPECT_GE(fd, 0) TH_LOG("open %s: %s", path, strerror(errno));
	if (fd >= 0) {
		EXPECT_EQ((ssize_t)sizeof(value),
			  pread(fd, &value, sizeof(value),
				(off_t)(uintptr_t)self->touched));
		EXPECT_EQ(CHILD_MARKER, value);
		close(fd);
	}
	close(release[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
}

/* ==================================================================== */
/* mprotect(), pkey_mprotect(), mremap() and huge pages                 */
/* ==================================================================== */

TEST(pkey_mprotect_tags_vma)
{
	size_t page = page_size();
	void *area;
	int key;

	if (!require_pku(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	ASSERT_EQ(DEFAULT_PKEY, smaps_pkey_at(area));
	key = tag_with_new_key(_metadata, area, page);
	EXPECT_EQ(key, smaps_pkey_at(area));
}

/* Tag a page, then make it read-only with mprotect() or pkey_mprotect(-1). */
static void check_reprotect_keeps_key(struct __test_metadata *_metadata,
				      bool use_pkey_mprotect)
{
	size_t page = page_size();
	struct vma_info vma;
	uint32_t value;
	char *area;
	long ret;
	int key;

	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	WRITE_ONCE(*probe_word(area), MARKER);
	key = tag_with_new_key(_metadata, area, page);

	if (use_pkey_mprotect)
		ret = sys_pkey_mprotect(area, page, PROT_READ, NO_PKEY);
	else
		ret = mprotect(area, page, PROT_READ);
	ASSERT_EQ(0, ret);

	ASSERT_TRUE(smaps_vma_at(area, &vma));
	EXPECT_EQ(key, vma.pkey);
	EXPECT_EQ(0, strncmp(vma.perms, "r--", 3)) TH_LOG("perms %s", vma.perms);
	/* The key still governs the page. */
	set_key_rights(key, PKEY_DISABLE_ACCESS);
	ASSERT_FALSE(probe_read(probe_word(area), &value));
	expect_fault(_metadata, SEGV_PKUERR, probe_word(area), key);
}

TEST(mprotect_keeps_key)
{
	if (!require_pku(_metadata))
		return;
	check_reprotect_keeps_key(_metadata, false);
}

TEST(pkey_mprotect_without_key_keeps_key)
{
	if (!require_pku(_metadata))
		return;
	check_reprotect_keeps_key(_metadata, true);
}

/* Tagging the middle page of three splits the mapping in three. */
TEST(pkey_mprotect_splits_vma)
{
	size_t page = page_size();
	struct vma_info vma;
	char *area;
	int key;

	if (!require_pku(_metadata))
		return;
	area = map_anon(3 * page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	ASSERT_EQ(1, smaps_count_vmas(area, 3 * page));
	key = tag_with_new_key(_metadata, area + page, page);

	EXPECT_EQ(3, smaps_count_vmas(area, 3 * page));
	ASSERT_TRUE(smaps_vma_at(area + page, &vma));
	EXPECT_EQ((unsigned long)(area + page), vma.start);
	EXPECT_EQ((unsigned long)(area + 2 * page), vma.end);
	EXPECT_EQ(key, vma.pkey);
	ASSERT_TRUE(smaps_vma_at(area, &vma));
	EXPECT_EQ((unsigned long)(area + page), vma.end);
	EXPECT_EQ(DEFAULT_PKEY, vma.pkey);
	ASSERT_TRUE(smaps_vma_at(area + 2 * page, &vma));
	EXPECT_EQ((unsigned long)(area + 2 * page), vma.start);
	EXPECT_EQ(DEFAULT_PKEY, vma.pkey);
}

/* Giving all three pages the same key merges them into one mapping. */
TEST(pkey_mprotect_merges_vma)
{
	size_t page = page_size();
	struct vma_info vma;
	char *area;
	int key;

	if (!require_pku(_metadata))
		return;
	area = map_anon(3 * page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	key = tag_with_new_key(_metadata, area + page, page);
	ASSERT_EQ(3, smaps_count_vmas(area, 3 * page));

	ASSERT_EQ(0, sys_pkey_mprotect(area, 3 * page,
				       PROT_READ | PROT_WRITE, key));
	EXPECT_EQ(1, smaps_count_vmas(area, 3 * page));
	ASSERT_TRUE(smaps_vma_at(area, &vma));
	/* No neighbour carries this key, so the mapping is exactly ours. */
	EXPECT_EQ((unsigned long)area, vma.start);
	EXPECT_EQ((unsigned long)(area + 3 * page), vma.end);
	EXPECT_EQ(key, vma.pkey);
}

/* Re-tagging with key 0 undoes a split. */
TEST(pkey_mprotect_default_key_merges_back)
{
	size_t page = page_size();
	struct vma_info vma;
	char *area;

	if (!require_pku(_metadata))
		return;
	area = map_anon(3 * page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	tag_with_new_key(_metadata, area + page, page);
	ASSERT_EQ(0, sys_pkey_mprotect(area + page, page,
				       PROT_READ | PROT_WRITE, DEFAULT_PKEY));
	EXPECT_EQ(1, smaps_count_vmas(area, 3 * page));
	ASSERT_TRUE(smaps_vma_at(area + page, &vma));
	EXPECT_LE(vma.start, (unsigned long)area);
	EXPECT_GE(vma.end, (unsigned long)(area + 3 * page));
	EXPECT_EQ(DEFAULT_PKEY, vma.pkey);
}

/* An explicit key wins over the execute-only key for PROT_EXEC. */
TEST(pkey_mprotect_exec_uses_given_key)
{
	size_t page = page_size();
	void *area;
	int key;

	if (!require_pku(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	key = alloc_key(PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	ASSERT_EQ(0, sys_pkey_mprotect(area, page, PROT_EXEC, key));
	EXPECT_EQ(key, smaps_pkey_at(area));
}

TEST(mremap_moves_key_with_pages)
{
	size_t page = page_size();
	char *src, *dst, *moved;
	uint32_t value;
	int key;

	if (!require_pku(_metadata))
		return;
	src = map_anon(2 * page, PROT_READ | PROT_WRITE);
	dst = map_anon(2 * page, PROT_NONE);
	ASSERT_TRUE(src && dst);
	WRITE_ONCE(*probe_word(src + page), MARKER);
	key = tag_with_new_key(_metadata, src, 2 * page);

	moved = mremap(src, 2 * page, 2 * page, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ((uintptr_t)dst, (uintptr_t)moved);
	EXPECT_EQ(key, smaps_pkey_at(dst));
	EXPECT_EQ(key, smaps_pkey_at(dst + page));
	EXPECT_EQ(-1, smaps_pkey_at(src));

	set_key_rights(key, PKEY_DISABLE_ACCESS);
	ASSERT_FALSE(probe_read(probe_word(dst + page), &value));
	expect_fault(_metadata, SEGV_PKUERR, probe_word(dst + page), key);
	set_key_rights(key, PKEY_ALLOW_ALL);
	ASSERT_TRUE(probe_read(probe_word(dst + page), &value));
	EXPECT_EQ(MARKER, value);
}

static size_t thp_size(void)
{
	unsigned long size = 0;
	FILE *f;

	f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r");
	if (f) {
		if (fscanf(f, "%lu", &size) != 1)
			size = 0;
		fclose(f);
	}
	return size ? size : DEFAULT_THP_SIZE;
}

static bool thp_disabled(void)
{
	char mode[128] = "";
	FILE *f;

	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (!f)
		return true;
	if (!fgets(mode, sizeof(mode), f))
		mode[0] = '\0';
	fclose(f);
	return strstr(mode, "[never]");
}

/* A transparent huge page is tagged as a whole and faults with its key. */
TEST(thp_carries_key)
{
	size_t huge = thp_size();
	uint32_t *word;
	struct vma_info vma;
	char *raw, *aligned;
	uint32_t value;
	int key;

	if (!require_pku(_metadata))
		return;
	if (thp_disabled())
		SKIP(return, "transparent hugepages unavailable or set to never");
	raw = map_anon(2 * huge, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!raw);
	aligned = (char *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
	if (madvise(aligned, huge, MADV_HUGEPAGE))
		SKIP(return, "MADV_HUGEPAGE: %s", strerror(errno));
	memset(aligned, 1, huge);
	if (!smaps_vma_at(aligned, &vma) ||
	    vma.anon_huge_kb < (long)(huge / KB))
		SKIP(return, "the kernel did not back the range with a huge page");

	key = tag_with_new_key(_metadata, aligned, huge);
	ASSERT_TRUE(smaps_vma_at(aligned, &vma));
	EXPECT_EQ(key, vma.pkey);
	/* Tagging the whole huge page does not split it. */
	EXPECT_GE(vma.anon_huge_kb, (long)(huge / KB));

	word = probe_word(aligned + huge / 2);
	set_key_rights(key, PKEY_DISABLE_ACCESS);
	ASSERT_FALSE(probe_read(word, &value));
	expect_fault(_metadata, SEGV_PKUERR, word, key);
	set_key_rights(key, PKEY_DISABLE_WRITE);
	ASSERT_FALSE(probe_write(word, MARKER));
	expect_fault(_metadata, SEGV_PKUERR, word, key);
	ASSERT_TRUE(probe_read(word, &value));
	EXPECT_EQ(0x01010101u, value);
}

static size_t default_hugetlb_size(void)
{
	unsigned long kb = 0;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0)
		if (sscanf(line, "Hugepagesize: %lu kB", &kb) == 1)
			break;
	free(line);
	fclose(f);
	return kb * KB;
}

#define NR_HUGEPAGES_PATH "/proc/sys/vm/nr_hugepages"

static long read_nr_hugepages(void)
{
	long nr = -1;
	FILE *f = fopen(NR_HUGEPAGES_PATH, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &nr) != 1)
		nr = -1;
	fclose(f);
	return nr;
}

static bool write_nr_hugepages(long nr)
{
	FILE *f = fopen(NR_HUGEPAGES_PATH, "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%ld\n", nr) > 0;
	return fclose(f) == 0 && ok;
}

/* One hugetlb page; the pool is grown by one page (and shrunk back) if empty. */
FIXTURE(hugetlb) {
	size_t size;
	char *map;
	long saved_nr;
	bool grew_pool;
};

static char *map_hugetlb(size_t size)
{
	void *map = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	return map == MAP_FAILED ? NULL : map;
}

FIXTURE_SETUP(hugetlb)
{
	if (!require_pku(_metadata))
		return;
	self->size = default_hugetlb_size();
	if (!self->size)
		SKIP(return, "no hugetlb support (no Hugepagesize in /proc/meminfo)");
	self->map = map_hugetlb(self->size);
	if (!self->map) {
		self->saved_nr = read_nr_hugepages();
		if (self->saved_nr >= 0 && write_nr_hugepages(self->saved_nr + 1)) {
			self->grew_pool = true;
			self->map = map_hugetlb(self->size);
		}
	}
	if (!self->map) {
		if (self->grew_pool)
			write_nr_hugepages(self->saved_nr);
		SKIP(return, "no free hugetlb page and the pool could not be grown");
	}
}

FIXTURE_TEARDOWN(hugetlb)
{
	if (self->map)
		munmap(self->map, self->size);
	if (self->grew_pool)
		write_nr_hugepages(self->saved_nr);
}

TEST_F(hugetlb, page_carries_key)
{
	uint32_t *word = probe_word(self->map + self->size / 2);
	uint32_t value;
	int key;

	WRITE_ONCE(*word, MARKER);
	key = tag_with_new_key(_metadata, self->map, self->size);
	EXPECT_EQ(key, smaps_pkey_at(self->map));

	set_key_rights(key, PKEY_DISABLE_ACCESS);
	ASSERT_FALSE(probe_read(word, &value));
	expect_fault(_metadata, SEGV_PKUERR, word, key);
	set_key_rights(key, PKEY_DISABLE_WRITE);
	ASSERT_FALSE(probe_write(word, ~MARKER));
	expect_fault(_metadata, SEGV_PKUERR, word, key);
	ASSERT_TRUE(probe_read(word, &value));
	EXPECT_EQ(MARKER, value);
}

/*
 * mseal(2): a sealed private anonymous mapping that the caller cannot
 * write may not be discarded either, and "cannot write" includes a
 * key that the calling thread's PKRU write-disables (or
 * access-disables).  madvise(MADV_DONTNEED) then fails with EPERM and
 * the data stays.
 */
FIXTURE(sealed_keyed_page) {
	size_t page;
	char *area;
	int key;
};

FIXTURE_VARIANT(sealed_keyed_page) {
	unsigned long rights;
};

FIXTURE_VARIANT_ADD(sealed_keyed_page, write_disabled) {
	.rights = PKEY_DISABLE_WRITE,
};

FIXTURE_VARIANT_ADD(sealed_keyed_page, access_disabled) {
	.rights = PKEY_DISABLE_ACCESS,
};

FIXTURE_SETUP(sealed_keyed_page)
{
	long ret;

	if (!require_pku(_metadata))
		return;
	self->page = page_size();
	self->area = map_anon(self->page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!self->area);
	fill_pattern(self->area, self->page, PATTERN_SEED);
	self->key = tag_with_new_key(_metadata, self->area, self->page);
	errno = 0;
	ret = syscall(SYS_mseal, (long)self->area, (long)self->page, 0L);
	if (ret && errno == ERRNO_NO_SYSCALL)
		SKIP(return, "kernel has no mseal()");
	ASSERT_EQ(0, ret) TH_LOG("mseal: %s", strerror(errno));
}

FIXTURE_TEARDOWN(sealed_keyed_page)
{
}

TEST_F(sealed_keyed_page, madvise_dontneed_eperm_keeps_data)
{
	char expected[IO_LEN];

	set_key_rights(self->key, variant->rights);
	EXPECT_SYSCALL_ERRNO(EPERM, madvise(self->area, self->page,
					    MADV_DONTNEED));
	set_key_rights(self->key, PKEY_ALLOW_ALL);
	fill_pattern(expected, IO_LEN, PATTERN_SEED);
	EXPECT_EQ(0, memcmp(expected, self->area, IO_LEN));
}

/* ==================================================================== */
/* Execute-only memory                                                  */
/* ==================================================================== */

TEST(exec_only_code_runs)
{
	int (*fn)(void);
	void *code;

	if (!require_pku(_metadata))
		return;
	code = map_exec_only_function();
	ASSERT_FALSE(!code);
	fn = (int (*)(void))code;
	EXPECT_EQ(RETURN_42_VALUE, fn());
}

TEST(exec_only_mapping_has_nonzero_key)
{
	struct vma_info vma;
	void *code;

	if (!require_pku(_metadata))
		return;
	code = map_exec_only_function();
	ASSERT_FALSE(!code);
	ASSERT_TRUE(smaps_vma_at(code, &vma));
	EXPECT_GT(vma.pkey, DEFAULT_PKEY);
	EXPECT_EQ(0, strncmp(vma.perms, "--x", 3)) TH_LOG("perms %s", vma.perms);
}

TEST(exec_only_read_faults_pkuerr)
{
	uint32_t *word;
	uint32_t value;
	void *code;
	int key;

	if (!require_pku(_metadata))
		return;
	code = map_exec_only_function();
	ASSERT_FALSE(!code);
	key = smaps_pkey_at(code);
	ASSERT_GT(key, DEFAULT_PKEY);
	word = code;
	ASSERT_FALSE(probe_read(word, &value));
	expect_fault(_metadata, SEGV_PKUERR, word, key);
}

/* The kernel denies data access to the execute-only key in the caller's PKRU. */
TEST(exec_only_key_access_disabled_in_pkru)
{
	void *code;
	int key;

	if (!require_pku(_metadata))
		return;
	code = map_exec_only_function();
	ASSERT_FALSE(!code);
	key = smaps_pkey_at(code);
	ASSERT_GT(key, DEFAULT_PKEY);
	EXPECT_EQ((uint32_t)PKEY_DISABLE_ACCESS, pkru_key_rights(rdpkru(), key));
}

TEST(exec_only_key_rejected_by_pkey_mprotect)
{
	size_t page = page_size();
	void *code, *area;
	int key;

	if (!require_pku(_metadata))
		return;
	code = map_exec_only_function();
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_TRUE(code && area);
	key = smaps_pkey_at(code);
	ASSERT_GT(key, DEFAULT_PKEY);
	EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_mprotect(area, page, PROT_READ, key));
}

TEST(exec_only_key_rejected_by_pkey_free)
{
	void *code;
	int key;

	if (!require_pku(_metadata))
		return;
	code = map_exec_only_function();
	ASSERT_FALSE(!code);
	key = smaps_pkey_at(code);
	ASSERT_GT(key, DEFAULT_PKEY);
	EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_free(key));
}

/* All execute-only mappings of a process share one key. */
TEST(exec_only_key_is_shared)
{
	void *first, *second;

	if (!require_pku(_metadata))
		return;
	first = map_exec_only_function();
	second = map_exec_only_function();
	ASSERT_TRUE(first && second);
	EXPECT_GT(smaps_pkey_at(first), DEFAULT_PKEY);
	EXPECT_EQ(smaps_pkey_at(first), smaps_pkey_at(second));
}

/* mmap(PROT_EXEC) gets the execute-only key just like mprotect(). */
TEST(mmap_prot_exec_gets_exec_only_key)
{
	void *code, *mapped;

	if (!require_pku(_metadata))
		return;
	code = map_exec_only_function();
	mapped = map_anon(page_size(), PROT_EXEC);
	ASSERT_TRUE(code && mapped);
	EXPECT_GT(smaps_pkey_at(mapped), DEFAULT_PKEY);
	EXPECT_EQ(smaps_pkey_at(code), smaps_pkey_at(mapped));
}

/* Making an execute-only mapping readable returns it to key 0. */
TEST(mprotect_leaving_exec_only_restores_default_key)
{
	uint32_t value, expected;
	void *code;

	if (!require_pku(_metadata))
		return;
	code = map_exec_only_function();
	ASSERT_FALSE(!code);
	ASSERT_GT(smaps_pkey_at(code), DEFAULT_PKEY);
	ASSERT_EQ(0, mprotect(code, page_size(), PROT_READ | PROT_EXEC));
	EXPECT_EQ(DEFAULT_PKEY, smaps_pkey_at(code));
	memcpy(&expected, return_42_code, sizeof(expected));
	ASSERT_TRUE(probe_read(code, &value));
	EXPECT_EQ(expected, value);
}

/* With no key left, PROT_EXEC falls back to a readable key-0 mapping. */
TEST(exec_only_without_free_key_stays_readable)
{
	int keys[NR_PKEYS], n, err;
	uint32_t value, expected;
	void *code;

	if (!require_pku(_metadata))
		return;
	n = alloc_all_keys(keys, PKEY_ALLOW_ALL, &err);
	ASSERT_EQ(NR_USER_PKEYS, n);
	code = map_exec_only_function();
	ASSERT_FALSE(!code);
	EXPECT_EQ(DEFAULT_PKEY, smaps_pkey_at(code));
	memcpy(&expected, return_42_code, sizeof(expected));
	ASSERT_TRUE(probe_read(code, &value));
	EXPECT_EQ(expected, value);
}

/*
 * @addr is execute-only: it carries a key other than 0, and reading it
 * faults with SEGV_PKUERR naming that key.  Returns the key.
 */
static int expect_exec_only(struct __test_metadata *_metadata, void *addr)
{
	int key = smaps_pkey_at(addr);
	uint32_t value;

	EXPECT_GT(key, DEFAULT_PKEY);
	EXPECT_FALSE(probe_read(addr, &value));
	expect_fault(_metadata, SEGV_PKUERR, addr, key);
	return key;
}

/* @addr stayed on key 0 and reads back @expected: not execute-only. */
static void expect_readable_on_default_key(struct __test_metadata *_metadata,
					   void *addr, uint32_t expected)
{
	uint32_t value = ~expected;

	EXPECT_EQ(DEFAULT_PKEY, smaps_pkey_at(addr));
	EXPECT_TRUE(probe_read(addr, &value));
	EXPECT_EQ(expected, value);
}

/*
 * A plain mprotect(PROT_EXEC) makes the mapping execute-only whatever
 * key it had: a user key is replaced by the execute-only key, even
 * though the user key itself grants every access.
 */
TEST(mprotect_exec_moves_keyed_mapping_to_exec_only_key)
{
	size_t page = page_size();
	int key, exec_key;
	void *area;

	if (!require_pku(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	memcpy(area, return_42_code, sizeof(return_42_code));
	key = tag_with_new_key(_metadata, area, page);

	ASSERT_EQ(0, mprotect(area, page, PROT_EXEC));
	exec_key = expect_exec_only(_metadata, area);
	EXPECT_NE(key, exec_key);
	EXPECT_EQ((uint32_t)PKEY_DISABLE_ACCESS,
		  pkru_key_rights(rdpkru(), exec_key));
	EXPECT_EQ(RETURN_42_VALUE, ((int (*)(void))area)());
}

/*
 * Only a prot of exactly PROT_EXEC asks for execute-only memory; any
 * other bit passed along (PROT_SEM, PROT_GROWSDOWN) leaves the mapping
 * readable on key 0.  mprotect() is different for PROT_GROWSDOWN: it
 * takes that bit off before looking at prot (see below).
 */
TEST(mmap_exec_with_prot_sem_is_not_exec_only)
{
	void *area;

	if (!require_pku(_metadata))
		return;
	area = map_anon(page_size(), PROT_EXEC | PROT_SEM);
	ASSERT_FALSE(!area);
	expect_readable_on_default_key(_metadata, area, 0);
}

TEST(mprotect_exec_with_prot_sem_is_not_exec_only)
{
	size_t page = page_size();
	void *area;

	if (!require_pku(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	WRITE_ONCE(*(uint32_t *)area, MARKER);
	ASSERT_EQ(0, mprotect(area, page, PROT_EXEC | PROT_SEM));
	expect_readable_on_default_key(_metadata, area, MARKER);
}

/* A stack-like mapping of two pages; its lowest page is the one returned. */
static void *map_growsdown(int prot)
{
	void *area = mmap(NULL, 2 * page_size(), prot,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);

	return area == MAP_FAILED ? NULL : area;
}

TEST(mmap_exec_growsdown_is_not_exec_only)
{
	void *area;

	if (!require_pku(_metadata))
		return;
	area = map_growsdown(PROT_EXEC | PROT_GROWSDOWN);
	ASSERT_FALSE(!area);
	expect_readable_on_default_key(_metadata, area, 0);
}

/* mprotect() strips PROT_GROWSDOWN first: what is left is PROT_EXEC. */
TEST(mprotect_exec_growsdown_is_exec_only)
{
	size_t page = page_size();
	char *area;

	if (!require_pku(_metadata))
		return;
	area = map_growsdown(PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	/* PROT_GROWSDOWN extends the change down to the mapping's start. */
	ASSERT_EQ(0, mprotect(area + page, page, PROT_EXEC | PROT_GROWSDOWN));
	expect_exec_only(_metadata, area);
}

/*
 * A thread that made the execute-only key readable with WRPKRU gets it
 * access-disabled again by its next execute-only mmap() or mprotect(),
 * even by one that fails; the key's rights become exactly
 * PKEY_DISABLE_ACCESS, so a write-disable goes.
 */
FIXTURE(opened_exec_only_key) {
	void *code;
	int key;
};

FIXTURE_VARIANT(opened_exec_only_key) {
	unsigned long rights;
};

FIXTURE_VARIANT_ADD(opened_exec_only_key, all_rights) {
	.rights = PKEY_ALLOW_ALL,
};

FIXTURE_VARIANT_ADD(opened_exec_only_key, write_disabled) {
	.rights = PKEY_DISABLE_WRITE,
};

FIXTURE_SETUP(opened_exec_only_key)
{
	if (!require_pku(_metadata))
		return;
	self->code = map_exec_only_function();
	ASSERT_FALSE(!self->code);
	self->key = smaps_pkey_at(self->code);
	ASSERT_GT(self->key, DEFAULT_PKEY);
	set_key_rights(self->key, variant->rights);
}

FIXTURE_TEARDOWN(opened_exec_only_key)
{
}

TEST_F(opened_exec_only_key, closed_again_by_exec_only_mmap)
{
	ASSERT_FALSE(!map_anon(page_size(), PROT_EXEC));
	EXPECT_EQ((uint32_t)PKEY_DISABLE_ACCESS,
		  pkru_key_rights(rdpkru(), self->key));
}

TEST_F(opened_exec_only_key, closed_again_by_exec_only_mprotect)
{
	ASSERT_FALSE(!map_exec_only_function());
	EXPECT_EQ((uint32_t)PKEY_DISABLE_ACCESS,
		  pkru_key_rights(rdpkru(), self->key));
}

/* The key is picked before the mapping is refused with EEXIST. */
TEST_F(opened_exec_only_key, closed_again_by_failed_exec_only_mmap)
{
	EXPECT_SYSCALL_ERRNO(EEXIST, mmap(self->code, page_size(), PROT_EXEC,
					  MAP_PRIVATE | MAP_ANONYMOUS |
					  MAP_FIXED_NOREPLACE, -1, 0));
	EXPECT_EQ((uint32_t)PKEY_DISABLE_ACCESS,
		  pkru_key_rights(rdpkru(), self->key));
}

/*
 * A key freed while a mapping still carries it can become the
 * execute-only key (the lowest free key is taken).  The mapping was
 * never execute-only, so a later mprotect() keeps its key: only a
 * mapping that is exactly PROT_EXEC is moved back to key 0.
 */
TEST(mprotect_keeps_freed_key_that_became_exec_only_key)
{
	size_t page = page_size();
	int key, exec_key;
	void *area, *code;

	if (!require_pku(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	key = tag_with_new_key(_metadata, area, page);
	ASSERT_EQ(0, sys_pkey_free(key));

	code = map_exec_only_function();
	ASSERT_FALSE(!code);
	exec_key = smaps_pkey_at(code);
	ASSERT_EQ(key, exec_key)
		TH_LOG("the execute-only key is not the freed key %d", key);

	ASSERT_EQ(0, mprotect(area, page, PROT_READ));
	EXPECT_EQ(key, smaps_pkey_at(area));
}

/* ==================================================================== */
/* Signals                                                              */
/* ==================================================================== */

/*
 * PKRU inside the XSAVE image of a signal frame, or NULL when the frame
 * has no XSAVE area (no FP_XSTATE_MAGIC1) or no PKRU component.  Signal
 * frames use the standard format, so component 9 sits at the offset
 * CPUID.(EAX=0xD,ECX=9).EBX from the start of the FXSAVE image.
 */
static uint8_t *sigframe_xsave(ucontext_t *uc)
{
	uint8_t *fx = (uint8_t *)uc->uc_mcontext.fpregs;
#ifndef __x86_64__
	uint16_t magic;

	if (!fx)
		return NULL;
	memcpy(&magic, fx + FSAVE_MAGIC_OFFSET, sizeof(magic));
	if (magic != FSAVE_MAGIC_FXSR_FOLLOWS)
		return NULL;
	fx += FSAVE_IMAGE_SIZE;
#endif
	return fx;
}

static uint32_t *sigframe_pkru_slot(ucontext_t *uc)
{
	uint32_t magic1, xstate_size, magic2;
	unsigned int offset;
	uint64_t xfeatures;
	uint8_t *fx = sigframe_xsave(uc);

	if (!fx)
		return NULL;
	memcpy(&magic1, fx + FXSAVE_SW_BYTES_OFFSET + SW_BYTES_MAGIC1_OFFSET,
	       sizeof(magic1));
	memcpy(&xfeatures, fx + FXSAVE_SW_BYTES_OFFSET + SW_BYTES_XFEATURES_OFFSET,
	       sizeof(xfeatures));
	memcpy(&xstate_size,
	       fx + FXSAVE_SW_BYTES_OFFSET + SW_BYTES_XSTATE_SIZE_OFFSET,
	       sizeof(xstate_size));
	if (magic1 != FP_XSTATE_MAGIC1 || !(xfeatures & XFEATURE_MASK_PKRU))
		return NULL;
	memcpy(&magic2, fx + xstate_size, sizeof(magic2));
	if (magic2 != FP_XSTATE_MAGIC2)
		return NULL;
	offset = xstate_component_offset(XFEATURE_PKRU, NULL);
	if (!offset || offset + sizeof(uint32_t) > xstate_size)
		return NULL;
	return (uint32_t *)(fx + offset);
}

/*
 * XSTATE_BV of the frame's XSAVE header: the components the image holds;
 * XRSTOR at sigreturn puts the others in their init state.  Only for a
 * frame that sigframe_pkru_slot() found an XSAVE area in.
 */
static uint64_t sigframe_xstate_bv(ucontext_t *uc)
{
	uint64_t bv;

	memcpy(&bv, sigframe_xsave(uc) + XSAVE_XSTATE_BV_OFFSET, sizeof(bv));
	return bv;
}

/* Set or clear PKRU's bit in XSTATE_BV. */
static void sigframe_set_pkru_in_use(ucontext_t *uc, bool in_use)
{
	uint64_t bv = sigframe_xstate_bv(uc);

	if (in_use)
		bv |= XFEATURE_MASK_PKRU;
	else
		bv &= ~XFEATURE_MASK_PKRU;
	memcpy(sigframe_xsave(uc) + XSAVE_XSTATE_BV_OFFSET, &bv, sizeof(bv));
}

enum frame_action {
	FRAME_KEEP,		/* leave the frame alone */
	FRAME_SET_PKRU,		/* store sig_new_frame_pkru in the frame */
	FRAME_DROP_PKRU,	/* clear PKRU's XSTATE_BV bit */
	FRAME_DROP_FPSTATE,	/* no FPU state at all: fpregs = NULL */
};

/* Shared with pkru_signal_handler(): only READ_ONCE()/WRITE_ONCE(). */
static uint32_t sig_entry_pkru;
static uint32_t sig_frame_pkru;
static int sig_frame_has_pkru;
static int sig_frame_pkru_in_use;
static int sig_last_signo;
static int sig_frame_action;
static uint32_t sig_new_frame_pkru;
static int sig_scribble;
static uint32_t sig_scribble_pkru;
static int sig_count;

/* Records PKRU at entry and in the frame, then acts on the frame. */
static void pkru_signal_handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	uint32_t *slot;

	(void)si;
	WRITE_ONCE(sig_entry_pkru, rdpkru());
	WRITE_ONCE(sig_last_signo, sig);
	slot = sigframe_pkru_slot(uc);
	WRITE_ONCE(sig_frame_has_pkru, !!slot);
	if (slot) {
		WRITE_ONCE(sig_frame_pkru, *slot);
		WRITE_ONCE(sig_frame_pkru_in_use,
			   !!(sigframe_xstate_bv(uc) & XFEATURE_MASK_PKRU));
		if (READ_ONCE(sig_frame_action) == FRAME_SET_PKRU) {
			*slot = READ_ONCE(sig_new_frame_pkru);
			sigframe_set_pkru_in_use(uc, true);
		} else if (READ_ONCE(sig_frame_action) == FRAME_DROP_PKRU) {
			sigframe_set_pkru_in_use(uc, false);
		}
	}
	if (READ_ONCE(sig_frame_action) == FRAME_DROP_FPSTATE)
		uc->uc_mcontext.fpregs = NULL;
	/* Whatever the handler leaves in PKRU, sigreturn replaces it. */
	if (READ_ONCE(sig_scribble))
		wrpkru(READ_ONCE(sig_scribble_pkru));
	WRITE_ONCE(sig_count, READ_ONCE(sig_count) + 1);
}

/*
 * A PKRU value unlike both the default and all-open, key 0 usable.
 * WRPKRU takes rights for any key, allocated or not.
 */
static uint32_t interrupted_pkru(void)
{
	return pkru_with_rights(pkru_with_rights(PKRU_DENY_ALL_BUT_KEY0,
						 SCRATCH_KEY_A, PKEY_ALLOW_ALL),
				SCRATCH_KEY_B, PKEY_DISABLE_WRITE);
}

TEST(signal_handler_starts_with_default_pkru)
{
	if (!require_pku(_metadata))
		return;
	ASSERT_EQ(0, install_handler(SIGUSR1, pkru_signal_handler, 0));
	wrpkru(0);
	raise(SIGUSR1);
	ASSERT_EQ(1, READ_ONCE(sig_count));
	EXPECT_EQ(startup_pkru, READ_ONCE(sig_entry_pkru));
}

TEST(signal_frame_saves_interrupted_pkru)
{
	uint32_t before;

	if (!require_pku(_metadata))
		return;
	ASSERT_EQ(0, install_handler(SIGUSR1, pkru_signal_handler, 0));
	before = interrupted_pkru();
	wrpkru(before);
	raise(SIGUSR1);
	ASSERT_EQ(1, READ_ONCE(sig_count));
	if (!READ_ONCE(sig_frame_has_pkru))
		SKIP(return, "signal frame has no XSAVE PKRU component");
	EXPECT_EQ(before, READ_ONCE(sig_frame_pkru));
	EXPECT_TRUE(READ_ONCE(sig_frame_pkru_in_use));
}

/*
 * PKRU 0 is the component's init state, which XSAVE may record by just
 * clearing its XSTATE_BV bit; the kernel sets the bit, so that the frame
 * always holds the interrupted PKRU as a value, 0 here.
 */
TEST(signal_frame_marks_all_open_pkru_in_use)
{
	if (!require_pku(_metadata))
		return;
	ASSERT_EQ(0, install_handler(SIGUSR1, pkru_signal_handler, 0));
	wrpkru(0);
	raise(SIGUSR1);
	ASSERT_EQ(1, READ_ONCE(sig_count));
	if (!READ_ONCE(sig_frame_has_pkru))
		SKIP(return, "signal frame has no XSAVE PKRU component");
	EXPECT_TRUE(READ_ONCE(sig_frame_pkru_in_use));
	EXPECT_EQ(0u, READ_ONCE(sig_frame_pkru));
	EXPECT_EQ(0u, rdpkru());
}

TEST(pkru_restored_after_signal_handler)
{
	uint32_t before;

	if (!require_pku(_metadata))
		return;
	ASSERT_EQ(0, install_handler(SIGUSR1, pkru_signal_handler, 0));
	WRITE_ONCE(sig_scribble, 1);
	WRITE_ONCE(sig_scribble_pkru, PKRU_DENY_ALL_BUT_KEY0);
	before = interrupted_pkru();
	wrpkru(before);
	raise(SIGUSR1);
	ASSERT_EQ(1, READ_ONCE(sig_count));
	EXPECT_EQ(before, rdpkru());
}

TEST(sigreturn_applies_pkru_from_frame)
{
	uint32_t wanted;

	if (!require_pku(_metadata))
		return;
	ASSERT_EQ(0, install_handler(SIGUSR1, pkru_signal_handler, 0));
	wanted = pkru_with_rights(interrupted_pkru(), SCRATCH_KEY_C,
				  PKEY_ALLOW_ALL);
	WRITE_ONCE(sig_frame_action, FRAME_SET_PKRU);
	WRITE_ONCE(sig_new_frame_pkru, wanted);
	wrpkru(interrupted_pkru());
	raise(SIGUSR1);
	ASSERT_EQ(1, READ_ONCE(sig_count));
	if (!READ_ONCE(sig_frame_has_pkru))
		SKIP(return, "signal frame has no XSAVE PKRU component");
	EXPECT_EQ(wanted, rdpkru());
}

/* XRSTOR puts a component whose XSTATE_BV bit is clear in its init state: PKRU = 0. */
TEST(sigreturn_without_pkru_component_loads_init_value)
{
	if (!require_pku(_metadata))
		return;
	ASSERT_EQ(0, install_handler(SIGUSR1, pkru_signal_handler, 0));
	WRITE_ONCE(sig_frame_action, FRAME_DROP_PKRU);
	wrpkru(interrupted_pkru());
	raise(SIGUSR1);
	ASSERT_EQ(1, READ_ONCE(sig_count));
	if (!READ_ONCE(sig_frame_has_pkru))
		SKIP(return, "signal frame has no XSAVE PKRU component");
	EXPECT_EQ(0u, rdpkru());
}

/*
 * A handler may return with no FPU state at all (fpregs NULL in its
 * ucontext): sigreturn then resets the FPU registers, and PKRU gets
 * the default a new program starts with, neither the init value 0 nor
 * whatever the handler left in PKRU.
 */
TEST(sigreturn_with_null_fpstate_loads_default_pkru)
{
	if (!require_pku(_metadata))
		return;
	ASSERT_EQ(0, install_handler(SIGUSR1, pkru_signal_handler, 0));
	WRITE_ONCE(sig_frame_action, FRAME_DROP_FPSTATE);
	WRITE_ONCE(sig_scribble, 1);
	WRITE_ONCE(sig_scribble_pkru, PKRU_DENY_ALL_BUT_KEY0);
	wrpkru(interrupted_pkru());
	raise(SIGUSR1);
	ASSERT_EQ(1, READ_ONCE(sig_count));
	EXPECT_EQ(startup_pkru, rdpkru());
}

/* Shared with the nested handlers: only READ_ONCE()/WRITE_ONCE(). */
static uint32_t nested_outer_entry, nested_outer_after;
static uint32_t nested_inner_entry, nested_inner_frame;
static int nested_inner_frame_found;

/* Values the nested handlers install; key 0 stays open for their stacks. */
#define NESTED_OUTER_PKRU	0x0000000cu	/* key 1: AD and WD */
#define NESTED_INNER_PKRU	0x000000f0u	/* keys 2 and 3: AD and WD */

static void nested_inner_handler(int sig, siginfo_t *si, void *ctx)
{
	uint32_t *slot = sigframe_pkru_slot(ctx);

	(void)sig;
	(void)si;
	WRITE_ONCE(nested_inner_entry, rdpkru());
	WRITE_ONCE(nested_inner_frame_found, !!slot);
	if (slot)
		WRITE_ONCE(nested_inner_frame, *slot);
	wrpkru(NESTED_INNER_PKRU);
}

static void nested_outer_handler(int sig, siginfo_t *si, void *ctx)
{
	(void)sig;
	(void)si;
	(void)ctx;
	WRITE_ONCE(nested_outer_entry, rdpkru());
	wrpkru(NESTED_OUTER_PKRU);
	raise(SIGUSR2);
	WRITE_ONCE(nested_outer_after, rdpkru());
}

/* Each level starts with the default and gets its own PKRU back. */
TEST(nested_signals_restore_each_level)
{
	uint32_t before;

	if (!require_pku(_metadata))
		return;
	ASSERT_EQ(0, install_handler(SIGUSR1, nested_outer_handler, 0));
	ASSERT_EQ(0, install_handler(SIGUSR2, nested_inner_handler, 0));
	before = interrupted_pkru();
	wrpkru(before);
	raise(SIGUSR1);
	EXPECT_EQ(before, rdpkru());
	EXPECT_EQ(startup_pkru, READ_ONCE(nested_outer_entry));
	EXPECT_EQ(startup_pkru, READ_ONCE(nested_inner_entry));
	EXPECT_EQ(NESTED_OUTER_PKRU, READ_ONCE(nested_outer_after));
	if (READ_ONCE(nested_inner_frame_found))
		EXPECT_EQ(NESTED_OUTER_PKRU, READ_ONCE(nested_inner_frame));
}

/*
 * Handlers on an alternate stack tagged with access-disabled keys.  The
 * kernel opens every key while it writes the frame, then starts the
 * handler with the default PKRU, which denies the stack's keys: the
 * handler itself must open them before it touches its stack.  The entry
 * code below records the PKRU the handler started with and then loads
 * the one the test wants with WRPKRU, before anything uses the stack.
 * It is assembly, which names altstack_entry_pkru,
 * altstack_handler_pkru and altstack_handler_body(); pkeys_util.h
 * declares them.  The variables are shared with the handler: only
 * READ_ONCE()/WRITE_ONCE().
 */
uint32_t altstack_entry_pkru;
uint32_t altstack_handler_pkru;
static uintptr_t altstack_seen_frame;
static uint32_t altstack_seen_pkru;
static int altstack_seen_signo;
static int altstack_frame_has_pkru;
static uint32_t altstack_frame_pkru;
static int altstack_ran;

asm(".pushsection .text\n"
	".globl altstack_entry\n"
	".type altstack_entry, @function\n"
	"altstack_entry:\n"
#ifdef __x86_64__
	"	mov %rdx, %r8\n"		/* RDPKRU/WRPKRU use EDX; keep ctx */
	"	xor %ecx, %ecx\n"
	"	.byte 0x0f, 0x01, 0xee\n"	/* rdpkru */
	"	mov %eax, altstack_entry_pkru(%rip)\n"
	"	mov altstack_handler_pkru(%rip), %eax\n"
	"	xor %edx, %edx\n"
	"	.byte 0x0f, 0x01, 0xef\n"	/* wrpkru */
	"	mov %r8, %rdx\n"
#else
	"	xor %ecx, %ecx\n"
	"	.byte 0x0f, 0x01, 0xee\n"	/* rdpkru */
	"	mov %eax, altstack_entry_pkru\n"
	"	mov altstack_handler_pkru, %eax\n"
	"	xor %edx, %edx\n"
	"	.byte 0x0f, 0x01, 0xef\n"	/* wrpkru */
#endif
	"	jmp altstack_handler_body\n"
	".size altstack_entry, . - altstack_entry\n"
	".popsection\n");

/* Runs on the keyed stack with its keys open; reads what the kernel wrote. */
void altstack_handler_body(int sig, siginfo_t *si, void *ctx)
{
	uint32_t *slot = sigframe_pkru_slot(ctx);

	(void)sig;
	WRITE_ONCE(altstack_seen_frame, (uintptr_t)__builtin_frame_address(0));
	WRITE_ONCE(altstack_seen_pkru, rdpkru());
	WRITE_ONCE(altstack_seen_signo, si->si_signo);
	WRITE_ONCE(altstack_frame_has_pkru, !!slot);
	if (slot)
		WRITE_ONCE(altstack_frame_pkru, *slot);
	WRITE_ONCE(altstack_ran, 1);
}

/*
 * Make [@sp, @sp + @size) the alternate stack and altstack_entry the
 * SIGUSR1 handler on it, which switches to @handler_pkru; 0 or -1.
 * No test assertions: also used by child processes.
 */
static int use_altstack_for_sigusr1(char *sp, size_t size,
				    uint32_t handler_pkru)
{
	stack_t ss = { .ss_sp = sp, .ss_size = size };

	WRITE_ONCE(altstack_handler_pkru, handler_pkru);
	if (sigaltstack(&ss, NULL))
		return -1;
	return install_handler(SIGUSR1, altstack_entry, SA_ONSTACK);
}

/*
 * Raise SIGUSR1 with its handler on the alternate stack [@sp, @sp +
 * @size), which the caller has made inaccessible; the handler switches
 * to @handler_pkru.  Checks that the handler started with the default
 * PKRU, that it ran there, with that PKRU, on a frame the kernel had
 * written (siginfo and the interrupted PKRU), and that the interrupted
 * PKRU came back.
 */
static void raise_on_altstack(struct __test_metadata *_metadata, char *sp,
			      size_t size, uint32_t handler_pkru)
{
	uint32_t before;

	ASSERT_EQ(0, use_altstack_for_sigusr1(sp, size, handler_pkru));
	before = rdpkru();
	raise(SIGUSR1);
	ASSERT_EQ(1, READ_ONCE(altstack_ran));
	EXPECT_EQ(before, rdpkru());
	EXPECT_EQ(startup_pkru, READ_ONCE(altstack_entry_pkru));
	EXPECT_GE(READ_ONCE(altstack_seen_frame), (uintptr_t)sp);
	EXPECT_LT(READ_ONCE(altstack_seen_frame), (uintptr_t)sp + size);
	EXPECT_EQ(handler_pkru, READ_ONCE(altstack_seen_pkru));
	EXPECT_EQ(SIGUSR1, READ_ONCE(altstack_seen_signo));
	if (READ_ONCE(altstack_frame_has_pkru))
		EXPECT_EQ(before, READ_ONCE(altstack_frame_pkru));
}

/*
 * Map an alternate stack of @size bytes, tag it with a new key and
 * access-disable that key; *@open is the default PKRU with the key
 * open, what the handler needs.  NULL on failure.
 */
static char *map_access_disabled_altstack(size_t size, uint32_t *open)
{
	char *stack = map_anon(size, PROT_READ | PROT_WRITE);
	int key = alloc_key(PKEY_ALLOW_ALL);

	if (!stack || key <= DEFAULT_PKEY ||
	    sys_pkey_mprotect(stack, size, PROT_READ | PROT_WRITE, key))
		return NULL;
	*open = pkru_with_rights(startup_pkru, key, PKEY_ALLOW_ALL);
	set_key_rights(key, PKEY_DISABLE_ACCESS);
	return stack;
}

TEST(handler_runs_on_access_disabled_altstack)
{
	uint32_t value, open;
	char *stack;
	int key;

	if (!require_pku(_metadata))
		return;
	stack = map_access_disabled_altstack(ALTSTACK_SIZE, &open);
	ASSERT_FALSE(!stack);
	key = smaps_pkey_at(stack);
	/* The stack really is out of reach now. */
	ASSERT_FALSE(probe_read(probe_word(stack), &value));
	expect_fault(_metadata, SEGV_PKUERR, probe_word(stack), key);

	raise_on_altstack(_metadata, stack, ALTSTACK_SIZE, open);
}

/*
 * The stack's top lies just inside its second page, so the frame spans
 * two VMAs with different keys, both access-disabled; the handler still
 * starts with the default PKRU and opens both.
 */
TEST(handler_frame_across_two_keyed_vmas)
{
	size_t page = page_size();
	uint32_t open;
	int low, high;
	char *stack;

	if (!require_pku(_metadata))
		return;
	stack = map_anon(2 * page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!stack);
	low = tag_with_new_key(_metadata, stack, page);
	high = tag_with_new_key(_metadata, stack + page, page);
	ASSERT_EQ(2, smaps_count_vmas(stack, 2 * page));
	open = pkru_with_rights(startup_pkru, low, PKEY_ALLOW_ALL);
	open = pkru_with_rights(open, high, PKEY_ALLOW_ALL);

	set_key_rights(low, PKEY_DISABLE_ACCESS);
	set_key_rights(high, PKEY_DISABLE_ACCESS);
	raise_on_altstack(_metadata, stack, page + ALTSTACK_TOP_IN_HIGH, open);
}

/* Longest a child may take for a signal round trip before it counts as hung. */
#define CHILD_TIMEOUT_SECS	10

/*
 * Child: a SIGUSR1 round trip through an access-disabled alternate
 * stack with SIGSEGV at its default action, so a sigreturn that cannot
 * read its frame kills the child instead of being papered over by a
 * SIGSEGV handler.  The frame is read after PKRU has been restored
 * from it (the interrupted PKRU denies the stack), which the kernel
 * must allow for every frame type (64-bit, ia32, x32).
 */
static int child_sigreturn_from_keyed_altstack(void *arg)
{
	uint32_t open, before;
	char *stack;

	(void)arg;
	signal(SIGSEGV, SIG_DFL);
	alarm(CHILD_TIMEOUT_SECS);
	stack = map_access_disabled_altstack(ALTSTACK_SIZE, &open);
	if (!stack || use_altstack_for_sigusr1(stack, ALTSTACK_SIZE, open))
		return CHILD_SETUP_FAILED;
	before = rdpkru();
	raise(SIGUSR1);
	if (!READ_ONCE(altstack_ran))
		return CHILD_SETUP_FAILED;
	return rdpkru() == before ? CHILD_OK : CHILD_WRONG_PKRU;
}

TEST(sigreturn_from_access_disabled_altstack_succeeds)
{
	int ret;

	if (!require_pku(_metadata))
		return;
	ret = run_in_child(child_sigreturn_from_keyed_altstack, NULL);
	EXPECT_EQ(CHILD_OK, ret)
		TH_LOG("child: %s (%d; 128 + %d is that signal)",
		       child_result_name(ret), ret, SIGSEGV);
}

/*
 * An alternate stack the kernel cannot write a frame to: PROT_NONE, or
 * not mapped at all.  Delivering a signal there fails and turns into a
 * SIGSEGV, handled on the normal stack; by then the kernel must have
 * put back the interrupted PKRU (it opened every key to write the
 * frame), so the SIGSEGV frame records it and sigreturn restores it.
 */
FIXTURE(unwritable_altstack) {
	char *stack;
};

FIXTURE_VARIANT(unwritable_altstack) {
	bool unmapped;
};

FIXTURE_VARIANT_ADD(unwritable_altstack, prot_none) {
	.unmapped = false,
};

FIXTURE_VARIANT_ADD(unwritable_altstack, unmapped) {
	.unmapped = true,
};

FIXTURE_SETUP(unwritable_altstack)
{
	stack_t ss;

	if (!require_pku(_metadata))
		return;
	self->stack = map_anon(ALTSTACK_SIZE, PROT_NONE);
	ASSERT_FALSE(!self->stack);
	if (variant->unmapped)
		ASSERT_EQ(0, munmap(self->stack, ALTSTACK_SIZE));
	ss = (stack_t) { .ss_sp = self->stack, .ss_size = ALTSTACK_SIZE };
	ASSERT_EQ(0, sigaltstack(&ss, NULL));
	ASSERT_EQ(0, install_handler(SIGUSR1, pkru_signal_handler, SA_ONSTACK));
	ASSERT_EQ(0, install_handler(SIGSEGV, pkru_signal_handler, 0));
}

FIXTURE_TEARDOWN(unwritable_altstack)
{
}

TEST_F(unwritable_altstack, sigsegv_gets_interrupted_pkru)
{
	uint32_t before = interrupted_pkru(), after;

	wrpkru(before);
	raise(SIGUSR1);
	after = rdpkru();
	ASSERT_EQ(1, READ_ONCE(sig_count));
	EXPECT_EQ(SIGSEGV, READ_ONCE(sig_last_signo));
	EXPECT_EQ(before, after);
	if (!READ_ONCE(sig_frame_has_pkru))
		SKIP(return, "signal frame has no XSAVE PKRU component");
	EXPECT_TRUE(READ_ONCE(sig_frame_pkru_in_use));
	EXPECT_EQ(before, READ_ONCE(sig_frame_pkru));
}

/* ==================================================================== */
/* The administrator's default PKRU: /proc/sys/vm/pkru_default          */
/* ==================================================================== */

#define PKRU_DEFAULT_SYSCTL	"/proc/sys/vm/pkru_default"

/* 0, or the errno of writing @text to the sysctl @path in one write(). */
static int write_sysctl(const char *path, const char *text)
{
	ssize_t len = strlen(text), ret;
	int fd, err = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	ret = write(fd, text, len);
	if (ret < 0)
		err = errno;
	else if (ret != len)
		err = EIO;
	close(fd);
	return err;
}

static int write_pkru_default(const char *text)
{
	return write_sysctl(PKRU_DEFAULT_SYSCTL, text);
}

static bool read_pkru_default(uint32_t *pkru)
{
	FILE *f = fopen(PKRU_DEFAULT_SYSCTL, "r");
	bool ok;

	if (!f)
		return false;
	ok = fscanf(f, "%x", pkru) == 1;
	fclose(f);
	return ok;
}

/* Unlike the stock default: key 1 write-disabled, not access-disabled. */
static uint32_t other_default_pkru(void)
{
	return pkru_with_rights(LINUX_DEFAULT_PKRU, 1, PKEY_DISABLE_WRITE);
}

/* The sysctl's value is put back after every test. */
FIXTURE(pkru_default) {
	uint32_t saved;
	bool have_saved;
};

FIXTURE_SETUP(pkru_default)
{
	if (!require_pku(_metadata))
		return;
	if (access(PKRU_DEFAULT_SYSCTL, F_OK))
		SKIP(return, "no %s (a kernel with debugfs init_pkru?)",
		     PKRU_DEFAULT_SYSCTL);
	if (geteuid())
		SKIP(return, "changing %s needs root", PKRU_DEFAULT_SYSCTL);
	ASSERT_TRUE(read_pkru_default(&self->saved));
	self->have_saved = true;
}

FIXTURE_TEARDOWN(pkru_default)
{
	char text[16];

	if (!self->have_saved)
		return;
	snprintf(text, sizeof(text), "0x%x", self->saved);
	EXPECT_EQ(0, write_pkru_default(text));
}

TEST_F(pkru_default, reads_startup_pkru)
{
	EXPECT_EQ(startup_pkru, self->saved);
}

TEST_F(pkru_default, write_hex_and_decimal)
{
	char text[16];
	uint32_t now;

	snprintf(text, sizeof(text), "0x%x\n", other_default_pkru());
	ASSERT_EQ(0, write_pkru_default(text));
	ASSERT_TRUE(read_pkru_default(&now));
	EXPECT_EQ(other_default_pkru(), now);

	snprintf(text, sizeof(text), "%u", LINUX_DEFAULT_PKRU);
	ASSERT_EQ(0, write_pkru_default(text));
	ASSERT_TRUE(read_pkru_default(&now));
	EXPECT_EQ(LINUX_DEFAULT_PKRU, now);
}

TEST_F(pkru_default, exec_starts_with_new_default)
{
	struct exec_request req = {
		.what = EXEC_CHECK_PKRU,
		.pkru = other_default_pkru(),
	};
	char text[16];
	int ret;

	snprintf(text, sizeof(text), "0x%x", req.pkru);
	ASSERT_EQ(0, write_pkru_default(text));
	ret = run_in_child(child_exec_self, &req);
	EXPECT_EQ(CHILD_OK, ret) TH_LOG("exec'd image: %s", child_result_name(ret));
}

TEST_F(pkru_default, signal_handler_starts_with_new_default)
{
	char text[16];

	snprintf(text, sizeof(text), "0x%x", other_default_pkru());
	ASSERT_EQ(0, write_pkru_default(text));
	ASSERT_EQ(0, install_handler(SIGUSR1, pkru_signal_handler, 0));
	wrpkru(0);
	raise(SIGUSR1);
	ASSERT_EQ(1, READ_ONCE(sig_count));
	EXPECT_EQ(other_default_pkru(), READ_ONCE(sig_entry_pkru));
}

/* The new default is for new programs: running threads keep their PKRU. */
TEST_F(pkru_default, running_thread_keeps_its_pkru)
{
	uint32_t before = interrupted_pkru();
	char text[16];

	wrpkru(before);
	snprintf(text, sizeof(text), "0x%x", other_default_pkru());
	ASSERT_EQ(0, write_pkru_default(text));
	EXPECT_EQ(before, rdpkru());
}

/* Key 0 tags all ordinary memory: a default restricting it is refused. */
TEST_F(pkru_default, restricting_key0_einval)
{
	static const uint32_t key0_rights[] = {
		PKEY_DISABLE_ACCESS, PKEY_DISABLE_WRITE,
		PKEY_DISABLE_ACCESS | PKEY_DISABLE_WRITE,
	};
	char text[16];
	uint32_t now;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(key0_rights); i++) {
		snprintf(text, sizeof(text), "0x%x",
			 pkru_with_rights(self->saved, DEFAULT_PKEY, key0_rights[i]));
		EXPECT_EQ(EINVAL, write_pkru_default(text)) TH_LOG("wrote %s", text);
	}
	ASSERT_TRUE(read_pkru_default(&now));
	EXPECT_EQ(self->saved, now);
}

/*
 * Not one 32-bit number: words, trailing junk, negative, too large, and
 * a valid number too long for the kernel's buffer, which must not be
 * parsed from its truncated beginning.
 */
TEST_F(pkru_default, not_a_number_einval)
{
	static const char *const bad[] = {
		"\n", "pkru", "0x5555555g", "-4", "0x100000000",
		"0x000000000000000000000000055555554",
	};
	uint32_t now;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(EINVAL, write_pkru_default(bad[i]))
			TH_LOG("bad input #%zu", i);
	ASSERT_TRUE(read_pkru_default(&now));
	EXPECT_EQ(self->saved, now);
}

TEST(nopku_no_pkru_default_sysctl)
{
	if (!require_no_pku(_metadata))
		return;
	EXPECT_NE(0, access(PKRU_DEFAULT_SYSCTL, F_OK));
	EXPECT_EQ(ENOENT, errno);
}

/* ==================================================================== */
/* PKRU across suspend to RAM                                           */
/* ==================================================================== */

/*
 * Opt-in, since it puts the machine to sleep for a few seconds: needs
 * root, suspend to RAM and an RTC alarm that wakes the machine up.
 */
#define SUSPEND_TEST_ENV	"PKEYS_TEST_SUSPEND"
#define POWER_STATE_PATH	"/sys/power/state"
#define RTC_WAKEALARM_PATH	"/sys/class/rtc/rtc0/wakealarm"
#define SUSPEND_SECS		3

/*
 * The CPU comes back from S3 with its registers reset.  The task that
 * wrote "mem" returns from that write() without necessarily being
 * switched out and in again, so the kernel has to reload its PKRU (and
 * XCR0 must include PKRU again before any XRSTOR of the task's state).
 */
TEST(pkru_survives_suspend_to_ram)
{
	uint32_t pkru = interrupted_pkru();
	char alarm[16];

	if (!require_pku(_metadata))
		return;
	if (!getenv(SUSPEND_TEST_ENV))
		SKIP(return, "suspends the machine: set %s=1 to run it",
		     SUSPEND_TEST_ENV);
	snprintf(alarm, sizeof(alarm), "+%d", SUSPEND_SECS);
	/* Writing "0" first clears an alarm left from an earlier run. */
	ASSERT_TRUE(write_file(RTC_WAKEALARM_PATH, "0"));
	ASSERT_TRUE(write_file(RTC_WAKEALARM_PATH, alarm));

	wrpkru(pkru);
	ASSERT_TRUE(write_file(POWER_STATE_PATH, "mem"))
		TH_LOG("suspend failed: %s", strerror(errno));
	EXPECT_EQ(pkru, rdpkru());
}

/* ==================================================================== */
/* ptrace access to PKRU                                                */
/* ==================================================================== */

/* Tracee: set PKRU, stop for the tracer, then report PKRU on @fd. */
static __noreturn void pkru_tracee(uint32_t pkru, int fd)
{
	uint32_t now;

	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
		_exit(CHILD_SETUP_FAILED);
	wrpkru(pkru);
	raise(SIGSTOP);
	now = rdpkru();
	if (write(fd, &now, sizeof(now)) != sizeof(now))
		_exit(CHILD_SETUP_FAILED);
	_exit(CHILD_OK);
}

/*
 * Stop a tracee running with PKRU @initial; check that NT_X86_XSTATE
 * shows it; if @replacement differs, write that instead; resume and
 * return the PKRU the tracee then sees (in *after).
 */
static void ptrace_pkru_round_trip(struct __test_metadata *_metadata,
				   uint32_t initial, uint32_t replacement,
				   uint32_t *after)
{
	unsigned int offset = xstate_component_offset(XFEATURE_PKRU, NULL);
	struct iovec iov;
	uint32_t seen = 0;
	int fds[2], status;
	uint64_t bv;
	uint8_t *buf;
	pid_t pid;

	ASSERT_NE(0u, offset);
	buf = map_anon(XSTATE_BUF_SIZE, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!buf);
	ASSERT_EQ(0, pipe(fds));
	fflush(NULL);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		pkru_tracee(initial, fds[1]);
	close(fds[1]);

	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
	iov.iov_base = buf;
	iov.iov_len = XSTATE_BUF_SIZE;
	EXPECT_EQ(0, ptrace(PTRACE_GETREGSET, pid, (void *)NT_X86_XSTATE, &iov))
		TH_LOG("PTRACE_GETREGSET: %s", strerror(errno));
	EXPECT_GE(iov.iov_len, offset + sizeof(uint32_t));
	if (iov.iov_len >= offset + sizeof(uint32_t)) {
		memcpy(&seen, buf + offset, sizeof(seen));
		EXPECT_EQ(initial, seen);
		if (replacement != initial) {
			memcpy(buf + offset, &replacement, sizeof(replacement));
			/* PKRU is only loaded if its XSTATE_BV bit says so. */
			memcpy(&bv, buf + XSAVE_XSTATE_BV_OFFSET, sizeof(bv));
			bv |= XFEATURE_MASK_PKRU;
			memcpy(buf + XSAVE_XSTATE_BV_OFFSET, &bv, sizeof(bv));
			EXPECT_EQ(0, ptrace(PTRACE_SETREGSET, pid,
					    (void *)NT_X86_XSTATE, &iov))
				TH_LOG("PTRACE_SETREGSET: %s", strerror(errno));
		}
	}
	EXPECT_EQ(0, ptrace(PTRACE_CONT, pid, NULL, NULL));
	EXPECT_EQ((ssize_t)sizeof(*after), read(fds[0], after, sizeof(*after)));
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static bool require_xstate_pkru(struct __test_metadata *_metadata)
{
	unsigned int size = 0;

	if (!xstate_component_offset(XFEATURE_PKRU, &size) ||
	    size != XSTATE_PKRU_SIZE)
		SKIP(return false,
		     "CPU does not enumerate XSAVE component 9 (PKRU)");
	return true;
}

TEST(ptrace_getregset_reads_tracee_pkru)
{
	uint32_t after = 0, initial;

	if (!require_pku(_metadata))
		return;
	if (!require_xstate_pkru(_metadata))
		return;
	initial = interrupted_pkru();
	ptrace_pkru_round_trip(_metadata, initial, initial, &after);
	EXPECT_EQ(initial, after);
}

TEST(ptrace_setregset_writes_tracee_pkru)
{
	uint32_t after = 0, initial, replacement;

	if (!require_pku(_metadata))
		return;
	if (!require_xstate_pkru(_metadata))
		return;
	initial = interrupted_pkru();
	replacement = pkru_with_rights(initial, SCRATCH_KEY_C, PKEY_ALLOW_ALL);
	ptrace_pkru_round_trip(_metadata, initial, replacement, &after);
	EXPECT_EQ(replacement, after);
}

/* ==================================================================== */
/* Core dumps                                                           */
/* ==================================================================== */

#define CORE_PATTERN_SYSCTL	"/proc/sys/kernel/core_pattern"
/* The kernel's limit on core_pattern (CORENAME_MAX_SIZE), with the NUL. */
#define CORE_PATTERN_MAX	128
#define CORE_FILE_PREFIX	"/tmp/pkeys_core."
/* %p: the dumping process's PID, so each round has a file of its own. */
#define CORE_FILE_PATTERN	CORE_FILE_PREFIX "%p"
/* Crashes per test: every one has to record the live PKRU. */
#define CORE_DUMP_ROUNDS	3
/* Far more than headers and notes need once coredump_filter is 0. */
#define CORE_FILE_MAX		(64 << 20)
/*
 * ELF notes: 4-byte aligned names and descriptors (the core dump's
 * NT_PRSTATUS is in a "CORE" note, the XSAVE image in a "LINUX" one).
 */
#define NOTE_ALIGN		4
#define NOTE_ALIGNED(len)	(((len) + NOTE_ALIGN - 1) & ~(size_t)(NOTE_ALIGN - 1))

/* The uapi ELF structures of this program's class, as the core uses. */
#ifdef __x86_64__
# define core_ehdr		elf64_hdr
# define core_phdr		elf64_phdr
# define core_nhdr		elf64_note
# define CORE_ELF_CLASS		ELFCLASS64
# define CORE_ELF_MACHINE	EM_X86_64
#else
# define core_ehdr		elf32_hdr
# define core_phdr		elf32_phdr
# define core_nhdr		elf32_note
# define CORE_ELF_CLASS		ELFCLASS32
# define CORE_ELF_MACHINE	EM_386
#endif

/*
 * WRPKRU and, as the very next instruction, a store to @word: no system
 * call, no compiler-generated code, nothing that could reach the
 * scheduler, runs between the change of rights and the store.
 */
static inline void wrpkru_and_store(uint32_t pkru, uint32_t *word)
{
	asm volatile(".byte 0x0f, 0x01, 0xef\n\t"
		     "movl %%eax, (%[word])"
		     : : "a" (pkru), "c" (0), "d" (0), [word] "r" (word)
		     : "memory");
}

/*
 * Child: write-protect a keyed page with WRPKRU and store to it at once,
 * so the SIGSEGV (default action: dump core) comes with a PKRU that no
 * context switch has seen.  The value goes to @fd before the WRPKRU.
 */
static __noreturn void core_dump_child(int fd)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	size_t page = page_size();
	uint32_t *word, pkru;
	int key, filter;

	if (setrlimit(RLIMIT_CORE, &unlimited))
		_exit(CHILD_SETUP_FAILED);
	/* Headers and notes are all the test reads: dump no memory. */
	filter = open("/proc/self/coredump_filter", O_WRONLY);
	if (filter >= 0) {
		if (write(filter, "0", 1) != 1)
			_exit(CHILD_SETUP_FAILED);
		close(filter);
	}
	/* Not the harness's handler: the fault must kill and dump. */
	signal(SIGSEGV, SIG_DFL);
	word = map_anon(page, PROT_READ | PROT_WRITE);
	key = alloc_key(PKEY_ALLOW_ALL);
	if (!word || key <= DEFAULT_PKEY ||
	    sys_pkey_mprotect(word, page, PROT_READ | PROT_WRITE, key))
		_exit(CHILD_SETUP_FAILED);
	/*
	 * Unlike the PKRU at fork() (key access-disabled by default) and
	 * after pkey_alloc() (key open): only write-disable on the key.
	 */
	pkru = pkru_with_rights(rdpkru(), key, PKEY_DISABLE_WRITE);
	if (write(fd, &pkru, sizeof(pkru)) != sizeof(pkru))
		_exit(CHILD_SETUP_FAILED);
	wrpkru_and_store(pkru, probe_word(word));
	_exit(CHILD_ACCESS_NOT_DENIED);
}

/*
 * Find the NT_X86_XSTATE note of thread @tid in the ELF core file
 * @core: a core dump gives each thread an NT_PRSTATUS note followed by
 * its other register sets.  Returns NULL and sets *@xstate and *@size,
 * or says what is wrong with the file.
 */
static const char *core_thread_xstate(const uint8_t *core, size_t len,
				      pid_t tid, const uint8_t **xstate,
				      size_t *size)
{
	const struct core_ehdr *eh = (const struct core_ehdr *)core;
	struct elf_prstatus prstatus;
	struct core_phdr ph;
	struct core_nhdr nh;
	pid_t note_tid = 0;
	size_t pos, end, name, desc;
	int i;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return "not an ELF file";
	if (eh->e_ident[EI_CLASS] != CORE_ELF_CLASS ||
	    eh->e_type != ET_CORE || eh->e_machine != CORE_ELF_MACHINE)
		return "not an ELF core file of this program's class and machine";
	if (eh->e_phentsize != sizeof(ph) || eh->e_phoff > len ||
	    (len - eh->e_phoff) / sizeof(ph) < eh->e_phnum)
		return "program headers outside the file";
	for (i = 0; i < eh->e_phnum; i++) {
		memcpy(&ph, core + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_NOTE)
			continue;
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
			return "PT_NOTE segment outside the file";
		pos = ph.p_offset;
		end = ph.p_offset + ph.p_filesz;
		while (end - pos >= sizeof(nh)) {
			memcpy(&nh, core + pos, sizeof(nh));
			name = pos + sizeof(nh);
			desc = name + NOTE_ALIGNED(nh.n_namesz);
			if (NOTE_ALIGNED(nh.n_namesz) > end - name ||
			    NOTE_ALIGNED(nh.n_descsz) > end - desc)
				return "note runs past its PT_NOTE segment";
			if (nh.n_type == NT_PRSTATUS) {
				if (nh.n_descsz < sizeof(prstatus))
					return "NT_PRSTATUS note too short";
				memcpy(&prstatus, core + desc, sizeof(prstatus));
				note_tid = prstatus.pr_pid;
			} else if (nh.n_type == NT_X86_XSTATE && note_tid == tid) {
				*xstate = core + desc;
				*size = nh.n_descsz;
				return NULL;
			}
			pos = desc + NOTE_ALIGNED(nh.n_descsz);
		}
	}
	return "no NT_X86_XSTATE note for the crashing thread";
}

/* Read all of @path (at most CORE_FILE_MAX bytes) into a new buffer. */
static uint8_t *read_core_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	ssize_t ret;
	size_t done = 0;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || st.st_size <= 0 || st.st_size > CORE_FILE_MAX) {
		close(fd);
		return NULL;
	}
	buf = malloc(st.st_size);
	while (buf && done < (size_t)st.st_size) {
		ret = read(fd, buf + done, st.st_size - done);
		if (ret <= 0) {
			free(buf);
			buf = NULL;
			break;
		}
		done += ret;
	}
	close(fd);
	*len = done;
	return buf;
}

/* core_pattern points at /tmp for the test and is put back afterwards. */
FIXTURE(core_dump) {
	char saved_pattern[CORE_PATTERN_MAX];
	bool have_saved;
	char core_path[64];
};

/* 0, or the errno of writing @pattern (and a newline) to core_pattern. */
static int write_core_pattern(const char *pattern)
{
	char text[CORE_PATTERN_MAX + 1];

	/* The kernel refuses a longer pattern anyway. */
	snprintf(text, sizeof(text), "%s\n", pattern);
	return write_sysctl(CORE_PATTERN_SYSCTL, text);
}

FIXTURE_SETUP(core_dump)
{
	FILE *f;
	int err;

	if (!require_pku(_metadata))
		return;
	if (!require_xstate_pkru(_metadata))
		return;
	if (geteuid())
		SKIP(return, "changing %s needs root", CORE_PATTERN_SYSCTL);
	f = fopen(CORE_PATTERN_SYSCTL, "r");
	if (!f)
		SKIP(return, "no %s (CONFIG_COREDUMP off?)",
		     CORE_PATTERN_SYSCTL);
	if (!fgets(self->saved_pattern, sizeof(self->saved_pattern), f))
		self->saved_pattern[0] = '\0';
	fclose(f);
	self->saved_pattern[strcspn(self->saved_pattern, "\n")] = '\0';
	err = write_core_pattern(CORE_FILE_PATTERN);
	if (err)
		SKIP(return, "cannot set %s: %s", CORE_PATTERN_SYSCTL,
		     strerror(err));
	self->have_saved = true;
}

FIXTURE_TEARDOWN(core_dump)
{
	if (self->core_path[0])
		unlink(self->core_path);
	if (self->have_saved)
		EXPECT_EQ(0, write_core_pattern(self->saved_pattern));
}

/*
 * One crash: the child's core file must hold, in its own NT_X86_XSTATE
 * note, the PKRU it had when it faulted.
 */
static void check_core_dump_pkru(struct __test_metadata *_metadata,
				 char *core_path, size_t path_size)
{
	unsigned int offset = xstate_component_offset(XFEATURE_PKRU, NULL);
	uint32_t expected = 0, recorded = 0;
	const uint8_t *xstate = NULL;
	size_t len = 0, size = 0;
	const char *err;
	int fds[2], status;
	uint8_t *core;
	uint64_t bv;
	pid_t pid;

	ASSERT_EQ(0, pipe(fds));
	fflush(NULL);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		core_dump_child(fds[1]);
	}
	close(fds[1]);
	snprintf(core_path, path_size, CORE_FILE_PREFIX "%d", (int)pid);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV)
		TH_LOG("child did not die of SIGSEGV: %s",
		       WIFEXITED(status) ?
		       child_result_name(WEXITSTATUS(status)) :
		       strsignal(WTERMSIG(status)));
	ASSERT_TRUE(WCOREDUMP(status))
		TH_LOG("no core dump (core_pattern %s)", CORE_FILE_PATTERN);
	ASSERT_EQ((ssize_t)sizeof(expected),
		  read(fds[0], &expected, sizeof(expected)));
	close(fds[0]);

	core = read_core_file(core_path, &len);
	ASSERT_FALSE(!core)
		TH_LOG("cannot read %s: %s", core_path, strerror(errno));
	err = core_thread_xstate(core, len, pid, &xstate, &size);
	ASSERT_TRUE(!err)
		TH_LOG("%s: %s", core_path, err);
	ASSERT_GE(size, offset + sizeof(recorded))
		TH_LOG("XSAVE image of %zu bytes has no PKRU", size);
	memcpy(&bv, xstate + XSAVE_XSTATE_BV_OFFSET, sizeof(bv));
	/* A clear XSTATE_BV bit stands for PKRU's init value, 0. */
	if (bv & XFEATURE_MASK_PKRU)
		memcpy(&recorded, xstate + offset, sizeof(recorded));
	EXPECT_EQ(expected, recorded)
		TH_LOG("core dump PKRU 0x%08x (XSTATE_BV PKRU bit %d), live PKRU 0x%08x",
		       recorded, !!(bv & XFEATURE_MASK_PKRU), expected);
	free(core);
	unlink(core_path);
	core_path[0] = '\0';
}

TEST_F(core_dump, records_live_pkru)
{
	int round;

	for (round = 0; round < CORE_DUMP_ROUNDS; round++) {
		check_core_dump_pkru(_metadata, self->core_path,
				     sizeof(self->core_path));
	}
}

/* ==================================================================== */
/* Context switches                                                     */
/* ==================================================================== */

struct switch_worker {
	struct test_thread thread;
	struct spin_barrier *start;
	int cpu;		/* -1: not pinned */
	uint32_t pkru;
	long mismatches;
	uint32_t bad_value;
	int pin_error;
};

static void *switch_worker_fn(void *arg)
{
	struct switch_worker *w = arg;
	cpu_set_t set;
	uint32_t now;
	int i;

	if (w->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		w->pin_error = pthread_setaffinity_np(pthread_self(),
						      sizeof(set), &set);
	}
	wrpkru(w->pkru);
	spin_barrier_wait(w->start);
	for (i = 0; i < SWITCH_ROUNDS; i++) {
		sched_yield();
		now = rdpkru();
		if (now != w->pkru) {
			w->mismatches++;
			w->bad_value = now;
		}
	}
	return NULL;
}

FIXTURE(context_switch) {
	int cpus[SWITCH_THREADS];
	int nr_cpus;
};

FIXTURE_SETUP(context_switch)
{
	cpu_set_t allowed;
	int cpu;

	if (!require_pku(_metadata))
		return;
	ASSERT_EQ(0, sched_getaffinity(0, sizeof(allowed), &allowed));
	for (cpu = 0; cpu < CPU_SETSIZE && self->nr_cpus < SWITCH_THREADS; cpu++)
		if (CPU_ISSET(cpu, &allowed))
			self->cpus[self->nr_cpus++] = cpu;
}

FIXTURE_TEARDOWN(context_switch)
{
}

/* Threads with distinct PKRU values, spread over the CPUs, yield a lot. */
TEST_F_TIMEOUT(context_switch, pkru_survives_context_switches,
	       SWITCH_TIMEOUT_SECS)
{
	struct switch_worker workers[SWITCH_THREADS];
	struct spin_barrier start;
	int i;

	if (self->nr_cpus < 2)
		TH_LOG("one CPU: threads are not pinned");
	spin_barrier_init(&start, SWITCH_THREADS);
	for (i = 0; i < SWITCH_THREADS; i++) {
		workers[i] = (struct switch_worker) {
			.start = &start,
			.cpu = self->nr_cpus < 2 ? -1 :
				self->cpus[i % self->nr_cpus],
			/* Thread i opens key i + 1: all values differ. */
			.pkru = pkru_with_rights(PKRU_DENY_ALL_BUT_KEY0, i + 1,
						 PKEY_ALLOW_ALL),
		};
		ASSERT_EQ(0, start_thread(&workers[i].thread, switch_worker_fn,
					  &workers[i]));
	}
	for (i = 0; i < SWITCH_THREADS; i++)
		wait_thread(&workers[i].thread);
	for (i = 0; i < SWITCH_THREADS; i++) {
		EXPECT_EQ(0, workers[i].pin_error);
		EXPECT_EQ(0, workers[i].mismatches)
			TH_LOG("thread %d: PKRU 0x%08x instead of 0x%08x",
			       i, workers[i].bad_value, workers[i].pkru);
	}
	EXPECT_EQ(startup_pkru, rdpkru());
}

/* ==================================================================== */
/* Without PKU                                                          */
/* ==================================================================== */

/*
 * The very first pkey_alloc() of a process already reports ENOSPC.
 * Kernels whose mm_pkey_alloc() does not check that PKU is enabled
 * return EINVAL here once (and ENOSPC afterwards).
 */
TEST(nopku_first_alloc_fails_enospc)
{
	long ret;
	int err;

	if (!require_no_pku(_metadata))
		return;
	errno = 0;
	ret = sys_pkey_alloc(0, PKEY_ALLOW_ALL);
	err = errno;
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOSPC, err) {
		if (err == EINVAL)
			TH_LOG("%s",
			       "EINVAL: kernel lacks \"x86/pkeys: Fix pkey_alloc() return value when pkeys are not supported\"");
	}
}

TEST(nopku_alloc_keeps_failing_enospc)
{
	if (!require_no_pku(_metadata))
		return;
	/* Whatever the first call did, later calls must say ENOSPC. */
	sys_pkey_alloc(0, PKEY_ALLOW_ALL);
	EXPECT_SYSCALL_ERRNO(ENOSPC, sys_pkey_alloc(0, PKEY_ALLOW_ALL));
	EXPECT_SYSCALL_ERRNO(ENOSPC, sys_pkey_alloc(0, PKEY_DISABLE_ACCESS));
}

TEST(nopku_pkey_mprotect_without_key_is_mprotect)
{
	uint32_t *word;
	uint32_t value;
	void *area;

	if (!require_no_pku(_metadata))
		return;
	area = map_anon(page_size(), PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	word = probe_word(area);
	WRITE_ONCE(*word, MARKER);
	ASSERT_EQ(0, sys_pkey_mprotect(area, page_size(), PROT_READ, NO_PKEY));
	ASSERT_TRUE(probe_read(word, &value));
	EXPECT_EQ(MARKER, value);
	ASSERT_FALSE(probe_write(word, ~MARKER));
	expect_fault(_metadata, SEGV_ACCERR, word, 0);
}

TEST(nopku_pkey_mprotect_with_any_key_einval)
{
	size_t page = page_size();
	void *area;
	int key;

	if (!require_no_pku(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	for (key = 0; key < NR_PKEYS; key++)
		EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_mprotect(area, page,
							       PROT_READ, key));
}

TEST(nopku_pkey_free_einval)
{
	int key;

	if (!require_no_pku(_metadata))
		return;
	for (key = 0; key < NR_PKEYS; key++)
		EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_free(key));
}

TEST(nopku_smaps_has_no_protection_key)
{
	void *area;

	if (!require_no_pku(_metadata))
		return;
	area = map_anon(page_size(), PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	EXPECT_EQ(-1, smaps_pkey_at(area));
}

/* ==================================================================== */
/* Invalid arguments                                                    */
/* ==================================================================== */

TEST(alloc_nonzero_flags_einval)
{
	/* High bits that no flag uses; the flags have tests of their own. */
	static const unsigned long flags[] = { 0x40000000ul, 0x80000000ul,
					       ~0ul };
	unsigned int i;

	if (!require_pkey_syscalls(_metadata))
		return;
	for (i = 0; i < ARRAY_SIZE(flags); i++)
		EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_alloc(flags[i], 0));
}

TEST(alloc_rights_outside_mask_einval)
{
	/* 0x4 is PKEY_DISABLE_EXECUTE on other architectures. */
	static const unsigned long rights[] = { 0x4, 0x8,
						0x80000000ul, ~0ul };
	unsigned int i;

	if (!require_pkey_syscalls(_metadata))
		return;
	for (i = 0; i < ARRAY_SIZE(rights); i++)
		EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_alloc(0, rights[i]));
}

TEST(free_negative_key_einval)
{
	static const long keys[] = { -1, -2, INT_MIN };
	unsigned int i;

	if (!require_pkey_syscalls(_metadata))
		return;
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_free(keys[i]));
}

TEST(free_out_of_range_key_einval)
{
	static const long keys[] = { NR_PKEYS, NR_PKEYS + 1, INT_MAX };
	unsigned int i;

	if (!require_pkey_syscalls(_metadata))
		return;
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_free(keys[i]));
}

TEST(free_unallocated_key_einval)
{
	int key;

	if (!require_pkey_syscalls(_metadata))
		return;
	for (key = DEFAULT_PKEY + 1; key < NR_PKEYS; key++)
		EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_free(key));
}

TEST(free_twice_einval)
{
	int key;

	if (!require_pku(_metadata))
		return;
	key = alloc_key(PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	ASSERT_EQ(0, sys_pkey_free(key));
	EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_free(key));
}

/* A mapped, writable page followed by an unmapped one. */
static char *map_page_before_hole(void)
{
	size_t page = page_size();
	char *area = map_anon(2 * page, PROT_READ | PROT_WRITE);

	if (area && munmap(area + page, page))
		return NULL;
	return area;
}

TEST(pkey_mprotect_unaligned_start_einval)
{
	char *area;

	if (!require_pkey_syscalls(_metadata))
		return;
	area = map_anon(page_size(), PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_mprotect(area + 1, page_size(),
						       PROT_READ, NO_PKEY));
}

/*
 * start + len beyond the end of the address space.  64-bit: the end
 * wraps around and the call fails up front.  32-bit on a 64-bit kernel:
 * the kernel's arithmetic does not wrap, and the range runs into the
 * hole after the page; same ENOMEM (the page keeps its protection, as
 * the request does not change it).
 */
TEST(pkey_mprotect_wrapping_length_enomem)
{
	size_t page = page_size();
	char *area;

	if (!require_pkey_syscalls(_metadata))
		return;
	area = map_page_before_hole();
	ASSERT_FALSE(!area);
	EXPECT_SYSCALL_ERRNO(ENOMEM, sys_pkey_mprotect(area, SIZE_MAX,
						       PROT_READ | PROT_WRITE,
						       NO_PKEY));
	EXPECT_SYSCALL_ERRNO(ENOMEM,
			     sys_pkey_mprotect(area,
					       (size_t)0 - (uintptr_t)area + page,
					       PROT_READ | PROT_WRITE, NO_PKEY));
}

TEST(pkey_mprotect_unmapped_range_enomem)
{
	size_t page = page_size();
	char *area;

	if (!require_pkey_syscalls(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	ASSERT_EQ(0, munmap(area, page));
	EXPECT_SYSCALL_ERRNO(ENOMEM, sys_pkey_mprotect(area, page, PROT_READ,
						       NO_PKEY));
}

TEST(pkey_mprotect_range_with_hole_enomem)
{
	size_t page = page_size();
	char *area;

	if (!require_pkey_syscalls(_metadata))
		return;
	area = map_anon(3 * page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	ASSERT_EQ(0, munmap(area + page, page));
	EXPECT_SYSCALL_ERRNO(ENOMEM, sys_pkey_mprotect(area, 3 * page,
						       PROT_READ | PROT_WRITE,
						       NO_PKEY));
}

TEST(pkey_mprotect_unknown_prot_bits_einval)
{
	static const unsigned long prots[] = { PROT_READ | 0x10, 0x40,
					       PROT_READ | 0x100000 };
	size_t page = page_size();
	unsigned int i;
	char *area;

	if (!require_pkey_syscalls(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	for (i = 0; i < ARRAY_SIZE(prots); i++)
		EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_mprotect(area, page,
							       prots[i], NO_PKEY));
}

TEST(pkey_mprotect_growsdown_and_growsup_einval)
{
	size_t page = page_size();
	char *area;

	if (!require_pkey_syscalls(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	EXPECT_SYSCALL_ERRNO(EINVAL,
			     sys_pkey_mprotect(area, page,
					       PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP,
					       NO_PKEY));
}

TEST(pkey_mprotect_out_of_range_key_einval)
{
	static const long keys[] = { -2, INT_MIN, NR_PKEYS, INT_MAX };
	size_t page = page_size();
	unsigned int i;
	char *area;

	if (!require_pkey_syscalls(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_mprotect(area, page,
							       PROT_READ, keys[i]));
}

TEST(pkey_mprotect_unallocated_key_einval)
{
	size_t page = page_size();
	char *area;

	if (!require_pkey_syscalls(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_mprotect(area, page, PROT_READ,
						       NR_PKEYS - 1));
}

TEST(pkey_mprotect_freed_key_einval)
{
	size_t page = page_size();
	char *area;
	int key;

	if (!require_pku(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	key = alloc_key(PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	ASSERT_EQ(0, sys_pkey_free(key));
	EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_mprotect(area, page, PROT_READ,
						       key));
}

/* A zero length succeeds without looking at the (unmapped) range. */
TEST(pkey_mprotect_zero_length_succeeds)
{
	size_t page = page_size();
	char *area;

	if (!require_pkey_syscalls(_metadata))
		return;
	area = map_anon(page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!area);
	ASSERT_EQ(0, munmap(area, page));
	EXPECT_EQ(0, sys_pkey_mprotect(area, 0, PROT_READ, NO_PKEY));
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], EXEC_CHECK_ARG))
		return exec_check_main(argc, argv);

	self_argv0 = argv[0];
	/* Nothing ran WRPKRU yet: this is what the kernel gives a new program. */
	if (cpu_has_ospke())
		startup_pkru = rdpkru();
	/* Inherited by every test process; see probe_read(). */
	if (install_fault_catcher()) {
		perror("sigaction(SIGSEGV)");
		return KSFT_FAIL;
	}
	return test_harness_run(argc, argv);
}
