// SPDX-License-Identifier: GPL-2.0-only
/*
 * x86 Memory Protection Keys for user space (Intel SDM vol. 3A 4.6.2,
 * AMD APM vol. 2 5.6.7).
 */
#include <linux/cpufeature.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/sysctl.h>

#include <asm/pkru.h>

/**
 * arch_set_user_pkey_rights - Set the current thread's rights for a key
 * @pkey:	The protection key
 * @rights:	PKEY_DISABLE_ACCESS and/or PKEY_DISABLE_WRITE, or 0
 *
 * Return: 0 on success, -EINVAL if protection keys are not enabled.
 */
int arch_set_user_pkey_rights(int pkey, unsigned long rights)
{
	u32 pkru;

	if (!cpu_feature_enabled(X86_FEATURE_OSPKE))
		return -EINVAL;

	pkru = read_pkru() & ~PKRU_KEY_BITS(pkey);
	if (rights & PKEY_DISABLE_ACCESS)
		pkru |= PKRU_AD(pkey);
	if (rights & PKEY_DISABLE_WRITE)
		pkru |= PKRU_WD(pkey);
	write_pkru(pkru);
	return 0;
}

/**
 * arch_get_user_pkey_rights - Read the current thread's rights for a key
 * @pkey:	The protection key
 *
 * Return: the PKEY_DISABLE_ACCESS and PKEY_DISABLE_WRITE bits that the
 * current thread's PKRU has set for @pkey.
 */
unsigned long arch_get_user_pkey_rights(int pkey)
{
	u32 pkru = read_pkru();
	unsigned long rights = 0;

	if (pkru & PKRU_AD(pkey))
		rights |= PKEY_DISABLE_ACCESS;
	if (pkru & PKRU_WD(pkey))
		rights |= PKEY_DISABLE_WRITE;
	return rights;
}

/* struct pkey_rights has PKRU's layout: a value applies with a mask. */
static_assert(PKRU_AD(1) == PKEY_DISABLE_ACCESS << PKEY_RIGHTS_SHIFT(1));
static_assert(PKRU_WD(1) == PKEY_DISABLE_WRITE << PKEY_RIGHTS_SHIFT(1));

static u32 pkru_apply(u32 pkru, const struct pkey_rights *r)
{
	return (pkru & ~r->keys) | r->rights;
}

/* Give the current thread the rights of the keys in @r. */
void arch_pkeys_apply_rights(const struct pkey_rights *r)
{
	write_pkru(pkru_apply(read_pkru(), r));
}

/* The same for a task that is not running: its PKRU is in thread_struct. */
void arch_pkeys_apply_task_rights(struct task_struct *t,
				  const struct pkey_rights *r)
{
	t->thread.pkru = pkru_apply(t->thread.pkru, r);
}

/**
 * arch_pkeys_proc_status - Show a thread's PKRU in /proc/PID/status
 * @m:		The status file of @task
 * @task:	The thread
 *
 * x86_PKRU, in the hexadecimal of the other registers in the file: the
 * register itself when a thread reads its own file, otherwise the value
 * @task had when it was last switched out.  For a thread running on
 * another CPU that may be older than what it has now.
 */
void arch_pkeys_proc_status(struct seq_file *m, struct task_struct *task)
{
	u32 pkru = task == current ? read_pkru() : READ_ONCE(task->thread.pkru);

	seq_printf(m, "x86_PKRU:\t%08x\n", pkru);
}

/*
 * Set the default PKRU.  All ordinary memory has key 0: a default that
 * restricts it would break every program, and is refused.
 */
static int pkru_default_set(u32 pkru)
{
	if (pkru & PKRU_KEY_BITS(0))
		return -EINVAL;
	WRITE_ONCE(pkru_user_default, pkru);
	return 0;
}

/* "init_pkru=": the boot-time value of pkru_default, any base. */
static int __init parse_init_pkru(char *arg)
{
	u32 pkru;

	if (!arg || kstrtou32(arg, 0, &pkru) || pkru_default_set(pkru))
		pr_warn("x86/pkeys: ignoring invalid init_pkru=%s\n", arg);
	return 0;
}
early_param("init_pkru", parse_init_pkru);

#ifdef CONFIG_DEBUG_FS
/* x86/init_pkru in debugfs: the same value, under its traditional name. */
static int init_pkru_get(void *data, u64 *val)
{
	*val = READ_ONCE(pkru_user_default);
	return 0;
}

static int init_pkru_set(void *data, u64 val)
{
	if (val > U32_MAX)
		return -EINVAL;
	return pkru_default_set(val);
}
DEFINE_DEBUGFS_ATTRIBUTE(init_pkru_fops, init_pkru_get, init_pkru_set,
			 "0x%llx\n");

static int __init init_pkru_debugfs_init(void)
{
	if (cpu_feature_enabled(X86_FEATURE_OSPKE))
		debugfs_create_file_unsafe("init_pkru", 0600, arch_debugfs_dir,
					   NULL, &init_pkru_fops);
	return 0;
}
late_initcall(init_pkru_debugfs_init);
#endif /* CONFIG_DEBUG_FS */

#ifdef CONFIG_SYSCTL
/*
 * /proc/sys/vm/pkru_default: the PKRU value a program starts with after
 * exec() and that signal handlers start with.  Read as hexadecimal,
 * written in any base kstrtou32() understands.  Denying any access to
 * key 0, the key of all ordinary memory, is refused.
 */
static int pkru_default_handler(const struct ctl_table *table, int write,
				void *buffer, size_t *lenp, loff_t *ppos)
{
	char str[16] = "";
	struct ctl_table tmp = {
		.data	= str,
		.maxlen	= sizeof(str),
	};
	u32 pkru;
	int err;

	if (!write)
		snprintf(str, sizeof(str), "0x%08x",
			 READ_ONCE(pkru_user_default));

	err = proc_dostring(&tmp, write, buffer, lenp, ppos);
	if (err || !write)
		return err;

	/* proc_dostring() drops what does not fit: refuse, don't misparse. */
	if (strnlen(str, sizeof(str)) == sizeof(str) - 1)
		return -EINVAL;
	if (kstrtou32(strim(str), 0, &pkru))
		return -EINVAL;
	return pkru_default_set(pkru);
}

static struct ctl_table pkeys_sysctl_table[] = {
	{
		.procname	= "pkru_default",
		.mode		= 0644,
		.proc_handler	= pkru_default_handler,
	},
};

static int __init pkeys_sysctl_init(void)
{
	if (cpu_feature_enabled(X86_FEATURE_OSPKE))
		register_sysctl_init("vm", pkeys_sysctl_table);
	return 0;
}
late_initcall(pkeys_sysctl_init);
#endif /* CONFIG_SYSCTL */
