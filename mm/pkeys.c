// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory protection keys: allocation of keys to a process and the
 * pkey_alloc(2), pkey_free(2) and pkey_mprotect(2) system calls.
 *
 * The set of allocated keys belongs to the mm and is protected by its
 * mmap_lock.  The access rights of a key are per thread and live in an
 * architecture register, which the architecture updates for us.
 */
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/syscalls.h>

#include "internal.h"

#define NR_PKEYS	BIT(CONFIG_ARCH_PKEY_BITS)

/* mm->pkeys.allocated has a bit for every key. */
static_assert(BITS_PER_TYPE(((struct mm_struct *)0)->pkeys.allocated) >= NR_PKEYS);

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
	if (!arch_pkeys_enabled() || pkey < 0 || pkey >= NR_PKEYS)
		return false;
	if (pkey == mm->pkeys.execute_only)
		return false;
	return mm->pkeys.allocated & BIT(pkey);
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

static void mm_pkey_put(struct mm_struct *mm, int pkey)
{
	mm->pkeys.allocated &= ~BIT(pkey);
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
 * keeps its key.
 *
 * Return: the key for the mapping.
 */
int __mm_pkey_for_prot(struct mm_struct *mm, unsigned long prot,
		       struct vm_area_struct *vma)
{
	if (prot == PROT_EXEC) {
		int pkey = mm_execute_only_pkey(mm);

		if (pkey > 0)
			return pkey;
	} else if (vma && vma_is_execute_only(vma)) {
		return 0;
	}
	return vma ? vma_pkey(vma) : 0;
}

SYSCALL_DEFINE2(pkey_alloc, unsigned long, flags, unsigned long, init_rights)
{
	struct mm_struct *mm = current->mm;
	int pkey, err;

	if (flags || (init_rights & ~PKEY_ACCESS_MASK))
		return -EINVAL;
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

SYSCALL_DEFINE1(pkey_free, int, pkey)
{
	struct mm_struct *mm = current->mm;
	int err = -EINVAL;

	mmap_write_lock(mm);
	/*
	 * Mappings still tagged with @pkey keep it; the key may be handed
	 * out again by a later pkey_alloc().
	 */
	if (pkey != 0 && mm_pkey_is_allocated(mm, pkey)) {
		mm_pkey_put(mm, pkey);
		err = 0;
	}
	mmap_write_unlock(mm);
	return err;
}

SYSCALL_DEFINE4(pkey_mprotect, unsigned long, start, size_t, len,
		unsigned long, prot, int, pkey)
{
	return do_mprotect(start, len, prot, pkey);
}
