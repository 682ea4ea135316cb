/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers that only the kselftest_harness programs use, on top of
 * pkeys_util.h.  The require_*() checks mark a test skipped with the
 * harness's SKIP(), so this header comes after kselftest_harness.h,
 * which in turn comes after pkeys_util.h.
 */
#ifndef PKEYS_HARNESS_H
#define PKEYS_HARNESS_H

#include <fcntl.h>

#include "pkeys_util.h"
#include "../kselftest_harness.h"

/* Word inside a page used for single accesses; not at the page start. */
#define PROBE_OFFSET		0x100
/* Value stored in test memory, so that a successful read is recognisable. */
#define MARKER			0x5afe1234u

/* pkey_set_process(-1, 0, 0): EINVAL where the call exists, ENOSYS if not. */
static inline bool kernel_has_process_rights(void)
{
	errno = 0;
	return !(pkey_set_process(-1, 0, 0) == -1 && errno == ERRNO_NO_SYSCALL);
}

/*
 * The require_*() helpers return true when the test can go on; when it
 * cannot, they mark it skipped and return false, and the caller returns.
 */
static inline bool require_pkey_syscalls(struct __test_metadata *_metadata)
{
	if (!pkey_syscalls_present())
		SKIP(return false, "kernel has no pkey syscalls");
	return true;
}

static inline bool require_pku(struct __test_metadata *_metadata)
{
	if (!require_pkey_syscalls(_metadata))
		return false;
	if (!cpu_has_ospke())
		SKIP(return false,
		     "PKU not available (CPUID OSPKE clear: no pku in the CPU, or nopku)");
	return true;
}

/* For the "nopku_" tests: the calls exist, PKU is off. */
static inline bool require_no_pku(struct __test_metadata *_metadata)
{
	if (!require_pkey_syscalls(_metadata))
		return false;
	if (cpu_has_ospke())
		SKIP(return false,
		     "PKU is enabled; this checks the behaviour without PKU");
	return true;
}

/* The call exists; PKU may or may not be there. */
static inline bool require_process_rights_call(struct __test_metadata *_metadata)
{
	if (!require_pkey_syscalls(_metadata))
		return false;
	if (!kernel_has_process_rights())
		SKIP(return false, "kernel has no pkey_set_process() (ENOSYS)");
	return true;
}

static inline uint32_t *probe_word(void *page)
{
	return (uint32_t *)((char *)page + PROBE_OFFSET);
}

/*
 * A page holding MARKER at its probe word, tagged with a new key.  The
 * page is written before it gets the key, through key 0.  @flags and
 * @rights go to pkey_alloc().  The key, or -1.
 */
static inline int keyed_page(void **page, unsigned long flags,
			     unsigned long rights)
{
	size_t len = page_size();
	void *area = map_anon(len, PROT_READ | PROT_WRITE);
	int key;

	if (!area)
		return -1;
	WRITE_ONCE(*probe_word(area), MARKER);
	key = (int)sys_pkey_alloc(flags, rights);
	if (key <= 0)
		return -1;
	if (sys_pkey_mprotect(area, len, PROT_READ | PROT_WRITE, key))
		return -1;
	*page = area;
	return key;
}

/* A thread function: the PKRU the thread started with, in *(uint32_t *)@arg. */
static inline void *sample_pkru(void *arg)
{
	*(uint32_t *)arg = rdpkru();
	return NULL;
}

/* The C library may have no gettid() wrapper (glibc before 2.30). */
static inline pid_t gettid_raw(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/*
 * Write @text to the sysfs, procfs or tracefs file @path in one write(),
 * as the shell's "echo -n text > path" does; false if any step fails.
 */
static inline bool write_file(const char *path, const char *text)
{
	ssize_t len = (ssize_t)strlen(text);
	bool ok;
	int fd;

	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return false;
	ok = write(fd, text, len) == len;
	return !close(fd) && ok;
}

/*
 * Execute this program again with @argv, whose argv[0] is main()'s;
 * returns only if that fails.  /proc/self/exe is this program whatever
 * argv[0] says; argv[0] is the fallback where /proc is not mounted.
 */
static inline void exec_self(char *const argv[])
{
	execv("/proc/self/exe", argv);
	execv(argv[0], argv);
}

#endif /* PKEYS_HARNESS_H */
