// SPDX-License-Identifier: GPL-2.0
/*
 * Enforced protection keys: pkey_alloc(PKEY_ALLOC_ENFORCE).
 *
 * A thread that a key denies cannot load or store through it, but it can
 * ask the kernel: /proc/self/mem and process_vm_writev() to its own pid
 * write the memory anyway, and munmap(), mmap(MAP_FIXED), mremap(),
 * mprotect(), pkey_mprotect(), madvise(MADV_DONTNEED) and pkey_free()
 * replace it or drop the key.  With an enforced key, each of these fails
 * for a thread that the key denies, and the memory stays as it was.
 *
 * The "enforced" fixture runs every one of those calls with the key
 * access-disabled, write-disabled or allowing everything in the calling
 * thread, for an enforced key and for a plain one.  A plain key must
 * behave as on a kernel without the flag: every call succeeds.  The
 * other tests check that access to another process is unchanged, that
 * fork() copies the enforcement and pkey_free() ends it, the flag's
 * errors and the behaviour without PKU.
 *
 * Nothing executes RDPKRU or WRPKRU unless CPUID reports OSPKE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
/* /proc/self/mem offsets are addresses: above 2 GiB on i386 too. */
#define _FILE_OFFSET_BITS	64

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "pkeys_util.h"
#include "../kselftest_harness.h"
#include "pkeys_harness.h"

#ifndef PKEY_ALLOC_ENFORCE
# define PKEY_ALLOC_ENFORCE	0x4
#endif
/* A pkey_alloc() flag that no kernel knows. */
#define PKEY_ALLOC_UNKNOWN	0x8
#ifndef MADV_FREE
# define MADV_FREE		8
#endif
#ifndef MADV_DONTNEED_LOCKED
# define MADV_DONTNEED_LOCKED	24
#endif

/* What the calls under test try to write over the keyed page's MARKER. */
#define OTHER_VALUE		0x0bad5eedu
/* alarm() of helper child processes. */
#define CHILD_TIMEOUT_SECS	20

static off_t probe_offset(void *page)
{
	return (off_t)(uintptr_t)probe_word(page);
}

/*
 * process_vm_readv() and process_vm_writev() of one iovec each, as raw
 * system calls: <sys/uio.h> clashes with the kernel's <linux/fs.h>, which
 * pkeys_util.h includes.  struct iovec comes from <fcntl.h>.
 */
static long process_vm_rw(bool write, void *local, void *remote, size_t len)
{
	struct iovec liov = { .iov_base = local, .iov_len = len };
	struct iovec riov = { .iov_base = remote, .iov_len = len };

	return syscall(write ? SYS_process_vm_writev : SYS_process_vm_readv,
		       (long)getpid(), &liov, 1L, &riov, 1L, 0L);
}

/* ==================================================================== */
/* Feature probes                                                       */
/* ==================================================================== */

/*
 * pkey_alloc(PKEY_ALLOC_ENFORCE): EINVAL where the flag is unknown; a
 * key, freed again, or ENOSPC without PKU where it is known.
 */
static bool kernel_has_enforce(void)
{
	long key;

	errno = 0;
	key = sys_pkey_alloc(PKEY_ALLOC_ENFORCE, PKEY_ALLOW_ALL);
	if (key > 0)
		sys_pkey_free(key);
	return !(key == -1 && errno == EINVAL);
}

/* PKU and the flag; see the require_*() helpers in pkeys_harness.h. */
static bool require_enforce(struct __test_metadata *_metadata)
{
	if (!require_pku(_metadata))
		return false;
	if (!kernel_has_enforce())
		SKIP(return false, "kernel has no PKEY_ALLOC_ENFORCE (EINVAL)");
	return true;
}

/* ==================================================================== */
/* The calls, enforced and not                                          */
/* ==================================================================== */

FIXTURE(enforced) {
	void *page;
	size_t len;
	int key;
};

FIXTURE_VARIANT(enforced) {
	unsigned long alloc_flags;
	/* The calling thread's rights for the key during the call. */
	uint32_t rights;
};

FIXTURE_VARIANT_ADD(enforced, no_access) {
	.alloc_flags = PKEY_ALLOC_ENFORCE,
	.rights = PKEY_DISABLE_ACCESS,
};

FIXTURE_VARIANT_ADD(enforced, no_write) {
	.alloc_flags = PKEY_ALLOC_ENFORCE,
	.rights = PKEY_DISABLE_WRITE,
};

FIXTURE_VARIANT_ADD(enforced, allow_all) {
	.alloc_flags = PKEY_ALLOC_ENFORCE,
	.rights = PKEY_ALLOW_ALL,
};

FIXTURE_VARIANT_ADD(enforced, process_no_write) {
	.alloc_flags = PKEY_ALLOC_ENFORCE | PKEY_ALLOC_PROCESS,
	.rights = PKEY_DISABLE_WRITE,
};

FIXTURE_VARIANT_ADD(enforced, plain_no_access) {
	.alloc_flags = 0,
	.rights = PKEY_DISABLE_ACCESS,
};

FIXTURE_VARIANT_ADD(enforced, plain_no_write) {
	.alloc_flags = 0,
	.rights = PKEY_DISABLE_WRITE,
};

FIXTURE_SETUP(enforced)
{
	if (variant->alloc_flags & PKEY_ALLOC_ENFORCE) {
		if (!require_enforce(_metadata))
			return;
	} else if (!require_pku(_metadata)) {
		return;
	}
	if ((variant->alloc_flags & PKEY_ALLOC_PROCESS) &&
	    !require_process_rights_call(_metadata))
		return;
	self->len = page_size();
	self->key = keyed_page(&self->page, variant->alloc_flags,
			       PKEY_ALLOW_ALL);
	ASSERT_GT(self->key, DEFAULT_PKEY) TH_LOG("%s", strerror(errno));
}

FIXTURE_TEARDOWN(enforced)
{
}

/*
 * Calls that change the memory or its mapping fail without write rights
 * to a key allocated with @alloc_flags, calls that only read it without
 * access rights.
 */
static bool change_refused(unsigned long alloc_flags, uint32_t rights)
{
	return (alloc_flags & PKEY_ALLOC_ENFORCE) && rights;
}

static bool read_refused(unsigned long alloc_flags, uint32_t rights)
{
	return (alloc_flags & PKEY_ALLOC_ENFORCE) &&
	       (rights & PKEY_DISABLE_ACCESS);
}

/*
 * Make @call with the variant's rights for the key, then give them back:
 * it must return @ok, or fail with @err if @refused.  Nothing between the
 * two WRPKRUs touches keyed memory.
 */
#define EXPECT_CALL(refused, err, ok, call) do {			\
	long __ret;							\
	int __err;							\
	set_key_rights(self->key, variant->rights);			\
	errno = 0;							\
	__ret = (long)(call);						\
	__err = errno;							\
	set_key_rights(self->key, PKEY_ALLOW_ALL);			\
	if (refused) {							\
		EXPECT_EQ(-1, __ret) TH_LOG("%s succeeded", #call);	\
		EXPECT_EQ(err, __err)					\
			TH_LOG("%s: %s", #call, strerror(__err));	\
	} else {							\
		EXPECT_EQ((long)(ok), __ret)				\
			TH_LOG("%s: %s", #call, strerror(__err));	\
	}								\
} while (0)

/* The probe word: MARKER if the call was refused, @changed if not. */
#define EXPECT_WORD(refused, changed)					\
	EXPECT_EQ((refused) ? MARKER : (uint32_t)(changed),		\
		  READ_ONCE(*probe_word(self->page)))

TEST_F(enforced, proc_self_mem_write)
{
	uint32_t value = OTHER_VALUE;
	bool refused = change_refused(variant->alloc_flags, variant->rights);
	int fd = open("/proc/self/mem", O_RDWR);

	ASSERT_LE(0, fd) TH_LOG("/proc/self/mem: %s", strerror(errno));
	EXPECT_CALL(refused, EIO, sizeof(value),
		    pwrite(fd, &value, sizeof(value), probe_offset(self->page)));
	close(fd);
	EXPECT_WORD(refused, OTHER_VALUE);
}

TEST_F(enforced, proc_self_mem_read)
{
	bool refused = read_refused(variant->alloc_flags, variant->rights);
	uint32_t value = 0;
	int fd = open("/proc/self/mem", O_RDONLY);

	ASSERT_LE(0, fd) TH_LOG("/proc/self/mem: %s", strerror(errno));
	EXPECT_CALL(refused, EIO, sizeof(value),
		    pread(fd, &value, sizeof(value), probe_offset(self->page)));
	close(fd);
	if (!refused)
		EXPECT_EQ(MARKER, value);
}

/* A thread that has all rights for the key and waits to be told to exit. */
struct open_thread {
	int key;
	int tid;
	int exit_pipe[2];
};

static void *open_thread_fn(void *arg)
{
	struct open_thread *t = arg;
	char c;

	set_key_rights(t->key, PKEY_ALLOW_ALL);
	__atomic_store_n(&t->tid, gettid_raw(), __ATOMIC_RELEASE);
	/* Returns at EOF, when the test closes the other end. */
	while (read(t->exit_pipe[0], &c, 1) > 0)
		;
	return NULL;
}

/*
 * The mem file of another thread of the process: the rights that count
 * are those of the thread that makes the call, not those of the thread
 * whose file it is.
 */
TEST_F(enforced, proc_other_thread_mem_write)
{
	struct open_thread t = { .key = self->key };
	uint32_t value = OTHER_VALUE;
	bool refused = change_refused(variant->alloc_flags, variant->rights);
	char path[64];
	pthread_t thread;
	int fd;

	ASSERT_EQ(0, pipe(t.exit_pipe));
	ASSERT_EQ(0, pthread_create(&thread, NULL, open_thread_fn, &t));
	while (!__atomic_load_n(&t.tid, __ATOMIC_ACQUIRE))
		sched_yield();
	snprintf(path, sizeof(path), "/proc/self/task/%d/mem", t.tid);
	fd = open(path, O_RDWR);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	EXPECT_CALL(refused, EIO, sizeof(value),
		    pwrite(fd, &value, sizeof(value), probe_offset(self->page)));
	close(fd);
	close(t.exit_pipe[1]);
	pthread_join(thread, NULL);
	EXPECT_WORD(refused, OTHER_VALUE);
}

TEST_F(enforced, process_vm_writev_self)
{
	uint32_t value = OTHER_VALUE;
	bool refused = change_refused(variant->alloc_flags, variant->rights);

	EXPECT_CALL(refused, EFAULT, sizeof(value),
		    process_vm_rw(true, &value, probe_word(self->page),
				  sizeof(value)));
	EXPECT_WORD(refused, OTHER_VALUE);
}

TEST_F(enforced, process_vm_readv_self)
{
	bool refused = read_refused(variant->alloc_flags, variant->rights);
	uint32_t value = 0;

	EXPECT_CALL(refused, EFAULT, sizeof(value),
		    process_vm_rw(false, &value, probe_word(self->page),
				  sizeof(value)));
	if (!refused)
		EXPECT_EQ(MARKER, value);
}

TEST_F(enforced, madvise_dontneed)
{
	bool refused = change_refused(variant->alloc_flags, variant->rights);

	EXPECT_CALL(refused, EPERM, 0,
		    madvise(self->page, self->len, MADV_DONTNEED));
	/* Private anonymous memory reads back as zeroes once discarded. */
	EXPECT_WORD(refused, 0);
}

TEST_F(enforced, madvise_dontneed_locked)
{
	bool refused = change_refused(variant->alloc_flags, variant->rights);

	EXPECT_CALL(refused, EPERM, 0,
		    madvise(self->page, self->len, MADV_DONTNEED_LOCKED));
	EXPECT_WORD(refused, 0);
}

TEST_F(enforced, madvise_free)
{
	bool refused = change_refused(variant->alloc_flags, variant->rights);

	EXPECT_CALL(refused, EPERM, 0,
		    madvise(self->page, self->len, MADV_FREE));
	/* Freed memory keeps its contents until reclaim: only check refusal. */
	if (refused)
		EXPECT_EQ(MARKER, READ_ONCE(*probe_word(self->page)));
}

/* MADV_REMOVE needs shared file memory: a memfd page, moved into the key. */
TEST_F(enforced, madvise_remove)
{
	bool refused = change_refused(variant->alloc_flags, variant->rights);
	void *page;
	int fd;

	fd = memfd_create("enforced_keys", 0);
	ASSERT_LE(0, fd) TH_LOG("memfd_create: %s", strerror(errno));
	ASSERT_EQ(0, ftruncate(fd, (off_t)self->len));
	page = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_TRUE(page != MAP_FAILED);
	WRITE_ONCE(*probe_word(page), MARKER);
	ASSERT_EQ(0, sys_pkey_mprotect(page, self->len,
				       PROT_READ | PROT_WRITE, self->key));
	self->page = page;
	EXPECT_CALL(refused, EPERM, 0,
		    madvise(page, self->len, MADV_REMOVE));
	EXPECT_WORD(refused, 0);
	close(fd);
}

TEST_F(enforced, munmap)
{
	bool refused = change_refused(variant->alloc_flags, variant->rights);

	uint32_t value = 0;

	EXPECT_CALL(refused, EPERM, 0, munmap(self->page, self->len));
	EXPECT_EQ(refused ? 1 : 0, smaps_count_vmas(self->page, self->len));
	EXPECT_EQ(refused, probe_read(probe_word(self->page), &value));
	if (refused)
		EXPECT_EQ(MARKER, value);
}

TEST_F(enforced, mprotect)
{
	bool refused = change_refused(variant->alloc_flags, variant->rights);
	struct vma_info vma;

	EXPECT_CALL(refused, EPERM, 0,
		    mprotect(self->page, self->len, PROT_READ));
	ASSERT_TRUE(smaps_vma_at(self->page, &vma));
	EXPECT_STREQ(refused ? "rw-p" : "r--p", vma.perms);
	EXPECT_EQ(self->key, vma.pkey);
	/* Still writable, as far as the page tables go. */
	EXPECT_EQ(refused, probe_write(probe_word(self->page), OTHER_VALUE));
}

/* Moving memory out of the key. */
TEST_F(enforced, pkey_mprotect_out)
{
	bool refused = change_refused(variant->alloc_flags, variant->rights);

	EXPECT_CALL(refused, EPERM, 0,
		    sys_pkey_mprotect(self->page, self->len,
				      PROT_READ | PROT_WRITE, DEFAULT_PKEY));
	EXPECT_EQ(refused ? self->key : DEFAULT_PKEY,
		  smaps_pkey_at(self->page));
}

/* Moving memory into the key only makes it harder to reach: allowed. */
TEST_F(enforced, pkey_mprotect_in)
{
	void *page = map_anon(self->len, PROT_READ | PROT_WRITE);

	ASSERT_FALSE(!page);
	EXPECT_CALL(false, 0, 0,
		    sys_pkey_mprotect(page, self->len,
				      PROT_READ | PROT_WRITE, self->key));
	EXPECT_EQ(self->key, smaps_pkey_at(page));
}

TEST_F(enforced, mremap)
{
	bool refused = change_refused(variant->alloc_flags, variant->rights);
	void *dest = map_anon(self->len, PROT_NONE);

	ASSERT_FALSE(!dest);
	EXPECT_CALL(refused, EPERM, dest,
		    mremap(self->page, self->len, self->len,
			   MREMAP_MAYMOVE | MREMAP_FIXED, dest));
	if (refused) {
		EXPECT_EQ(MARKER, READ_ONCE(*probe_word(self->page)));
	} else {
		EXPECT_EQ(MARKER, READ_ONCE(*probe_word(dest)));
		EXPECT_EQ(self->key, smaps_pkey_at(dest));
	}
}

TEST_F(enforced, mmap_fixed)
{
	bool refused = change_refused(variant->alloc_flags, variant->rights);

	EXPECT_CALL(refused, EPERM, self->page,
		    mmap(self->page, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	/* New anonymous memory reads as zeroes, and has key 0. */
	EXPECT_WORD(refused, 0);
	EXPECT_EQ(refused ? self->key : DEFAULT_PKEY,
		  smaps_pkey_at(self->page));
}

TEST_F(enforced, pkey_free)
{
	bool refused = change_refused(variant->alloc_flags, variant->rights);
	void *page = map_anon(self->len, PROT_READ | PROT_WRITE);

	ASSERT_FALSE(!page);
	EXPECT_CALL(refused, EPERM, 0, sys_pkey_free(self->key));
	/* Only an allocated key can be given to pkey_mprotect(). */
	if (refused) {
		EXPECT_EQ(0, sys_pkey_mprotect(page, self->len,
					       PROT_READ, self->key));
	} else {
		EXPECT_SYSCALL_ERRNO(EINVAL,
				     sys_pkey_mprotect(page, self->len,
						       PROT_READ, self->key));
	}
}

TEST_F(enforced, pkey_set_process)
{
	bool refused = change_refused(variant->alloc_flags, variant->rights);

	if (!require_process_rights_call(_metadata))
		return;
	EXPECT_CALL(refused, EPERM, 0,
		    pkey_set_process(self->key, PKEY_ALLOW_ALL, 0));
}

/* ==================================================================== */
/* Other processes, fork() and pkey_free()                              */
/* ==================================================================== */

/* Exit codes of helper child processes. */
enum child_result {
	CHILD_OK = 0,
	CHILD_OPEN_DENIED,
	CHILD_OPEN_FAILED,
	CHILD_WRITE_FAILED,
	CHILD_WRITE_SUCCEEDED,
	CHILD_WRONG_ERRNO,
};

/* Write OTHER_VALUE through @path at @offset; an enum child_result. */
static int child_write_mem(const char *path, off_t offset, int want_errno)
{
	uint32_t value = OTHER_VALUE;
	ssize_t ret;
	int fd;

	alarm(CHILD_TIMEOUT_SECS);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return errno == EACCES || errno == EPERM ?
		       CHILD_OPEN_DENIED : CHILD_OPEN_FAILED;
	ret = pwrite(fd, &value, sizeof(value), offset);
	if (!want_errno)
		return ret == sizeof(value) ? CHILD_OK : CHILD_WRITE_FAILED;
	if (ret != -1)
		return CHILD_WRITE_SUCCEEDED;
	return errno == want_errno ? CHILD_OK : CHILD_WRONG_ERRNO;
}

/* The exit code of child @pid, or -1 if it did not exit. */
static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * A child writes its parent's /proc/PID/mem while the key is denied in
 * both: another process's memory, so the enforcement does not apply.
 */
TEST(foreign_mem_write_unchanged)
{
	char path[64];
	void *page;
	pid_t pid;
	int key, res;

	if (!require_enforce(_metadata))
		return;
	key = keyed_page(&page, PKEY_ALLOC_ENFORCE, PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	snprintf(path, sizeof(path), "/proc/%d/mem", getpid());
	set_key_rights(key, PKEY_DISABLE_ACCESS);
	pid = fork();
	if (!pid)
		_exit(child_write_mem(path, probe_offset(page), 0));
	res = wait_child(pid);
	set_key_rights(key, PKEY_ALLOW_ALL);
	if (res == CHILD_OPEN_DENIED)
		SKIP(return, "ptrace access to the parent denied");
	EXPECT_EQ(CHILD_OK, res);
	EXPECT_EQ(OTHER_VALUE, READ_ONCE(*probe_word(page)));
}

/* The child's copy of the memory is enforced too. */
TEST(fork_copies_enforcement)
{
	void *page;
	pid_t pid;
	int key;

	if (!require_enforce(_metadata))
		return;
	key = keyed_page(&page, PKEY_ALLOC_ENFORCE, PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	pid = fork();
	if (!pid) {
		set_key_rights(key, PKEY_DISABLE_WRITE);
		_exit(child_write_mem("/proc/self/mem", probe_offset(page),
				      EIO));
	}
	EXPECT_EQ(CHILD_OK, wait_child(pid));
	EXPECT_EQ(MARKER, READ_ONCE(*probe_word(page)));
}

/*
 * A key freed by a thread that may write through it is an ordinary key
 * again, and so is what a later pkey_alloc() without the flag returns.
 */
TEST(free_ends_enforcement)
{
	uint32_t value = OTHER_VALUE;
	void *page;
	int key, fd;

	if (!require_enforce(_metadata))
		return;
	key = keyed_page(&page, PKEY_ALLOC_ENFORCE, PKEY_ALLOW_ALL);
	ASSERT_GT(key, DEFAULT_PKEY);
	ASSERT_EQ(0, sys_pkey_free(key));
	ASSERT_EQ(key, sys_pkey_alloc(0, PKEY_DISABLE_WRITE));
	fd = open("/proc/self/mem", O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ((ssize_t)sizeof(value),
		  pwrite(fd, &value, sizeof(value), probe_offset(page)));
	close(fd);
	EXPECT_EQ(0, munmap(page, page_size()));
}

/* ==================================================================== */
/* The flag                                                             */
/* ==================================================================== */

/* The initial rights are the calling thread's, as without the flag. */
TEST(alloc_sets_caller_rights)
{
	long key;

	if (!require_enforce(_metadata))
		return;
	key = sys_pkey_alloc(PKEY_ALLOC_ENFORCE, PKEY_DISABLE_WRITE);
	ASSERT_GT(key, DEFAULT_PKEY);
	EXPECT_EQ((uint32_t)PKEY_DISABLE_WRITE,
		  pkru_key_rights(rdpkru(), (int)key));
	/* Denied writes: the key cannot be freed, not even by its owner. */
	EXPECT_SYSCALL_ERRNO(EPERM, sys_pkey_free(key));
	set_key_rights((int)key, PKEY_ALLOW_ALL);
	EXPECT_EQ(0, sys_pkey_free(key));
}

TEST(alloc_unknown_flag_einval)
{
	if (!require_enforce(_metadata))
		return;
	EXPECT_SYSCALL_ERRNO(EINVAL,
			     sys_pkey_alloc(PKEY_ALLOC_ENFORCE |
					    PKEY_ALLOC_UNKNOWN, PKEY_ALLOW_ALL));
	EXPECT_SYSCALL_ERRNO(EINVAL,
			     sys_pkey_alloc(PKEY_ALLOC_ENFORCE,
					    PKEY_RIGHTS_MASK + 1));
}

#ifndef AT_PKEY_FEATURES
# define AT_PKEY_FEATURES	52
#endif
#ifndef PKEY_FEATURE_ENFORCE
# define PKEY_FEATURE_ENFORCE	0x4
#endif

/* The feature query agrees with the flag probe: set where keys work. */
TEST(auxv_feature_matches_flag)
{
	bool feature = getauxval(AT_PKEY_FEATURES) & PKEY_FEATURE_ENFORCE;

	if (!require_pkey_syscalls(_metadata))
		return;
	EXPECT_EQ(kernel_has_enforce() && cpu_has_ospke(), feature);
}

/* Without PKU the flag is known but there is no key to give: ENOSPC. */
TEST(nopku_alloc_enforce_enospc)
{
	if (!require_no_pku(_metadata))
		return;
	if (!kernel_has_enforce())
		SKIP(return, "kernel has no PKEY_ALLOC_ENFORCE (EINVAL)");
	EXPECT_SYSCALL_ERRNO(ENOSPC,
			     sys_pkey_alloc(PKEY_ALLOC_ENFORCE, PKEY_ALLOW_ALL));
	EXPECT_SYSCALL_ERRNO(ENOSPC,
			     sys_pkey_alloc(PKEY_ALLOC_ENFORCE |
					    PKEY_ALLOC_PROCESS,
					    PKEY_DISABLE_WRITE));
	EXPECT_SYSCALL_ERRNO(EINVAL,
			     sys_pkey_alloc(PKEY_ALLOC_ENFORCE |
					    PKEY_ALLOC_UNKNOWN, PKEY_ALLOW_ALL));
}

int main(int argc, char **argv)
{
	/* Inherited by every test process: probe_read() and probe_write(). */
	if (install_fault_catcher()) {
		perror("sigaction(SIGSEGV)");
		return KSFT_FAIL;
	}
	return test_harness_run(argc, argv);
}
