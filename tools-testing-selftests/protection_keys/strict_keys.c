// SPDX-License-Identifier: GPL-2.0
/*
 * Strict protection keys: pkey_alloc(PKEY_ALLOC_STRICT).
 *
 * A strict key cannot be freed while a mapping carries it (EBUSY), and
 * mmap(MAP_FIXED) or mremap(MREMAP_FIXED) over memory that is all mapped
 * with one strict key gives the new mapping that key.  A range that
 * mixes a strict key with anything else cannot be replaced (EBUSY).
 * Keys allocated without the flag behave as on any kernel, and some
 * tests check that too.  Where the kernel refuses the flag, the tests
 * that need it are skipped and say so.
 *
 * The key of a mapping is read from /proc/self/smaps and, with the key
 * access-disabled, from the SEGV_PKUERR of a read.  Nothing executes
 * RDPKRU or WRPKRU unless CPUID reports OSPKE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <sys/auxv.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "pkeys_util.h"
#include "../kselftest_harness.h"
#include "pkeys_harness.h"

#ifndef MREMAP_DONTUNMAP
# define MREMAP_DONTUNMAP	4
#endif
#ifndef MAP_FIXED_NOREPLACE
# define MAP_FIXED_NOREPLACE	0x100000
#endif

/* Pages in the keyed range of a test. */
#define NR_PAGES		4
/* Flag bits that no pkey_alloc() flag uses. */
#define UNUSED_FLAG_LOW		0x40000000ul
#define UNUSED_FLAG_HIGH	0x80000000ul
/* Argument that makes main() run the checks of the exec test. */
#define EXEC_CHECK_ARG		"--strict-keys-exec-check"

static char *self_argv0;

/* Exit codes of helper child processes. */
enum child_result {
	CHILD_OK = 0,
	CHILD_FREED_WHILE_MAPPED,
	CHILD_FREE_FAILED,
	CHILD_SETUP_FAILED,
	CHILD_OTHER_KEY,
	CHILD_EXEC_FAILED,
};

static const char *child_result_name(int code)
{
	switch (code) {
	case CHILD_OK:			return "ok";
	case CHILD_FREED_WHILE_MAPPED:	return "strict key freed while mapped";
	case CHILD_FREE_FAILED:		return "pkey_free failed";
	case CHILD_SETUP_FAILED:	return "child setup failed";
	case CHILD_OTHER_KEY:		return "pkey_alloc gave another key";
	case CHILD_EXEC_FAILED:		return "execv failed";
	default:			return "killed or unknown status";
	}
}

/* ==================================================================== */
/* Feature probes                                                       */
/* ==================================================================== */

/*
 * PKU, and a kernel that takes the flag: probed by allocating a key.
 * See the require_*() helpers in pkeys_harness.h.
 */
static bool require_strict(struct __test_metadata *_metadata)
{
	long key;

	if (!require_pku(_metadata))
		return false;
	errno = 0;
	key = sys_pkey_alloc(PKEY_ALLOC_STRICT, PKEY_ALLOW_ALL);
	if (key < 0 && errno == EINVAL)
		SKIP(return false, "kernel has no PKEY_ALLOC_STRICT (EINVAL)");
	if (key < 0)
		SKIP(return false, "pkey_alloc(PKEY_ALLOC_STRICT): %s",
		     strerror(errno));
	sys_pkey_free(key);
	return true;
}

/* ==================================================================== */
/* Helpers                                                              */
/* ==================================================================== */

static uint32_t *word_at(void *base, unsigned int page)
{
	return (uint32_t *)((char *)base + page * page_size() + PROBE_OFFSET);
}

/* NR_PAGES of read-write memory with @key and MARKER in every page. */
static void *map_keyed(int key)
{
	size_t len = NR_PAGES * page_size();
	void *p = map_anon(len, PROT_READ | PROT_WRITE);
	unsigned int i;

	if (!p)
		return NULL;
	if (sys_pkey_mprotect(p, len, PROT_READ | PROT_WRITE, key)) {
		munmap(p, len);
		return NULL;
	}
	for (i = 0; i < NR_PAGES; i++)
		*word_at(p, i) = MARKER;
	return p;
}

/* mmap(MAP_FIXED) of fresh anonymous memory at @addr; MAP_FAILED or @addr. */
static void *map_fixed(void *addr, size_t len, int prot)
{
	return mmap(addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		    -1, 0);
}

/* A free range of @len bytes: reserved, then released. */
static void *free_range(size_t len)
{
	void *p = map_anon(len, PROT_NONE);

	if (p)
		munmap(p, len);
	return p;
}

/* Every mapping in [@addr, @addr + @len) has @key, and there is one. */
static bool range_has_key(void *addr, size_t len, int key)
{
	struct vma_info vmas[NR_PAGES + 2];
	int n = smaps_vmas_in(addr, len, vmas, ARRAY_SIZE(vmas));
	int i;

	if (n <= 0 || n > (int)ARRAY_SIZE(vmas))
		return false;
	for (i = 0; i < n; i++) {
		if (vmas[i].pkey != key)
			return false;
	}
	return true;
}

/*
 * A read of @addr with @key access-disabled faults with SEGV_PKUERR for
 * @key: the page table entry carries the key, not only the VMA.
 */
static bool read_faults_with_key(struct __test_metadata *_metadata,
				 uint32_t *addr, int key)
{
	uint32_t pkru = rdpkru(), value;
	bool read;

	set_key_rights(key, PKEY_DISABLE_ACCESS);
	read = probe_read(addr, &value);
	wrpkru(pkru);
	EXPECT_FALSE(read) TH_LOG("read with key %d access-disabled succeeded", key);
	if (read)
		return false;
	EXPECT_EQ(SEGV_PKUERR, last_fault.code);
	EXPECT_EQ(key, last_fault.pkey);
	return last_fault.code == SEGV_PKUERR && last_fault.pkey == key;
}

/* ==================================================================== */
/* pkey_alloc()                                                         */
/* ==================================================================== */

TEST(alloc_strict_accepted)
{
	int key;

	if (!require_strict(_metadata))
		return;
	key = (int)sys_pkey_alloc(PKEY_ALLOC_STRICT, PKEY_DISABLE_WRITE);
	ASSERT_GT(key, DEFAULT_PKEY);
	/* Like plain pkey_alloc(): the rights are the calling thread's. */
	EXPECT_EQ((uint32_t)PKEY_DISABLE_WRITE, pkru_key_rights(rdpkru(), key));
	EXPECT_EQ(0, sys_pkey_free(key));
}

TEST(alloc_unknown_flags_einval)
{
	static const unsigned long flags[] = {
		UNUSED_FLAG_LOW, PKEY_ALLOC_STRICT | UNUSED_FLAG_LOW,
		PKEY_ALLOC_STRICT | PKEY_ALLOC_PROCESS | UNUSED_FLAG_HIGH,
		~0ul,
	};
	unsigned int i;

	if (!require_pkey_syscalls(_metadata))
		return;
	for (i = 0; i < ARRAY_SIZE(flags); i++)
		EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_alloc(flags[i], 0));
}

/* Every user key can be strict. */
TEST(alloc_strict_until_enospc)
{
	int n = 0;
	long key;

	if (!require_strict(_metadata))
		return;
	for (;;) {
		errno = 0;
		key = sys_pkey_alloc(PKEY_ALLOC_STRICT, PKEY_ALLOW_ALL);
		if (key < 0 || n > NR_USER_PKEYS)
			break;
		n++;
	}
	EXPECT_EQ(-1, key);
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(NR_USER_PKEYS, n);
}

/* ==================================================================== */
/* pkey_free()                                                          */
/* ==================================================================== */

/*
 * What most tests start from: a new strict key that allows everything,
 * and NR_PAGES of memory that map_keyed() tagged with it.
 */
FIXTURE(strict_range) {
	size_t len;
	uint32_t *base;
	int key;
};

FIXTURE_SETUP(strict_range)
{
	if (!require_strict(_metadata))
		return;
	self->len = NR_PAGES * page_size();
	self->key = (int)sys_pkey_alloc(PKEY_ALLOC_STRICT, PKEY_ALLOW_ALL);
	ASSERT_GT(self->key, DEFAULT_PKEY);
	self->base = map_keyed(self->key);
	ASSERT_FALSE(!self->base);
}

/* Every test runs in a process of its own, whose exit frees it all. */
FIXTURE_TEARDOWN(strict_range)
{
}

TEST_F(strict_range, free_while_mapped_ebusy)
{
	size_t page = page_size();

	EXPECT_SYSCALL_ERRNO(EBUSY, sys_pkey_free(self->key));
	/* Still allocated: pkey_mprotect() takes it. */
	EXPECT_EQ(0, sys_pkey_mprotect(self->base, page, PROT_READ, self->key));
	EXPECT_TRUE(range_has_key(self->base, self->len, self->key));
	/* One page left is still a mapping with the key. */
	ASSERT_EQ(0, munmap(self->base, self->len - page));
	EXPECT_SYSCALL_ERRNO(EBUSY, sys_pkey_free(self->key));

	ASSERT_EQ(0, munmap((char *)self->base + self->len - page, page));
	EXPECT_EQ(0, sys_pkey_free(self->key));
	/* Freed: no longer allocated. */
	EXPECT_SYSCALL_ERRNO(EINVAL, sys_pkey_free(self->key));
}

TEST_F(strict_range, free_after_retag)
{
	int other;

	other = (int)sys_pkey_alloc(0, PKEY_ALLOW_ALL);
	ASSERT_GT(other, DEFAULT_PKEY);

	ASSERT_EQ(0, sys_pkey_mprotect(self->base, self->len,
				       PROT_READ | PROT_WRITE, other));
	EXPECT_EQ(0, sys_pkey_free(self->key));
	EXPECT_TRUE(range_has_key(self->base, self->len, other));
	EXPECT_EQ(MARKER, *word_at(self->base, 0));
}

/* A key allocated without the flag is freed with mappings left, as ever. */
TEST(free_plain_key_while_mapped)
{
	size_t len = NR_PAGES * page_size();
	uint32_t *p;
	int key;

	if (!require_pku(_metadata))
		return;
	key = (int)sys_pkey_alloc(0, PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	p = map_keyed(key);
	ASSERT_FALSE(!p);

	EXPECT_EQ(0, sys_pkey_free(key));
	/* The mapping keeps the freed key. */
	EXPECT_TRUE(range_has_key(p, len, key));
}

/* ==================================================================== */
/* mmap(MAP_FIXED)                                                      */
/* ==================================================================== */

FIXTURE(map_fixed) {
	size_t page;
	uint32_t *base;
	int key;
};

/* The part of the keyed range that mmap(MAP_FIXED) replaces. */
FIXTURE_VARIANT(map_fixed) {
	unsigned int first_page;
	unsigned int nr_pages;
	int prot;
};

FIXTURE_VARIANT_ADD(map_fixed, whole_range) {
	.first_page = 0,
	.nr_pages = NR_PAGES,
	.prot = PROT_READ | PROT_WRITE,
};

FIXTURE_VARIANT_ADD(map_fixed, middle_page) {
	.first_page = 1,
	.nr_pages = 1,
	.prot = PROT_READ | PROT_WRITE,
};

/* Without strict keys the new mapping would get the execute-only key. */
FIXTURE_VARIANT_ADD(map_fixed, whole_range_exec_only) {
	.first_page = 0,
	.nr_pages = NR_PAGES,
	.prot = PROT_EXEC,
};

FIXTURE_SETUP(map_fixed)
{
	self->base = NULL;
	if (!require_strict(_metadata))
		return;
	self->page = page_size();
	self->key = (int)sys_pkey_alloc(PKEY_ALLOC_STRICT, PKEY_ALLOW_ALL);
	ASSERT_GT(self->key, DEFAULT_PKEY);
	self->base = map_keyed(self->key);
	ASSERT_FALSE(!self->base);
}

FIXTURE_TEARDOWN(map_fixed)
{
}

TEST_F(map_fixed, keeps_strict_key)
{
	size_t len = variant->nr_pages * self->page;
	void *addr;

	if (!self->base)
		return;
	addr = (char *)self->base + variant->first_page * self->page;
	ASSERT_TRUE(map_fixed(addr, len, variant->prot) == addr);
	EXPECT_TRUE(range_has_key(self->base, NR_PAGES * self->page, self->key));
	if (variant->prot & PROT_READ) {
		/* A new mapping: the old contents are gone. */
		EXPECT_EQ(0u, *word_at(addr, 0));
		EXPECT_TRUE(probe_write(word_at(addr, 0), MARKER));
		read_faults_with_key(_metadata, word_at(addr, 0), self->key);
	}
	EXPECT_SYSCALL_ERRNO(EBUSY, sys_pkey_free(self->key));
}

/* Only replacement in one call keeps the key. */
TEST_F(map_fixed, munmap_then_map_drops_key)
{
	size_t len = NR_PAGES * self->page;

	if (!self->base)
		return;
	ASSERT_EQ(0, munmap(self->base, len));
	ASSERT_TRUE(map_fixed(self->base, len, PROT_READ | PROT_WRITE) ==
		    self->base);
	EXPECT_TRUE(range_has_key(self->base, len, DEFAULT_PKEY));
	EXPECT_EQ(0, sys_pkey_free(self->key));
}

TEST_F(map_fixed, noreplace_eexist)
{
	size_t len = NR_PAGES * self->page;

	if (!self->base)
		return;
	EXPECT_TRUE(mmap(self->base, len, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			 -1, 0) == MAP_FAILED);
	EXPECT_EQ(EEXIST, errno);
	EXPECT_TRUE(range_has_key(self->base, len, self->key));
}

/*
 * A range that the strict key covers only in part: refused, nothing
 * changed.  The key's mapping is followed by an unmapped page, a
 * mapping with key 0, or a mapping with another strict key.
 */
FIXTURE(map_fixed_mixed) {
	size_t page;
	uint32_t *base;
	int key;
};

FIXTURE_VARIANT(map_fixed_mixed) {
	bool unmapped;		/* the page after is not mapped */
	unsigned long neighbour_flags;	/* else pkey_alloc() flags of its key */
	bool neighbour_key0;	/* or key 0 */
};

FIXTURE_VARIANT_ADD(map_fixed_mixed, unmapped_page) {
	.unmapped = true,
};

FIXTURE_VARIANT_ADD(map_fixed_mixed, key0_page) {
	.neighbour_key0 = true,
};

FIXTURE_VARIANT_ADD(map_fixed_mixed, plain_key_page) {
	.neighbour_flags = 0,
};

FIXTURE_VARIANT_ADD(map_fixed_mixed, other_strict_key_page) {
	.neighbour_flags = PKEY_ALLOC_STRICT,
};

FIXTURE_SETUP(map_fixed_mixed)
{
	size_t len;
	void *next;
	int other;

	self->base = NULL;
	if (!require_strict(_metadata))
		return;
	self->page = page_size();
	len = NR_PAGES * self->page;
	self->key = (int)sys_pkey_alloc(PKEY_ALLOC_STRICT, PKEY_ALLOW_ALL);
	ASSERT_GT(self->key, DEFAULT_PKEY);
	/* One more page, so that the page after the range is ours. */
	self->base = map_anon(len + self->page, PROT_READ | PROT_WRITE);
	ASSERT_FALSE(!self->base);
	ASSERT_EQ(0, sys_pkey_mprotect(self->base, len, PROT_READ | PROT_WRITE,
				       self->key));
	*word_at(self->base, 0) = MARKER;
	next = (char *)self->base + len;
	if (variant->unmapped) {
		ASSERT_EQ(0, munmap(next, self->page));
	} else if (!variant->neighbour_key0) {
		other = (int)sys_pkey_alloc(variant->neighbour_flags,
					    PKEY_ALLOW_ALL);
		ASSERT_GT(other, DEFAULT_PKEY);
		ASSERT_EQ(0, sys_pkey_mprotect(next, self->page,
					       PROT_READ | PROT_WRITE, other));
	}
}

FIXTURE_TEARDOWN(map_fixed_mixed)
{
}

TEST_F(map_fixed_mixed, map_fixed_ebusy)
{
	size_t len = NR_PAGES * self->page;

	if (!self->base)
		return;
	/* The last page of the key's range and the page after it. */
	EXPECT_TRUE(map_fixed((char *)self->base + len - self->page,
			      2 * self->page, PROT_READ | PROT_WRITE) == MAP_FAILED);
	EXPECT_EQ(EBUSY, errno);
	EXPECT_TRUE(range_has_key(self->base, len, self->key));
	EXPECT_EQ(MARKER, *word_at(self->base, 0));
}

/* Memory with a key that is not strict loses it, as on any kernel. */
TEST(map_fixed_plain_key_dropped)
{
	size_t len = NR_PAGES * page_size();
	uint32_t *p;
	int key;

	if (!require_pku(_metadata))
		return;
	key = (int)sys_pkey_alloc(0, PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	p = map_keyed(key);
	ASSERT_FALSE(!p);
	ASSERT_TRUE(map_fixed(p, len, PROT_READ | PROT_WRITE) == p);
	EXPECT_TRUE(range_has_key(p, len, DEFAULT_PKEY));
}

/* mprotect(PROT_EXEC) does not swap a strict key for the execute-only one. */
TEST_F(strict_range, mprotect_exec_only_keeps_strict_key)
{
	ASSERT_EQ(0, mprotect(self->base, self->len, PROT_EXEC));
	EXPECT_TRUE(range_has_key(self->base, self->len, self->key));
}

/* ==================================================================== */
/* mremap(MREMAP_FIXED)                                                 */
/* ==================================================================== */

FIXTURE(mremap_fixed) {
	size_t len;
	uint32_t *src;
	uint32_t *dst;
	int key;
};

FIXTURE_VARIANT(mremap_fixed) {
	unsigned long flags;
};

FIXTURE_VARIANT_ADD(mremap_fixed, fixed) {
	.flags = MREMAP_MAYMOVE | MREMAP_FIXED,
};

FIXTURE_VARIANT_ADD(mremap_fixed, fixed_dontunmap) {
	.flags = MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
};

FIXTURE_SETUP(mremap_fixed)
{
	self->dst = NULL;
	if (!require_strict(_metadata))
		return;
	self->len = NR_PAGES * page_size();
	self->key = (int)sys_pkey_alloc(PKEY_ALLOC_STRICT, PKEY_ALLOW_ALL);
	ASSERT_GT(self->key, DEFAULT_PKEY);
	/* Key 0 memory with MARKER, to be moved into the key's range. */
	self->src = map_keyed(DEFAULT_PKEY);
	self->dst = map_keyed(self->key);
	ASSERT_FALSE(!self->src);
	ASSERT_FALSE(!self->dst);
}

FIXTURE_TEARDOWN(mremap_fixed)
{
}

TEST_F(mremap_fixed, into_strict_range_keeps_key)
{
	if (!self->dst)
		return;
	*word_at(self->src, 0) = ~MARKER;
	ASSERT_TRUE(mremap(self->src, self->len, self->len, variant->flags,
			   self->dst) == self->dst);
	EXPECT_TRUE(range_has_key(self->dst, self->len, self->key));
	/* The moved pages, with the strict key in their page table entries. */
	EXPECT_EQ(~MARKER, *word_at(self->dst, 0));
	read_faults_with_key(_metadata, word_at(self->dst, 0), self->key);
	if (variant->flags & MREMAP_DONTUNMAP)
		EXPECT_TRUE(range_has_key(self->src, self->len, DEFAULT_PKEY));
	EXPECT_SYSCALL_ERRNO(EBUSY, sys_pkey_free(self->key));
}

TEST_F(mremap_fixed, partly_strict_range_ebusy)
{
	size_t page = page_size();
	char *dst;

	if (!self->dst)
		return;
	/* Pages 1 and 2 of dst: the key's, and one unmapped after it. */
	ASSERT_EQ(0, munmap((char *)self->dst + 2 * page, 2 * page));
	dst = (char *)self->dst + page;
	EXPECT_TRUE(mremap(self->src, 2 * page, 2 * page, variant->flags,
			   dst) == MAP_FAILED);
	EXPECT_EQ(EBUSY, errno);
	EXPECT_TRUE(range_has_key(self->src, self->len, DEFAULT_PKEY));
	EXPECT_EQ(MARKER, *word_at(self->src, 0));
}

/* Into free space, the moved mapping keeps its own key, as ever. */
TEST_F(mremap_fixed, strict_mapping_into_free_range)
{
	void *dst;

	if (!self->dst)
		return;
	dst = free_range(self->len);
	ASSERT_FALSE(!dst);
	ASSERT_TRUE(mremap(self->dst, self->len, self->len, variant->flags,
			   dst) == dst);
	EXPECT_TRUE(range_has_key(dst, self->len, self->key));
}

/* ==================================================================== */
/* fork() and exec()                                                    */
/* ==================================================================== */

/* @arg: the strict key, mapped at strict_mapping in the parent too. */
static uint32_t *strict_mapping;

static int child_free_strict(void *arg)
{
	int key = *(int *)arg;

	if (sys_pkey_free(key) == 0)
		return CHILD_FREED_WHILE_MAPPED;
	if (errno != EBUSY)
		return CHILD_FREE_FAILED;
	if (munmap(strict_mapping, NR_PAGES * page_size()))
		return CHILD_SETUP_FAILED;
	return sys_pkey_free(key) ? CHILD_FREE_FAILED : CHILD_OK;
}

TEST_F(strict_range, fork_child_keeps_strictness)
{
	int ret;

	strict_mapping = self->base;
	ret = run_in_child_timeout(child_free_strict, &self->key, 0);
	EXPECT_EQ(CHILD_OK, ret) TH_LOG("child: %s", child_result_name(ret));
	/* The child's munmap() and pkey_free() were its own. */
	EXPECT_SYSCALL_ERRNO(EBUSY, sys_pkey_free(self->key));
}

/*
 * The exec'd image: the key the parent had as strict, allocated again
 * plainly, is freed with a mapping left.
 */
static int exec_check_main(int argc, char **argv)
{
	int key, want = argc > 2 ? atoi(argv[2]) : -1;
	void *p;

	key = (int)sys_pkey_alloc(0, PKEY_ALLOW_ALL);
	if (key != want)
		return CHILD_OTHER_KEY;
	p = map_keyed(key);
	if (!p)
		return CHILD_SETUP_FAILED;
	return sys_pkey_free(key) ? CHILD_FREE_FAILED : CHILD_OK;
}

static int child_exec_self(void *arg)
{
	char key_arg[16];
	char *const argv[] = { self_argv0, EXEC_CHECK_ARG, key_arg, NULL };

	snprintf(key_arg, sizeof(key_arg), "%d", *(int *)arg);
	exec_self(argv);
	return CHILD_EXEC_FAILED;
}

TEST_F(strict_range, exec_drops_strictness)
{
	int ret;

	/* The setup's key is the lowest free one: the exec'd image gets it too. */
	ret = run_in_child_timeout(child_exec_self, &self->key, 0);
	EXPECT_EQ(CHILD_OK, ret) TH_LOG("exec'd image: %s", child_result_name(ret));
}

/* ==================================================================== */
/* With process rights                                                  */
/* ==================================================================== */

TEST(alloc_strict_process)
{
	uint32_t pkru = 0;
	pthread_t t;
	uint32_t *p;
	int key;

	if (!require_strict(_metadata))
		return;
	errno = 0;
	/* Open, where the default PKRU denies access. */
	key = (int)sys_pkey_alloc(PKEY_ALLOC_STRICT | PKEY_ALLOC_PROCESS,
				  PKEY_ALLOW_ALL);
	if (key < 0 && errno == EINVAL)
		SKIP(return, "kernel has no PKEY_ALLOC_PROCESS (EINVAL)");
	ASSERT_GT(key, DEFAULT_PKEY);
	/* Process rights: a new thread starts with them, not with ours. */
	set_key_rights(key, PKEY_DISABLE_ACCESS);
	ASSERT_EQ(0, pthread_create(&t, NULL, sample_pkru, &pkru));
	ASSERT_EQ(0, pthread_join(t, NULL));
	set_key_rights(key, PKEY_ALLOW_ALL);
	EXPECT_EQ((uint32_t)PKEY_ALLOW_ALL, pkru_key_rights(pkru, key));
	/* And strict. */
	p = map_keyed(key);
	ASSERT_FALSE(!p);
	EXPECT_SYSCALL_ERRNO(EBUSY, sys_pkey_free(key));
	ASSERT_TRUE(map_fixed(p, NR_PAGES * page_size(), PROT_READ) == p);
	EXPECT_TRUE(range_has_key(p, NR_PAGES * page_size(), key));
	ASSERT_EQ(0, munmap(p, NR_PAGES * page_size()));
	EXPECT_EQ(0, sys_pkey_free(key));
}

/* ==================================================================== */
/* Without PKU                                                          */
/* ==================================================================== */

/* pkey_set_process() tells this series' kernels from others without PKU. */
static bool require_series_no_pku(struct __test_metadata *_metadata)
{
	if (!require_pkey_syscalls(_metadata))
		return false;
	if (!kernel_has_process_rights())
		SKIP(return false, "kernel has no pkey_set_process(): not this series");
	return require_no_pku(_metadata);
}

#ifndef AT_PKEY_FEATURES
# define AT_PKEY_FEATURES	52
#endif
#ifndef PKEY_FEATURE_STRICT
# define PKEY_FEATURE_STRICT	0x8
#endif

/* The feature query agrees with the flag: set exactly where it works. */
TEST(auxv_feature_matches_flag)
{
	bool feature = getauxval(AT_PKEY_FEATURES) & PKEY_FEATURE_STRICT;
	long key;

	if (!require_pkey_syscalls(_metadata))
		return;
	key = sys_pkey_alloc(PKEY_ALLOC_STRICT, PKEY_ALLOW_ALL);
	if (key > 0)
		sys_pkey_free(key);
	EXPECT_EQ(key > 0, feature);
}

/* As plain pkey_alloc(): there is no key to hand out. */
TEST(nopku_alloc_strict_enospc)
{
	if (!require_series_no_pku(_metadata))
		return;
	EXPECT_SYSCALL_ERRNO(ENOSPC, sys_pkey_alloc(PKEY_ALLOC_STRICT,
						    PKEY_ALLOW_ALL));
	EXPECT_SYSCALL_ERRNO(ENOSPC, sys_pkey_alloc(PKEY_ALLOC_STRICT |
						    PKEY_ALLOC_PROCESS,
						    PKEY_ALLOW_ALL));
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], EXEC_CHECK_ARG))
		return exec_check_main(argc, argv);

	self_argv0 = argv[0];
	/* Inherited by every test process; see probe_read(). */
	if (install_fault_catcher()) {
		perror("sigaction(SIGSEGV)");
		return KSFT_FAIL;
	}
	return test_harness_run(argc, argv);
}
