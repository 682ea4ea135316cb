// SPDX-License-Identifier: GPL-2.0
/*
 * What a program and its debugger can observe of protection keys: the
 * pkeys: trace events, the protection key lines of /proc/PID/status and
 * /proc/PID/task/TID/status, and the AT_PKEY_FEATURES auxiliary vector
 * entry.
 *
 * Where the CPU has no usable PKU the status lines and the auxiliary
 * vector entry must be absent, as on a kernel without the series; the
 * events still report that pkey_alloc() fails.  The trace tests need
 * root and tracefs; they mount it at /sys/kernel/tracing if it is not
 * there and skip when the kernel has no tracing.  Each test traces in a
 * tracefs instance of its own, with a filter for its own pid.  Neither
 * set_event_pid nor the recording of command names: both hook the
 * scheduler's tracepoints, and patching that hot code while another CPU
 * runs it is what QEMU's TCG gets wrong (an int3 oops in __schedule(),
 * on stock 6.12 too).  The events here need neither.
 *
 * Nothing executes RDPKRU or WRPKRU unless CPUID reports OSPKE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <fcntl.h>
#include <pthread.h>
#include <sys/auxv.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "pkeys_util.h"
#include "../kselftest_harness.h"
#include "pkeys_harness.h"

#ifndef AT_PKEY_FEATURES
# define AT_PKEY_FEATURES		52
#endif
#ifndef PKEY_FEATURE_SIGNAL_FRAME
# define PKEY_FEATURE_SIGNAL_FRAME	0x1
#endif
#ifndef PKEY_FEATURE_PROCESS_RIGHTS
# define PKEY_FEATURE_PROCESS_RIGHTS	0x2
#endif

#define TRACEFS			"/sys/kernel/tracing"
#define PKEYS_EVENTS		TRACEFS "/events/pkeys"
/* Room for the trace of one test, and for one status file. */
#define TRACE_BUF_SIZE		(256 * 1024)
#define STATUS_BUF_SIZE		(16 * 1024)
#define PATH_SIZE		128
#define LINE_SIZE		256
/* Errors as the events record them: negative errno. */
#define ERR_EINVAL		(-EINVAL)
#define ERR_ENOSPC		(-ENOSPC)
/* A pkey_alloc() flag no kernel accepts. */
#define BAD_ALLOC_FLAGS		0x80000000ul
/* Longest wait for the helper thread to get somewhere. */
#define WAIT_MS			10000

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* The whole of a small file, NUL-terminated; -1 if it cannot be read. */
static ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t len = 0, n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((size_t)len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

static bool path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/*
 * The value of "Name:\t<value>" in a status file, copied to @value;
 * false if the file has no such line.
 */
static bool status_field(const char *status, const char *name, char *value,
			 size_t size)
{
	size_t len = strlen(name);
	const char *line = status;
	const char *end;

	while (line && *line) {
		if (!strncmp(line, name, len) && line[len] == ':' &&
		    line[len + 1] == '\t') {
			line += len + 2;
			end = strchrnul(line, '\n');
			snprintf(value, size, "%.*s", (int)(end - line), line);
			return true;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

/* The keys in @mask in the kernel's bitmap list format ("0-2,5"). */
static void keys_list(uint32_t mask, char *buf, size_t size)
{
	size_t len = 0;
	int key, last;

	buf[0] = '\0';
	for (key = 0; key < NR_PKEYS; key++) {
		if (!(mask & BIT(key)))
			continue;
		last = key;
		while (last + 1 < NR_PKEYS && (mask & BIT(last + 1)))
			last++;
		len += snprintf(buf + len, size - len, "%s%d", len ? "," : "",
				key);
		if (last > key)
			len += snprintf(buf + len, size - len, "-%d", last);
		key = last;
	}
}

/* Parse a bitmap list back into a mask; false if it is not one. */
static bool parse_keys_list(const char *list, uint32_t *mask)
{
	char *end;
	long first, last;

	*mask = 0;
	while (*list) {
		first = strtol(list, &end, 10);
		if (end == list || first < 0 || first >= NR_PKEYS)
			return false;
		last = first;
		if (*end == '-') {
			list = end + 1;
			last = strtol(list, &end, 10);
			if (end == list || last < first || last >= NR_PKEYS)
				return false;
		}
		for (; first <= last; first++)
			*mask |= BIT(first);
		if (*end == ',')
			end++;
		else if (*end)
			return false;
		list = end;
	}
	return true;
}

static bool pkeys_usable(void)
{
	return pkey_syscalls_present() && cpu_has_ospke();
}

static void *map_page(int prot)
{
	return map_anon(page_size(), prot);
}

/* ------------------------------------------------------------------ */
/* /proc/PID/status                                                    */
/* ------------------------------------------------------------------ */

struct pkeys_status {
	bool has_list, has_xonly, has_pkru;
	uint32_t allocated;
	int execute_only;
	uint32_t pkru;
};

/* The protection key lines of a status file; false if it cannot be read. */
static bool read_pkeys_status(const char *path, struct pkeys_status *st)
{
	static char buf[STATUS_BUF_SIZE];
	char value[LINE_SIZE];

	memset(st, 0, sizeof(*st));
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	if (status_field(buf, "Pkeys_allocated_list", value, sizeof(value)))
		st->has_list = parse_keys_list(value, &st->allocated);
	if (status_field(buf, "Pkey_execute_only", value, sizeof(value))) {
		st->has_xonly = true;
		st->execute_only = (int)strtol(value, NULL, 10);
	}
	if (status_field(buf, "x86_PKRU", value, sizeof(value))) {
		st->has_pkru = strlen(value) == 8;
		st->pkru = (uint32_t)strtoul(value, NULL, 16);
	}
	return true;
}

static void task_status_path(pid_t tid, char *path, size_t size)
{
	snprintf(path, size, "/proc/self/task/%d/status", (int)tid);
}

/* The process's keys, the thread's PKRU: in the file of the thread itself. */
TEST(status_shows_allocated_keys)
{
	struct pkeys_status st;
	uint32_t expect;
	char list[LINE_SIZE];
	long a, b, c;

	if (!require_pku(_metadata))
		return;
	ASSERT_TRUE(read_pkeys_status("/proc/self/status", &st));
	ASSERT_TRUE(st.has_list) TH_LOG("no Pkeys_allocated_list: line");
	ASSERT_TRUE(st.has_xonly) TH_LOG("no Pkey_execute_only: line");
	/* Key 0 is every ordinary mapping's: always held. */
	ASSERT_NE(0UL, st.allocated & BIT(DEFAULT_PKEY));
	expect = st.allocated;

	a = sys_pkey_alloc(0, 0);
	b = sys_pkey_alloc(0, PKEY_DISABLE_WRITE);
	c = sys_pkey_alloc(0, PKEY_DISABLE_ACCESS);
	ASSERT_GT(a, 0);
	ASSERT_GT(b, 0);
	ASSERT_GT(c, 0);
	expect |= BIT(a) | BIT(b) | BIT(c);
	ASSERT_TRUE(read_pkeys_status("/proc/self/status", &st));
	keys_list(expect, list, sizeof(list));
	EXPECT_EQ(expect, st.allocated) TH_LOG("expected Pkeys_allocated_list %s", list);

	ASSERT_EQ(0, sys_pkey_free(b));
	expect &= ~BIT(b);
	ASSERT_TRUE(read_pkeys_status("/proc/self/status", &st));
	keys_list(expect, list, sizeof(list));
	EXPECT_EQ(expect, st.allocated) TH_LOG("expected Pkeys_allocated_list %s", list);
	EXPECT_EQ(NO_PKEY, st.execute_only);
	sys_pkey_free(a);
	sys_pkey_free(c);
}

/* The list uses the bitmap list format: ranges, not one number per key. */
TEST(status_list_format)
{
	static char buf[STATUS_BUF_SIZE];
	char value[LINE_SIZE], expect[LINE_SIZE];
	struct pkeys_status st;
	uint32_t mask;
	long key;

	if (!require_pku(_metadata))
		return;
	/* Take every key there is: the list is then the single range. */
	while (sys_pkey_alloc(0, 0) > 0)
		;
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_TRUE(read_pkeys_status("/proc/self/status", &st));
	mask = st.allocated;
	keys_list(mask, expect, sizeof(expect));
	ASSERT_LT(0, read_file("/proc/self/status", buf, sizeof(buf)));
	ASSERT_TRUE(status_field(buf, "Pkeys_allocated_list", value,
				 sizeof(value)));
	EXPECT_STREQ(expect, value);
	EXPECT_STREQ("0-15", value);
	for (key = 1; key < NR_PKEYS; key++)
		sys_pkey_free(key);
}

TEST(status_shows_execute_only_key)
{
	struct pkeys_status st;
	uint32_t value;
	void *page;

	if (!require_pku(_metadata))
		return;
	ASSERT_EQ(0, install_fault_catcher());
	ASSERT_TRUE(read_pkeys_status("/proc/self/status", &st));
	ASSERT_TRUE(st.has_xonly) TH_LOG("no Pkey_execute_only: line");
	ASSERT_EQ(NO_PKEY, st.execute_only);

	page = map_page(PROT_READ | PROT_WRITE);
	ASSERT_TRUE(!!page) TH_LOG("mmap: %m");
	ASSERT_EQ(0, mprotect(page, page_size(), PROT_EXEC));
	ASSERT_TRUE(read_pkeys_status("/proc/self/status", &st));
	ASSERT_GT(st.execute_only, 0);
	EXPECT_NE(0UL, st.allocated & BIT(st.execute_only));
	EXPECT_EQ(st.execute_only, smaps_pkey_at(page));
	/* It is the key that makes the page unreadable. */
	EXPECT_FALSE(probe_read(page, &value));
	EXPECT_EQ(SEGV_PKUERR, last_fault.code);
	EXPECT_EQ(st.execute_only, last_fault.pkey);
	munmap(page, page_size());
}

/* A value for PKRU that the default never has: key 1 write-disabled only. */
static uint32_t test_pkru(void)
{
	return pkru_with_rights(rdpkru(), 1, PKEY_DISABLE_WRITE);
}

TEST(status_pkru_is_the_register)
{
	char path[PATH_SIZE];
	struct pkeys_status st;
	uint32_t pkru;

	if (!require_pku(_metadata))
		return;
	pkru = test_pkru();
	wrpkru(pkru);
	ASSERT_TRUE(read_pkeys_status("/proc/self/status", &st));
	ASSERT_TRUE(st.has_pkru) TH_LOG("no x86_PKRU: line of 8 hex digits");
	EXPECT_EQ(rdpkru(), st.pkru);
	EXPECT_EQ(pkru, st.pkru);

	task_status_path(gettid_raw(), path, sizeof(path));
	ASSERT_TRUE(read_pkeys_status(path, &st));
	EXPECT_EQ(pkru, st.pkru);
	ASSERT_TRUE(read_pkeys_status("/proc/thread-self/status", &st));
	EXPECT_EQ(pkru, st.pkru);
}

/* A helper thread that sets its own PKRU and waits. */
struct pkru_thread {
	uint32_t pkru;
	pid_t tid;
	int ready;
	int done;
};

static void *pkru_thread_fn(void *arg)
{
	struct pkru_thread *t = arg;

	wrpkru(t->pkru);
	WRITE_ONCE(t->tid, gettid_raw());
	__atomic_store_n(&t->ready, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&t->done, __ATOMIC_ACQUIRE))
		usleep(1000);
	return NULL;
}

/*
 * task/TID/status of another thread: its PKRU, saved when it stopped
 * running (it sleeps), and the process's keys, the same as the main
 * thread's.
 */
TEST(status_pkru_is_per_thread)
{
	struct pkru_thread t = { 0 };
	struct pkeys_status mine, other;
	char path[PATH_SIZE];
	pthread_t thread;
	uint64_t deadline;
	long key;

	if (!require_pku(_metadata))
		return;
	key = sys_pkey_alloc(0, 0);
	ASSERT_GT(key, 0);
	t.pkru = pkru_with_rights(rdpkru(), key, PKEY_DISABLE_ACCESS);
	/* Not the main thread's value, so that a mix-up shows. */
	wrpkru(pkru_with_rights(rdpkru(), key, PKEY_DISABLE_WRITE));
	ASSERT_EQ(0, pthread_create(&thread, NULL, pkru_thread_fn, &t));
	deadline = now_ms() + WAIT_MS;
	while (!__atomic_load_n(&t.ready, __ATOMIC_ACQUIRE) &&
	       now_ms() < deadline)
		usleep(1000);
	ASSERT_TRUE(READ_ONCE(t.ready));
	/* Let it reach its sleep, where it is switched out. */
	usleep(20000);

	task_status_path(t.tid, path, sizeof(path));
	ASSERT_TRUE(read_pkeys_status(path, &other));
	ASSERT_TRUE(read_pkeys_status("/proc/self/status", &mine));
	__atomic_store_n(&t.done, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);

	ASSERT_TRUE(other.has_pkru);
	EXPECT_EQ(t.pkru, other.pkru);
	EXPECT_EQ(rdpkru(), mine.pkru);
	EXPECT_NE(mine.pkru, other.pkru);
	EXPECT_EQ(mine.allocated, other.allocated);
	EXPECT_NE(0UL, other.allocated & BIT(key));
	EXPECT_EQ(mine.execute_only, other.execute_only);
	sys_pkey_free(key);
}

/* Without usable PKU the file is the one of a kernel without keys. */
TEST(status_nopku_has_no_pkeys_lines)
{
	struct pkeys_status st;

	if (pkeys_usable())
		SKIP(return, "PKU available: covered by the other status tests");
	ASSERT_TRUE(read_pkeys_status("/proc/self/status", &st));
	EXPECT_FALSE(st.has_list);
	EXPECT_FALSE(st.has_xonly);
	EXPECT_FALSE(st.has_pkru);
}

/* ------------------------------------------------------------------ */
/* AT_PKEY_FEATURES                                                    */
/* ------------------------------------------------------------------ */

/* Whether the auxiliary vector has an entry of @type, from /proc/self/auxv. */
static bool auxv_has(unsigned long type)
{
	unsigned long auxv[2 * 64];
	ssize_t len = read_file("/proc/self/auxv", (char *)auxv, sizeof(auxv));
	size_t i;

	for (i = 0; len > 0 && (i + 2) * sizeof(auxv[0]) <= (size_t)len; i += 2) {
		if (auxv[i] == type)
			return true;
		if (auxv[i] == AT_NULL)
			break;
	}
	return false;
}

TEST(auxv_features_with_pku)
{
	unsigned long features = getauxval(AT_PKEY_FEATURES);

	if (!require_pku(_metadata))
		return;
	ASSERT_TRUE(auxv_has(AT_PKEY_FEATURES))
		TH_LOG("no AT_PKEY_FEATURES in the auxiliary vector (kernel without it?)");
	EXPECT_NE(0UL, features & PKEY_FEATURE_SIGNAL_FRAME);
	/* The bit and the call agree. */
	EXPECT_EQ(kernel_has_process_rights(),
		  !!(features & PKEY_FEATURE_PROCESS_RIGHTS));
}

TEST(auxv_no_features_without_pku)
{
	if (pkeys_usable())
		SKIP(return, "PKU available: covered by auxv_features_with_pku");
	EXPECT_EQ(0UL, getauxval(AT_PKEY_FEATURES));
	EXPECT_FALSE(auxv_has(AT_PKEY_FEATURES));
}

/* ------------------------------------------------------------------ */
/* Trace events                                                        */
/* ------------------------------------------------------------------ */

/*
 * Mount tracefs if it is not mounted.  true if the pkeys events are
 * there; otherwise *why says what is missing.
 */
static bool tracefs_pkeys_ready(const char **why)
{
	if (!path_exists(TRACEFS "/instances") &&
	    mount("nodev", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY) {
		*why = "no tracefs (kernel without CONFIG_TRACING, or not root)";
		return false;
	}
	if (!path_exists(TRACEFS "/instances")) {
		*why = "tracefs has no instances directory";
		return false;
	}
	if (!path_exists(PKEYS_EVENTS)) {
		*why = "kernel has no pkeys trace events";
		return false;
	}
	return true;
}

/* A tracefs instance of the test's own, and what was read from it. */
struct trace_instance {
	char dir[PATH_SIZE];
	char *buf;
};

/*
 * The probes for the calls are made before tracing starts: they are
 * calls with bad arguments that would show up among the events.
 */
FIXTURE(trace) {
	struct trace_instance t;
	bool syscalls, pku, process_rights;
	char record_cmd[4];	/* the global option, restored at the end */
};

/* Top-level only: an instance takes it from there when it is made. */
#define RECORD_CMD	TRACEFS "/options/record-cmd"

static bool instance_write(struct trace_instance *self,
			   const char *file, const char *text)
{
	char path[2 * PATH_SIZE];

	snprintf(path, sizeof(path), "%s/%s", self->dir, file);
	return write_file(path, text);
}

FIXTURE_SETUP(trace)
{
	const char *why = NULL;
	char filter[PATH_SIZE];

	self->t.dir[0] = '\0';
	self->syscalls = pkey_syscalls_present();
	self->pku = self->syscalls && cpu_has_ospke();
	self->process_rights = self->syscalls && kernel_has_process_rights();
	if (!tracefs_pkeys_ready(&why)) {
		/* A kernel that reports keys in its auxv has the events too. */
		if (getauxval(AT_PKEY_FEATURES) && path_exists(TRACEFS "/events"))
			ASSERT_TRUE(false) TH_LOG("AT_PKEY_FEATURES set but %s", why);
		SKIP(return, "%s", why);
	}
	self->t.buf = malloc(TRACE_BUF_SIZE);
	ASSERT_TRUE(!!self->t.buf);
	ASSERT_LT(0, read_file(RECORD_CMD, self->record_cmd,
			       sizeof(self->record_cmd)));
	ASSERT_TRUE(write_file(RECORD_CMD, "0"));
	snprintf(self->t.dir, sizeof(self->t.dir), TRACEFS "/instances/pkey_observe-%d",
		 (int)getpid());
	ASSERT_EQ(0, mkdir(self->t.dir, 0700)) TH_LOG("mkdir %s: %m", self->t.dir);
	snprintf(filter, sizeof(filter), "common_pid == %d", (int)getpid());
	ASSERT_TRUE(instance_write(&self->t, "events/pkeys/filter", filter));
	ASSERT_TRUE(instance_write(&self->t, "events/pkeys/enable", "1"));
}

FIXTURE_TEARDOWN(trace)
{
	if (self->t.dir[0]) {
		instance_write(&self->t, "events/pkeys/enable", "0");
		rmdir(self->t.dir);
	}
	if (self->record_cmd[0])
		write_file(RECORD_CMD, self->record_cmd);
	free(self->t.buf);
}

/* require_pku() from what the setup found. */
static bool trace_require_pku(struct __test_metadata *_metadata,
			      bool syscalls, bool pku)
{
	if (!syscalls)
		SKIP(return false, "kernel has no pkey syscalls");
	if (!pku)
		SKIP(return false,
		     "PKU not available (CPUID OSPKE clear: no pku in the CPU, or nopku)");
	return true;
}

/* Read what the instance has recorded so far. */
static bool trace_read(struct trace_instance *self)
{
	char path[2 * PATH_SIZE];

	snprintf(path, sizeof(path), "%s/trace", self->dir);
	return read_file(path, self->buf, TRACE_BUF_SIZE) >= 0;
}

/*
 * The fields ("a=1 b=0x2") of the @nth (from 0) recorded @event, copied
 * to @fields; false if there are fewer.
 */
static bool trace_event(struct trace_instance *self, const char *event,
			int nth, char *fields, size_t size)
{
	char tag[LINE_SIZE];
	const char *p = self->buf, *end;

	snprintf(tag, sizeof(tag), " %s: ", event);
	while ((p = strstr(p, tag))) {
		p += strlen(tag);
		if (nth--)
			continue;
		end = strchrnul(p, '\n');
		snprintf(fields, size, "%.*s", (int)(end - p), p);
		return true;
	}
	return false;
}

/* The value of "name=" in @fields, in any base; false if it is not there. */
static bool field_ll(const char *fields, const char *name, long long *value)
{
	char tag[LINE_SIZE];
	const char *p = fields;
	size_t len;

	len = snprintf(tag, sizeof(tag), "%s=", name);
	while ((p = strstr(p, tag))) {
		if (p == fields || p[-1] == ' ') {
			*value = strtoll(p + len, NULL, 0);
			return true;
		}
		p += len;
	}
	return false;
}

/* Whether @fields has " name=want" followed by a space or the end. */
static bool field_str(const char *fields, const char *name, const char *want)
{
	char tag[LINE_SIZE];
	const char *p;
	size_t len;

	len = snprintf(tag, sizeof(tag), " %s=%s", name, want);
	p = strstr(fields, tag);
	return p && (p[len] == ' ' || p[len] == '\0');
}

/* Expect @name=@want in @fields, with a message naming both. */
static void expect_field(struct __test_metadata *_metadata,
			 const char *fields, const char *name, long long want)
{
	long long value = 0;

	EXPECT_TRUE(field_ll(fields, name, &value))
		TH_LOG("no %s= in \"%s\"", name, fields);
	EXPECT_EQ(want, value)
		TH_LOG("%s in \"%s\"", name, fields);
}

#define EXPECT_FIELD(fields, name, want) \
	expect_field(_metadata, fields, name, (long long)(want))

TEST_F(trace, alloc_and_free)
{
	char ev[LINE_SIZE];
	long key;

	if (!trace_require_pku(_metadata, self->syscalls, self->pku))
		return;
	key = sys_pkey_alloc(0, PKEY_DISABLE_WRITE);
	ASSERT_GT(key, 0);
	EXPECT_EQ(-1, sys_pkey_alloc(BAD_ALLOC_FLAGS, 0));
	ASSERT_EQ(0, sys_pkey_free(key));
	EXPECT_EQ(-1, sys_pkey_free(key));
	ASSERT_TRUE(trace_read(&self->t));

	ASSERT_TRUE(trace_event(&self->t, "pkey_alloc", 0, ev, sizeof(ev)));
	EXPECT_FIELD(ev, "flags", 0);
	EXPECT_FIELD(ev, "init_rights", PKEY_DISABLE_WRITE);
	EXPECT_FIELD(ev, "pkey", key);
	EXPECT_FIELD(ev, "err", 0);
	ASSERT_TRUE(trace_event(&self->t, "pkey_alloc", 1, ev, sizeof(ev)));
	EXPECT_FIELD(ev, "flags", BAD_ALLOC_FLAGS);
	EXPECT_FIELD(ev, "pkey", -1);
	EXPECT_FIELD(ev, "err", ERR_EINVAL);
	EXPECT_FALSE(trace_event(&self->t, "pkey_alloc", 2, ev, sizeof(ev)));

	ASSERT_TRUE(trace_event(&self->t, "pkey_free", 0, ev, sizeof(ev)));
	EXPECT_FIELD(ev, "pkey", key);
	EXPECT_FIELD(ev, "err", 0);
	ASSERT_TRUE(trace_event(&self->t, "pkey_free", 1, ev, sizeof(ev)));
	EXPECT_FIELD(ev, "pkey", key);
	EXPECT_FIELD(ev, "err", ERR_EINVAL);
}

/* Without PKU the events still say why pkey_alloc() failed. */
TEST_F(trace, alloc_without_pku)
{
	char ev[LINE_SIZE];

	if (self->pku)
		SKIP(return, "PKU available: covered by trace.alloc_and_free");
	if (!self->syscalls)
		SKIP(return, "kernel has no pkey syscalls");
	EXPECT_EQ(-1, sys_pkey_alloc(0, 0));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_TRUE(trace_read(&self->t));
	ASSERT_TRUE(trace_event(&self->t, "pkey_alloc", 0, ev, sizeof(ev)));
	EXPECT_FIELD(ev, "pkey", -1);
	EXPECT_FIELD(ev, "err", ERR_ENOSPC);
}

TEST_F(trace, mprotect_and_execute_only)
{
	struct pkeys_status st;
	char ev[LINE_SIZE];
	char *pages;
	size_t ps = page_size();
	long key;

	if (!trace_require_pku(_metadata, self->syscalls, self->pku))
		return;
	pages = map_anon(3 * ps, PROT_READ | PROT_WRITE);
	ASSERT_TRUE(!!pages) TH_LOG("mmap: %m");
	key = sys_pkey_alloc(0, 0);
	ASSERT_GT(key, 0);
	/* The event has the length the call applied: whole pages. */
	ASSERT_EQ(0, sys_pkey_mprotect(pages, ps - 1, PROT_READ, key));
	/* -1 is mprotect(): no retag, no event. */
	ASSERT_EQ(0, sys_pkey_mprotect(pages, ps, PROT_READ, NO_PKEY));
	/* A failed call retags nothing either. */
	EXPECT_EQ(-1, sys_pkey_mprotect(pages, ps, PROT_READ, NR_PKEYS));
	/* The middle page only: the event has the range, not the mapping. */
	ASSERT_EQ(0, mprotect(pages + ps, ps, PROT_EXEC));
	ASSERT_TRUE(read_pkeys_status("/proc/self/status", &st));
	ASSERT_GT(st.execute_only, 0);
	/* An mprotect() that is not execute-only is not a pkeys event. */
	ASSERT_EQ(0, mprotect(pages + 2 * ps, ps, PROT_READ));
	ASSERT_TRUE(trace_read(&self->t));

	ASSERT_TRUE(trace_event(&self->t, "pkey_mprotect", 0, ev, sizeof(ev)));
	EXPECT_FIELD(ev, "start", (uintptr_t)pages);
	EXPECT_FIELD(ev, "len", ps);
	EXPECT_FIELD(ev, "prot", PROT_READ);
	EXPECT_FIELD(ev, "pkey", key);
	EXPECT_FALSE(trace_event(&self->t, "pkey_mprotect", 1, ev, sizeof(ev)));

	ASSERT_TRUE(trace_event(&self->t, "pkey_execute_only", 0, ev, sizeof(ev)));
	EXPECT_FIELD(ev, "start", (uintptr_t)(pages + ps));
	EXPECT_FIELD(ev, "len", ps);
	EXPECT_FIELD(ev, "prot", PROT_EXEC);
	EXPECT_FIELD(ev, "pkey", st.execute_only);
	EXPECT_FALSE(trace_event(&self->t, "pkey_execute_only", 1, ev, sizeof(ev)));
	munmap(pages, 3 * ps);
	sys_pkey_free(key);
}

TEST_F(trace, fault)
{
	char ev[LINE_SIZE];
	uint32_t *page, value = 0, pkru_read, pkru_write;
	long key;

	if (!trace_require_pku(_metadata, self->syscalls, self->pku))
		return;
	ASSERT_EQ(0, install_fault_catcher());
	page = map_page(PROT_READ | PROT_WRITE);
	ASSERT_TRUE(!!page) TH_LOG("mmap: %m");
	key = sys_pkey_alloc(0, 0);
	ASSERT_GT(key, 0);
	ASSERT_EQ(0, sys_pkey_mprotect(page, page_size(),
				       PROT_READ | PROT_WRITE, key));

	set_key_rights(key, PKEY_DISABLE_ACCESS);
	pkru_read = rdpkru();
	EXPECT_FALSE(probe_read(page, &value));
	set_key_rights(key, PKEY_DISABLE_WRITE);
	pkru_write = rdpkru();
	EXPECT_FALSE(probe_write(page, 1));
	/* Allowed accesses are not reported. */
	EXPECT_TRUE(probe_read(page, &value));
	set_key_rights(key, 0);
	ASSERT_TRUE(trace_read(&self->t));

	ASSERT_TRUE(trace_event(&self->t, "pkey_fault", 0, ev, sizeof(ev)));
	EXPECT_FIELD(ev, "address", (uintptr_t)page);
	EXPECT_FIELD(ev, "pkey", key);
	EXPECT_TRUE(field_str(ev, "access", "read")) TH_LOG("%s", ev);
	EXPECT_FIELD(ev, "rights", pkru_read);
	ASSERT_TRUE(trace_event(&self->t, "pkey_fault", 1, ev, sizeof(ev)));
	EXPECT_FIELD(ev, "address", (uintptr_t)page);
	EXPECT_FIELD(ev, "pkey", key);
	EXPECT_TRUE(field_str(ev, "access", "write")) TH_LOG("%s", ev);
	EXPECT_FIELD(ev, "rights", pkru_write);
	EXPECT_FALSE(trace_event(&self->t, "pkey_fault", 2, ev, sizeof(ev)));
	munmap(page, page_size());
	sys_pkey_free(key);
}

TEST_F(trace, process_rights)
{
	char ev[LINE_SIZE];
	long long gen1 = 0, gen2 = 0;
	long key;

	if (!trace_require_pku(_metadata, self->syscalls, self->pku))
		return;
	if (!self->process_rights)
		SKIP(return, "kernel has no pkey_set_process() (ENOSYS)");
	key = sys_pkey_alloc(PKEY_ALLOC_PROCESS, PKEY_DISABLE_ACCESS);
	ASSERT_GT(key, 0);
	ASSERT_EQ(0, pkey_set_process(key, PKEY_DISABLE_WRITE, 0));
	ASSERT_TRUE(trace_read(&self->t));

	ASSERT_TRUE(trace_event(&self->t, "pkey_set_process", 0, ev, sizeof(ev)));
	EXPECT_FIELD(ev, "pkey", key);
	EXPECT_FIELD(ev, "rights", PKEY_DISABLE_ACCESS);
	/* A single thread: nobody to interrupt. */
	EXPECT_FIELD(ev, "cpus", 0);
	ASSERT_TRUE(field_ll(ev, "gen", &gen1));
	ASSERT_TRUE(trace_event(&self->t, "pkey_set_process", 1, ev, sizeof(ev)));
	EXPECT_FIELD(ev, "pkey", key);
	EXPECT_FIELD(ev, "rights", PKEY_DISABLE_WRITE);
	ASSERT_TRUE(field_ll(ev, "gen", &gen2));
	EXPECT_LT(0, gen1);
	EXPECT_LT(gen1, gen2);

	ASSERT_TRUE(trace_event(&self->t, "pkey_alloc", 0, ev, sizeof(ev)));
	EXPECT_FIELD(ev, "flags", PKEY_ALLOC_PROCESS);
	EXPECT_FIELD(ev, "pkey", key);
	sys_pkey_free(key);
}

TEST_HARNESS_MAIN
