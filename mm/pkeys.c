// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory protection keys: allocation of keys to a process, the
 * pkey_alloc(2), pkey_free(2) and pkey_mprotect(2) system calls,
 * process-wide rights (pkey_set_process(2)), strict keys and enforced
 * keys.
 *
 * The set of allocated keys belongs to the mm and is protected by its
 * mmap_lock.  The access rights of a key are per thread and live in an
 * architecture register, which the architecture updates for us.
 */
#include <linux/cpumask.h>
#include <linux/jump_label.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/rseq.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/syscalls.h>
#include <linux/task_work.h>
#include <linux/wait.h>

#include <asm/tlb.h>

#define CREATE_TRACE_POINTS
#include <trace/events/pkeys.h>

#include "internal.h"

#define NR_PKEYS	BIT(CONFIG_ARCH_PKEY_BITS)

/* mm->pkeys.allocated has a bit for every key. */
static_assert(BITS_PER_TYPE(((struct mm_struct *)0)->pkeys.allocated) >= NR_PKEYS);

/* mm_pkey_is_allocated(), inline for the key calls of this file. */
static __always_inline bool __mm_pkey_is_allocated(struct mm_struct *mm,
						   int pkey)
{
	if (!arch_pkeys_enabled() || pkey < 0 || pkey >= NR_PKEYS)
		return false;
	if (pkey == mm->pkeys.execute_only)
		return false;
	return mm->pkeys.allocated & BIT(pkey);
}

/**
 * mm_pkey_is_allocated - Check that a protection key may be used in an mm
 * @mm:		The address space, with mmap_lock held
 * @pkey:	The key
 *
 * Key 0 always counts as allocated.  The execute-only key is allocated
 * too, but only for the kernel's use: it is not valid here, so it can be
 * neither given to pkey_mprotect() nor freed.  Without protection keys
 * support in the CPU no key is valid.
 *
 * Return: true if @pkey may be given to pkey_mprotect().
 */
bool mm_pkey_is_allocated(struct mm_struct *mm, int pkey)
{
	return __mm_pkey_is_allocated(mm, pkey);
}

/* Find and claim an unused key other than 0, or return -ENOSPC. */
static int mm_pkey_get(struct mm_struct *mm)
{
	unsigned long free = ~(unsigned long)mm->pkeys.allocated &
			     GENMASK(NR_PKEYS - 1, 0);

	if (!free)
		return -ENOSPC;
	mm->pkeys.allocated |= BIT(__ffs(free));
	return __ffs(free);
}

static void mm_pkey_clear_process_rights(struct mm_struct *mm, int pkey);

static __always_inline void mm_pkey_put(struct mm_struct *mm, int pkey)
{
	mm->pkeys.allocated &= ~BIT(pkey);
	if (mm_pkey_is_enforced(mm, pkey))
		mm->pkeys.enforced &= ~BIT(pkey);
	if (mm_pkeys_has_process_rights(mm))
		mm_pkey_clear_process_rights(mm, pkey);
}

/*
 * The key that makes PROT_EXEC-only mappings unreadable, allocated on
 * first use.  Each time a mapping is made execute-only, the calling
 * thread gets the key access-disabled again if it can read through it:
 * the mapping must not be readable by the thread that asked for it.
 * Other threads have the key access-disabled as long as they keep the
 * default PKRU for keys they did not allocate.
 *
 * Return: the key, or 0 if there is none (the mapping stays readable).
 */
static int mm_execute_only_pkey(struct mm_struct *mm)
{
	int pkey = mm->pkeys.execute_only;
	bool new = pkey == NO_PKEY;

	if (!arch_pkeys_enabled() || mm != current->mm)
		return 0;

	if (new) {
		pkey = mm_pkey_get(mm);
		if (pkey < 0)
			return 0;
	} else if (arch_get_user_pkey_rights(pkey) & PKEY_DISABLE_ACCESS) {
		return pkey;
	}

	if (arch_set_user_pkey_rights(pkey, PKEY_DISABLE_ACCESS)) {
		if (new)
			mm_pkey_put(mm, pkey);
		return 0;
	}
	mm->pkeys.execute_only = pkey;
	return pkey;
}

/*
 * Whether mmap() or mprotect() made @vma execute-only.  A mapping that
 * only carries the key (tagged with a key that was freed and then became
 * the execute-only one) was not, and keeps its key.
 */
static bool vma_is_execute_only(struct vm_area_struct *vma)
{
	return (vma->vm_flags & VM_ACCESS_FLAGS) == VM_EXEC &&
	       vma_pkey(vma) == vma->vm_mm->pkeys.execute_only;
}

/**
 * __mm_pkey_for_prot - Pick the protection key for a mapping
 * @mm:		The address space, with mmap_lock held for writing
 * @prot:	The PROT_* bits the mapping gets
 * @vma:	The mapping that mprotect() changes, NULL for a new one
 *
 * Used by mmap() and mprotect(), which do not name a key.  Exactly
 * PROT_EXEC (no PROT_SEM, no PROT_GROWSDOWN from mmap()) makes the
 * mapping execute-only, whatever key it had.  An execute-only mapping
 * that gets any other protection goes back to key 0.  Any other mapping
 * keeps its key, and so does a mapping with a strict key, even when made
 * execute-only.
 *
 * Return: the key for the mapping.
 */
int __mm_pkey_for_prot(struct mm_struct *mm, unsigned long prot,
		       struct vm_area_struct *vma)
{
	/* The program's key, not the kernel's: not dropped for another. */
	if (vma && mm_pkey_is_strict(mm, vma_pkey(vma)))
		return vma_pkey(vma);
	if (prot == PROT_EXEC) {
		int pkey = mm_execute_only_pkey(mm);

		if (pkey > 0)
			return pkey;
	} else if (vma && vma_is_execute_only(vma)) {
		return 0;
	}
	return vma ? vma_pkey(vma) : 0;
}

/**
 * __mm_pkey_for_mprotect - Pick the protection key mprotect() gives a range
 * @vma:	The mapping that holds the start of the range
 * @prot:	The PROT_* bits the range gets
 * @start:	Start of the range, in @vma
 * @end:	End of what mprotect() changes, possibly beyond @vma
 *
 * As __mm_pkey_for_prot(), with mmap_lock held for writing.  The part of
 * the range in @vma is reported when it becomes execute-only: that is
 * when a program's own data reads from it start to fault.
 *
 * Return: the key for the range.
 */
int __mm_pkey_for_mprotect(struct vm_area_struct *vma, unsigned long prot,
			   unsigned long start, unsigned long end)
{
	struct mm_struct *mm = vma->vm_mm;
	int pkey = __mm_pkey_for_prot(mm, prot, vma);

	if (prot == PROT_EXEC && pkey == mm->pkeys.execute_only)
		trace_pkey_execute_only(start, min(end, vma->vm_end) - start,
					prot, pkey);
	return pkey;
}

/*
 * Process-wide rights
 * ===================
 *
 * pkey_set_process() and pkey_alloc(PKEY_ALLOC_PROCESS) give a key
 * rights that every thread of the process gets: those that exist, those
 * created later, and signal handlers.  Each setting of a key's rights
 * takes a generation number from a global counter; each task records the
 * generation it has taken (task_struct::pkeys_gen), and a signal frame
 * the generation its PKRU value reflects.  A global counter, not one per
 * mm, so that a task's generation from before exec() is older than any
 * of its new mm and needs no reset.
 *
 * Readers run in interrupt context, on the way back to user space and
 * under the scheduler's locks, so the state has a raw spinlock of its
 * own; writers also hold mmap_lock for writing, which orders them with
 * pkey_alloc() and pkey_free().
 */
struct mm_pkeys_process {
	raw_spinlock_t lock;
	u16 keys;		/* keys that have process rights */
	u32 rights;		/* their rights, as in struct pkey_rights */
	u64 latest;		/* the latest of @gen */
	u64 gen[NR_PKEYS];	/* when each key's rights were last set */
};

static atomic64_t pkeys_process_gen = ATOMIC64_INIT(0);

DEFINE_STATIC_KEY_FALSE(pkeys_process_rights_used);

#define PKEY_RIGHTS_BITS(pkey)	(PKEY_ACCESS_MASK << PKEY_RIGHTS_SHIFT(pkey))

/**
 * mm_pkeys_dup - Give a child mm its parent's protection keys
 * @mm:		The new mm
 * @oldmm:	The parent's mm, with mmap_lock held for writing
 *
 * Called by fork() under the same lock as the copy of the VMAs: a key on
 * a copied VMA must be allocated in the child too, and no key allocated
 * after the copy.  The child also inherits the process rights.
 *
 * Return: 0, or -ENOMEM.
 */
int mm_pkeys_dup(struct mm_struct *mm, struct mm_struct *oldmm)
{
	struct mm_pkeys_process *p = oldmm->pkeys.process;

	mmap_assert_write_locked(oldmm);
	mm->pkeys = oldmm->pkeys;
	if (!p)
		return 0;

	/* Not under @p's lock: its writers hold oldmm's mmap_lock too. */
	mm->pkeys.process = kmemdup(p, sizeof(*p), GFP_KERNEL);
	if (!mm->pkeys.process) {
		mm->pkeys.process_keys = 0;
		return -ENOMEM;
	}
	raw_spin_lock_init(&mm->pkeys.process->lock);
	return 0;
}

/* The mm is going away. */
void mm_pkeys_free(struct mm_struct *mm)
{
	kfree(mm->pkeys.process);
}

/* The process-wide state of @mm, allocated on first use. */
static struct mm_pkeys_process *mm_pkeys_process_get(struct mm_struct *mm)
{
	struct mm_pkeys_process *p = mm->pkeys.process;

	mmap_assert_write_locked(mm);
	if (p)
		return p;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return NULL;
	raw_spin_lock_init(&p->lock);
	/* Readers do not take mmap_lock: publish it initialised. */
	smp_store_release(&mm->pkeys.process, p);
	return p;
}

/**
 * mm_pkeys_process_rights - Read the process-wide rights of an mm
 * @mm:		The address space
 * @since:	Only the keys whose rights were set after this generation
 * @r:		Set to their rights (no keys if none)
 * @gen:	If not NULL and @mm has process rights, set to the
 *		generation @r brings a thread up to
 *
 * Any context.  With @since 0, @r has the rights of every key that has
 * process rights: what a new thread and a signal handler start with.
 */
void mm_pkeys_process_rights(struct mm_struct *mm, u64 since,
			     struct pkey_rights *r, u64 *gen)
{
	/* Pairs with the release in mm_pkeys_process_get(). */
	struct mm_pkeys_process *p = smp_load_acquire(&mm->pkeys.process);
	unsigned long keys, flags;
	int pkey;

	*r = (struct pkey_rights){};
	if (!p)
		return;

	raw_spin_lock_irqsave(&p->lock, flags);
	keys = p->keys;
	for_each_set_bit(pkey, &keys, NR_PKEYS) {
		if (p->gen[pkey] > since)
			r->keys |= PKEY_RIGHTS_BITS(pkey);
	}
	r->rights = p->rights & r->keys;
	if (gen)
		*gen = p->latest;
	raw_spin_unlock_irqrestore(&p->lock, flags);
}

/*
 * Give the current thread the process rights set since it last took
 * them.  Called only where the thread's own kernel code is not between
 * reading and writing its PKRU: on the way to user space, in the system
 * call that sets them, and in the IPI that updates a user worker.
 */
static void pkeys_update_current(struct mm_struct *mm)
{
	struct pkey_rights r;

	mm_pkeys_process_rights(mm, current->pkeys_gen, &r, &current->pkeys_gen);
	if (!r.keys)
		return;
	arch_pkeys_apply_rights(&r);
	/*
	 * The thread may be between its own RDPKRU and WRPKRU: restart an
	 * rseq critical section it is in, so that it reads the new value.
	 */
	scoped_guard(irqsave)
		rseq_preempt(current);
}

/*
 * Task work, on the way to user space: take the rights set since the
 * thread last did.  It runs before rseq's work, which then restarts a
 * critical section that pkeys_update_current() aborted.  A setting that
 * comes after the marker is cleared queues the work again; one that came
 * before is seen here.  Pairs with the barrier in
 * mm_pkey_set_process_rights().  exec() may have replaced the mm since
 * the work was queued.
 */
static void pkeys_update_work(struct callback_head *work)
{
	struct mm_struct *mm = current->mm;

	WRITE_ONCE(work->func, NULL);
	/* Clear the marker before reading: see pkeys_queue_update(). */
	smp_mb();
	if (current_has_process_rights() &&
	    READ_ONCE(mm->pkeys.process->latest) > current->pkeys_gen)
		pkeys_update_current(mm);
}

/*
 * Make @t take the process rights before it next returns to user mode,
 * unless that is already queued.  The work's callback doubles as the
 * marker: cleared when the work runs, and in a new task (pkeys_fork()).
 */
static void pkeys_queue_update(struct task_struct *t)
{
	struct callback_head *work = &t->pkeys_work;

	if (cmpxchg(&work->func, NULL, pkeys_update_work))
		return;
	/* Fails only for a task that is exiting, which needs no rights. */
	if (task_work_add(t, work, TWA_RESUME))
		WRITE_ONCE(work->func, NULL);
}

/**
 * pkeys_task_init - Give a new task the process-wide rights
 * @p:	The new task, not yet running, with its creator's PKRU saved
 *
 * Called by the architecture's part of clone() when the mm has keys with
 * process rights: the new task starts with those, whatever its creator
 * has for these keys.
 */
void pkeys_task_init(struct task_struct *p)
{
	struct pkey_rights r;

	mm_pkeys_process_rights(p->mm, 0, &r, &p->pkeys_gen);
	arch_pkeys_apply_task_rights(p, &r);
}

/* The same for a task that is not running: into its saved PKRU. */
static void pkeys_update_stopped(struct task_struct *t)
{
	struct pkey_rights r;

	mm_pkeys_process_rights(t->mm, t->pkeys_gen, &r, &t->pkeys_gen);
	if (r.keys)
		arch_pkeys_apply_task_rights(t, &r);
}

/* A user worker that is not running takes the rights into its saved PKRU. */
static int pkeys_update_stopped_worker(struct task_struct *t, void *mm)
{
	if (task_curr(t))
		return -EBUSY;
	pkeys_update_stopped(t);
	return 0;
}

/*
 * A thread interrupted in user mode takes the rights on its way back
 * there: the task work is already queued.  A user worker never goes
 * back to user mode, and its kernel code does not change its PKRU: it
 * takes them now.
 */
static void pkeys_process_ipi(void *mm)
{
	if (current->mm == mm && (current->flags & PF_USER_WORKER))
		pkeys_update_current(mm);
}

/*
 * Mark the threads of current's process that must take rights set at
 * generation @gen, and add to @cpus those that run and must be sent the
 * IPI.  Return whether there are any.  A thread that does not run is in
 * the kernel, and task work makes it take them before it next returns
 * to user mode; a user worker that does not run takes them at once, into
 * its saved PKRU.
 */
static bool pkeys_mark_threads(struct mm_struct *mm, u64 gen,
			       struct cpumask *cpus, bool workers_only)
{
	/* Only current's own exec() could change it. */
	struct sighand_struct *sighand =
		rcu_dereference_protected(current->sighand, true);
	struct task_struct *t;
	bool ipi = false;

	/* Excludes clone() linking in a new thread (pkeys_thread_linked()). */
	spin_lock_irq(&sighand->siglock);
	for_each_thread(current, t) {
		if (t == current || t->mm != mm ||
		    READ_ONCE(t->pkeys_gen) >= gen)
			continue;
		if (t->flags & PF_USER_WORKER) {
			if (task_call_func(t, pkeys_update_stopped_worker, mm)) {
				__cpumask_set_cpu(task_cpu(t), cpus);
				ipi = true;
			}
		} else if (!workers_only) {
			pkeys_queue_update(t);
		}
	}
	spin_unlock_irq(&sighand->siglock);
	if (workers_only)
		return ipi;

	/*
	 * Pairs with the scheduler's barrier between switching to a thread
	 * and its return to user mode, as for membarrier(): a thread not
	 * seen running here sees its task work when it returns.
	 */
	smp_mb();
	rcu_read_lock();
	for_each_thread(current, t) {
		if (t != current && t->mm == mm && task_curr(t) &&
		    !(t->flags & PF_USER_WORKER)) {
			__cpumask_set_cpu(task_cpu(t), cpus);
			ipi = true;
		}
	}
	rcu_read_unlock();
	return ipi;
}

/*
 * Make every other thread of the process take the rights set at
 * generation @gen, and return when none of them can run user code (or,
 * for a user worker, access user memory) without them.  A worker that
 * the IPI missed because it stopped running on that CPU meanwhile is
 * looked at again.  Return how many IPIs were sent, for the tracepoint.
 */
static unsigned int pkeys_process_sync(struct mm_struct *mm, u64 gen,
				       struct cpumask *cpus)
{
	bool workers_only = false;
	unsigned int ipis = 0;

	while (pkeys_mark_threads(mm, gen, cpus, workers_only)) {
		ipis += cpumask_weight(cpus);
		preempt_disable();
		smp_call_function_many(cpus, pkeys_process_ipi, mm, true);
		preempt_enable();
		cpumask_clear(cpus);
		workers_only = true;
	}
	return ipis;
}

/*
 * Set the process rights of @pkey in @mm, which is current's and
 * write-locked, and give them to every thread.
 */
static int mm_pkey_set_process_rights(struct mm_struct *mm, int pkey,
				      unsigned long rights)
{
	struct mm_pkeys_process *p;
	cpumask_var_t cpus;
	unsigned int ipis;
	u64 gen;

	if (!zalloc_cpumask_var(&cpus, GFP_KERNEL))
		return -ENOMEM;
	p = mm_pkeys_process_get(mm);
	if (!p) {
		free_cpumask_var(cpus);
		return -ENOMEM;
	}

	raw_spin_lock_irq(&p->lock);
	p->keys |= BIT(pkey);
	p->rights &= ~PKEY_RIGHTS_BITS(pkey);
	p->rights |= rights << PKEY_RIGHTS_SHIFT(pkey);
	gen = atomic64_inc_return(&pkeys_process_gen);
	p->gen[pkey] = gen;
	WRITE_ONCE(p->latest, gen);
	WRITE_ONCE(mm->pkeys.process_keys, p->keys);
	raw_spin_unlock_irq(&p->lock);
	/*
	 * Before any thread is marked: one that runs its task work sees
	 * the new generation (pkeys_update_work()).
	 */
	smp_mb();

	pkeys_update_current(mm);
	ipis = pkeys_process_sync(mm, gen, cpus);
	free_cpumask_var(cpus);
	trace_pkey_set_process(pkey, rights, gen, ipis);
	return 0;
}

/* pkey_free(): the key no longer has process rights, if it had them. */
static noinline void mm_pkey_clear_process_rights(struct mm_struct *mm,
						  int pkey)
{
	struct mm_pkeys_process *p = mm->pkeys.process;

	if (!(mm->pkeys.process_keys & BIT(pkey)))
		return;
	raw_spin_lock_irq(&p->lock);
	p->keys &= ~BIT(pkey);
	p->rights &= ~PKEY_RIGHTS_BITS(pkey);
	WRITE_ONCE(mm->pkeys.process_keys, p->keys);
	raw_spin_unlock_irq(&p->lock);
}

/**
 * __pkeys_thread_linked - Catch up a new thread with the process rights
 * @p:	The new thread, linked into its thread group but not yet running
 *
 * Called by clone() with the thread group's siglock held.  The new
 * thread's PKRU was made from the process rights before it could be seen
 * by pkey_set_process(), which takes the same lock: rights set in between
 * go into its saved PKRU now.
 */
void __pkeys_thread_linked(struct task_struct *p)
{
	pkeys_update_stopped(p);
}

/**
 * pkeys_signal_delivery - Give a signal handler the process-wide rights
 *
 * For the architecture's signal code, once the interrupted PKRU is in the
 * signal frame and the handler is about to start with the default PKRU.
 * The handler gets all process rights on its way to user space, where
 * the thread takes rights set by pkey_set_process(): the signal costs
 * nothing more here, and a setting that comes in between is not lost.
 *
 * Return: the generation of process rights that the interrupted PKRU
 * reflects, for the frame; sigreturn hands it to
 * pkeys_apply_process_rights().
 */
u64 pkeys_signal_delivery(void)
{
	u64 gen = current->pkeys_gen;

	/* Older than any setting: all of them are new to the handler. */
	WRITE_ONCE(current->pkeys_gen, 0);
	pkeys_queue_update(current);
	return gen;
}

/**
 * pkeys_apply_process_rights - Give current the process rights set since
 * @since:	A generation, 0 for all process rights
 *
 * For the architecture's signal code, where the current thread's PKRU has
 * been set from elsewhere: sigreturn restores the interrupted PKRU from
 * the signal frame, and rights set process-wide after the signal was
 * delivered (the frame's generation) are not undone; a sigreturn that
 * resets PKRU to the default gives all process rights (@since 0).  Does
 * not change which generation the thread has taken.
 */
void pkeys_apply_process_rights(u64 since)
{
	struct mm_struct *mm = current->mm;
	struct pkey_rights r;

	if (!mm_pkeys_has_process_rights(mm))
		return;
	mm_pkeys_process_rights(mm, since, &r, NULL);
	if (r.keys)
		arch_pkeys_apply_rights(&r);
}

/*
 * Turn on the hooks before the first process rights exist, and only for
 * a call that can set them.  Not under mmap_lock: patching the kernel's
 * code takes cpu_hotplug_lock.
 */
static void pkeys_process_rights_enable(void)
{
	if (!static_branch_unlikely(&pkeys_process_rights_used))
		static_branch_enable(&pkeys_process_rights_used);
}

/* Whether @pkey may be given to pkey_set_process(), before taking its lock. */
static bool mm_pkey_is_allocated_unlocked(struct mm_struct *mm, int pkey)
{
	bool allocated;

	mmap_read_lock(mm);
	allocated = mm_pkey_is_allocated(mm, pkey);
	mmap_read_unlock(mm);
	return allocated;
}

/*
 * Strict keys
 * ===========
 *
 * A key allocated with PKEY_ALLOC_STRICT cannot be freed while a mapping
 * carries it: a later pkey_alloc() would hand the same key out again and
 * give its new owner the old mappings.  The mappings of the mm are only
 * looked at when a strict key is freed.
 */
DEFINE_STATIC_KEY_FALSE(pkeys_strict_used);

/* As for process rights: not under mmap_lock. */
static void pkeys_strict_enable(void)
{
	if (!static_branch_unlikely(&pkeys_strict_used))
		static_branch_enable(&pkeys_strict_used);
}

/* Whether a mapping of @mm carries @pkey: a walk of all of them. */
static bool mm_pkey_is_mapped(struct mm_struct *mm, int pkey)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;

	for_each_vma(vmi, vma) {
		if (vma_pkey(vma) == pkey)
			return true;
	}
	return false;
}

/*
 * pkey_free() of a strict key, refused while a mapping carries it.  The
 * key stops being strict only here: a key that is not strict is freed,
 * and its bit in mm->pkeys.strict_keys cleared, nowhere else.
 */
static noinline int mm_pkey_put_strict(struct mm_struct *mm, int pkey)
{
	mmap_assert_write_locked(mm);
	if (mm_pkey_is_mapped(mm, pkey))
		return -EBUSY;
	mm->pkeys.strict_keys &= ~BIT(pkey);
	mm_pkey_put(mm, pkey);
	return 0;
}

/**
 * __mm_pkey_strict_range - Find the strict key of a range to be replaced
 * @mm:		The address space, with mmap_lock held for writing
 * @start:	The start of the range
 * @end:	The end of the range
 *
 * For mmap(MAP_FIXED) and mremap(MREMAP_FIXED), which replace what
 * [@start, @end) maps with a new mapping.  If every page of the range is
 * mapped, all with the same strict key, the new mapping gets that key:
 * a program that resets memory by mapping over it does not lose its key.
 * If the range mixes a strict key with unmapped pages or with another
 * key, no key fits the whole new mapping, and none of the strict key's
 * mappings may silently lose it: the call fails.
 *
 * Return: the strict key; NO_PKEY if no page of the range has a strict
 * key, so the new mapping gets its key as without strict keys; or
 * -EBUSY if there is no single key for the whole range.
 */
int __mm_pkey_strict_range(struct mm_struct *mm, unsigned long start,
			   unsigned long end)
{
	VMA_ITERATOR(vmi, mm, start);
	struct vm_area_struct *vma;
	unsigned long next = start;
	bool mixed = false;
	int strict = NO_PKEY;

	for_each_vma_range(vmi, vma, end) {
		int pkey = vma_pkey(vma);

		if (vma->vm_start > next)
			mixed = true;
		next = vma->vm_end;
		if (!mm_pkey_is_strict(mm, pkey))
			mixed = true;
		else if (strict == NO_PKEY)
			strict = pkey;
		else if (pkey != strict)
			mixed = true;
	}
	if (next < end)
		mixed = true;
	if (strict == NO_PKEY)
		return NO_PKEY;
	return mixed ? -EBUSY : strict;
}

/**
 * mm_pkey_retag - Give every mapping of a range a protection key
 * @mm:		The address space, with mmap_lock held for writing
 * @start:	The start of the range
 * @end:	The end of the range
 * @pkey:	The key, allocated in @mm
 *
 * For mremap(MREMAP_FIXED) into a range of a strict key: the moved pages
 * come with the key of their old mapping, in their page table entries
 * too, and take the strict key here, as pkey_mprotect() would give it.
 *
 * Return: 0, or the error of splitting a mapping.
 */
int mm_pkey_retag(struct mm_struct *mm, unsigned long start,
		  unsigned long end, int pkey)
{
	VMA_ITERATOR(vmi, mm, start);
	struct vm_area_struct *vma, *prev;
	struct mmu_gather tlb;
	int err = 0;

	vma = vma_find(&vmi, end);
	if (!vma)
		return 0;
	prev = vma_prev(&vmi);
	if (start > vma->vm_start)
		prev = vma;

	tlb_gather_mmu(&tlb, mm);
	for_each_vma_range(vmi, vma, end) {
		vm_flags_t flags = (vma->vm_flags & ~VM_PKEY_MASK) |
				   pkey_to_vm_flags(pkey);

		err = mprotect_fixup(&vmi, &tlb, vma, &prev,
				     max(start, vma->vm_start),
				     min(end, vma->vm_end), flags);
		if (err)
			break;
	}
	tlb_finish_mmu(&tlb);
	return err;
}

/*
 * Enforced keys
 * =============
 *
 * The kernel's own accesses to memory of a key allocated with
 * PKEY_ALLOC_ENFORCE are held to the rights of the calling thread, also
 * those that stock lets through as remote: /proc/self/mem and
 * process_vm_readv() on the caller's own process (check_vma_flags() in
 * mm/gup.c).  The keys are in mm->pkeys.enforced; the checks are behind a
 * static branch that the first such key turns on.
 */
DEFINE_STATIC_KEY_FALSE(pkeys_enforce_used);

/* As for process rights: not under mmap_lock. */
static void pkeys_enforce_enable(void)
{
	if (!static_branch_unlikely(&pkeys_enforce_used))
		static_branch_enable(&pkeys_enforce_used);
}

/*
 * Whether the current thread may free @pkey or set its process rights,
 * whatever @pkey is.  Not if the key is enforced and denies the thread
 * writes: freeing it would drop the enforcement, and process rights would
 * give the thread, and the others, the rights it lacks.
 */
static __always_inline bool mm_pkey_may_change(struct mm_struct *mm,
					       int pkey)
{
	/* A key that is enforced is allocated, and no other one is. */
	if (!static_branch_unlikely(&pkeys_enforce_used) ||
	    pkey < 0 || pkey >= NR_PKEYS)
		return true;
	return !mm_pkey_is_enforced(mm, pkey) ||
	       !arch_get_user_pkey_rights(pkey);
}

#define PKEY_ALLOC_FLAGS	\
	(PKEY_ALLOC_PROCESS | PKEY_ALLOC_STRICT | PKEY_ALLOC_ENFORCE)

/*
 * On once any process has used a pkey_alloc() flag or pkey_set_process():
 * until then no key is strict, enforced or has process rights, and
 * pkey_free() needs none of their checks.
 */
static DEFINE_STATIC_KEY_FALSE(pkeys_opt_in_used);

/* As for process rights: not under mmap_lock. */
static void pkeys_opt_in_enable(void)
{
	if (!static_branch_unlikely(&pkeys_opt_in_used))
		static_branch_enable(&pkeys_opt_in_used);
}

/* pkey_free() once the opt-in behaviours are in use: they may refuse it. */
static noinline int mm_pkey_free_opt_in(struct mm_struct *mm, int pkey)
{
	if (!mm_pkey_may_change(mm, pkey))
		return -EPERM;
	if (mm_pkey_is_strict(mm, pkey))
		return mm_pkey_put_strict(mm, pkey);
	mm_pkey_put(mm, pkey);
	return 0;
}

/*
 * pkey_alloc() with flags: PKEY_ALLOC_PROCESS makes @init_rights the
 * rights of every thread, PKEY_ALLOC_STRICT makes the key strict,
 * PKEY_ALLOC_ENFORCE makes the kernel enforce it.  Out of line, so that
 * plain pkey_alloc() costs what it did before the flags existed.  Unknown
 * flags are refused before anything else, so that a program can probe
 * for a flag whether or not the CPU has keys.
 */
static noinline int pkey_alloc_flags(unsigned long flags,
				     unsigned long init_rights)
{
	struct mm_struct *mm = current->mm;
	int pkey, err;

	if (flags & ~PKEY_ALLOC_FLAGS)
		return -EINVAL;
	if (!arch_pkeys_enabled())
		return -ENOSPC;
	pkeys_opt_in_enable();
	if (flags & PKEY_ALLOC_PROCESS)
		pkeys_process_rights_enable();
	if (flags & PKEY_ALLOC_STRICT)
		pkeys_strict_enable();
	if (flags & PKEY_ALLOC_ENFORCE)
		pkeys_enforce_enable();

	mmap_write_lock(mm);
	pkey = mm_pkey_get(mm);
	if (pkey < 0)
		goto out;
	if (flags & PKEY_ALLOC_PROCESS)
		err = mm_pkey_set_process_rights(mm, pkey, init_rights);
	else
		err = arch_set_user_pkey_rights(pkey, init_rights);
	if (err) {
		mm_pkey_put(mm, pkey);
		pkey = err;
		goto out;
	}
	if (flags & PKEY_ALLOC_STRICT)
		mm->pkeys.strict_keys |= BIT(pkey);
	if (flags & PKEY_ALLOC_ENFORCE)
		mm->pkeys.enforced |= BIT(pkey);
out:
	mmap_write_unlock(mm);
	return pkey;
}

/*
 * Inlined into the system call, which traces what it returns: the
 * tracepoint then needs no registers of its own.
 */
static __always_inline int do_pkey_alloc(unsigned long flags,
					 unsigned long init_rights)
{
	struct mm_struct *mm = current->mm;
	int pkey, err;

	if (init_rights & ~PKEY_ACCESS_MASK)
		return -EINVAL;
	if (flags)
		return pkey_alloc_flags(flags, init_rights);
	if (!arch_pkeys_enabled())
		return -ENOSPC;

	/* Not killable: EINTR is not among pkey_alloc()'s errors. */
	mmap_write_lock(mm);
	pkey = mm_pkey_get(mm);
	if (pkey >= 0) {
		/* Only the calling thread gets @init_rights for the key. */
		err = arch_set_user_pkey_rights(pkey, init_rights);
		if (err) {
			mm_pkey_put(mm, pkey);
			pkey = err;
		}
	}
	mmap_write_unlock(mm);
	return pkey;
}

/**
 * pkeys_proc_status - Show protection key state in /proc/PID/status
 * @m:		The status file of @task
 * @task:	The thread the file is for
 * @mm:		Its address space, referenced
 *
 * The allocated keys, key 0 and the execute-only key included, and the
 * execute-only key belong to the mm; the architecture shows the thread's
 * rights register.  Read without mmap_lock: the file must not block on a
 * process that holds it, and it shows a snapshot anyway.  Nothing is
 * shown where protection keys are not enabled.
 */
void pkeys_proc_status(struct seq_file *m, struct task_struct *task,
		       struct mm_struct *mm)
{
	unsigned long allocated;

	if (!arch_pkeys_enabled())
		return;

	allocated = READ_ONCE(mm->pkeys.allocated);
	seq_printf(m, "Pkeys_allocated_list:\t%*pbl\n", (int)NR_PKEYS,
		   &allocated);
	seq_put_decimal_ll(m, "Pkey_execute_only:\t",
			   READ_ONCE(mm->pkeys.execute_only));
	seq_putc(m, '\n');
	arch_pkeys_proc_status(m, task);
}

/**
 * pkey_features - The protection key behaviours a program can rely on
 *
 * For the AT_PKEY_FEATURES auxiliary vector entry of a new program.
 * Every architecture that selects ARCH_HAS_PKEYS implements them all:
 * process rights, enforced and strict keys here, the signal frame
 * behaviour in its signal code.
 *
 * Return: PKEY_FEATURE_* bits, 0 if protection keys cannot be used.
 */
unsigned long pkey_features(void)
{
	if (!arch_pkeys_enabled())
		return 0;
	return PKEY_FEATURE_SIGNAL_FRAME | PKEY_FEATURE_PROCESS_RIGHTS |
	       PKEY_FEATURE_ENFORCE | PKEY_FEATURE_STRICT;
}

SYSCALL_DEFINE2(pkey_alloc, unsigned long, flags, unsigned long, init_rights)
{
	long ret = do_pkey_alloc(flags, init_rights);

	trace_pkey_alloc(flags, init_rights, ret);
	return ret;
}

SYSCALL_DEFINE3(pkey_set_process, int, pkey, unsigned long, rights,
		unsigned int, flags)
{
	struct mm_struct *mm = current->mm;
	int err = -EINVAL;

	if (flags || (rights & ~PKEY_ACCESS_MASK))
		return -EINVAL;
	/* Key 0, the key of all ordinary memory, is not the program's. */
	if (pkey == 0 || !mm_pkey_is_allocated_unlocked(mm, pkey))
		return -EINVAL;
	pkeys_opt_in_enable();
	pkeys_process_rights_enable();

	mmap_write_lock(mm);
	/* Checked again: another thread may have freed it meanwhile. */
	if (!mm_pkey_may_change(mm, pkey))
		err = -EPERM;
	else if (mm_pkey_is_allocated(mm, pkey))
		err = mm_pkey_set_process_rights(mm, pkey, rights);
	mmap_write_unlock(mm);
	return err;
}

SYSCALL_DEFINE1(pkey_free, int, pkey)
{
	struct mm_struct *mm = current->mm;
	long err = -EINVAL;

	mmap_write_lock(mm);
	/*
	 * Mappings still tagged with @pkey keep it; the key may be handed
	 * out again by a later pkey_alloc().  Unless it is strict.
	 */
	if (pkey != 0 && __mm_pkey_is_allocated(mm, pkey)) {
		if (static_branch_unlikely(&pkeys_opt_in_used)) {
			err = mm_pkey_free_opt_in(mm, pkey);
		} else {
			mm->pkeys.allocated &= ~BIT(pkey);
			err = 0;
		}
	}
	mmap_write_unlock(mm);
	trace_pkey_free(pkey, err);
	return err;
}

SYSCALL_DEFINE4(pkey_mprotect, unsigned long, start, size_t, len,
		unsigned long, prot, int, pkey)
{
	return do_mprotect(start, len, prot, pkey);
}
