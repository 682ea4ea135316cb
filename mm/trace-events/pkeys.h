/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory protection key events: which keys a process allocates and
 * frees, which ranges it tags with them, the process-wide rights it sets,
 * and the accesses that the keys deny.  The fields are described in
 * Documentation/core-api/protection-keys.rst.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM pkeys

#if !defined(_TRACE_PKEYS_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_PKEYS_H

#include <linux/tracepoint.h>
#include <linux/types.h>

TRACE_EVENT(pkey_alloc,
	    TP_PROTO(unsigned long flags, unsigned long init_rights, long ret),
	    TP_ARGS(flags, init_rights, ret),
	    TP_STRUCT__entry(__field(unsigned long, flags)
			     __field(unsigned long, init_rights)
			     __field(int, pkey)
			     __field(int, err)),
	    TP_fast_assign(__entry->flags = flags;
			   __entry->init_rights = init_rights;
			   __entry->pkey = ret < 0 ? -1 : ret;
			   __entry->err = ret < 0 ? ret : 0;),
	    TP_printk("flags=0x%lx init_rights=0x%lx pkey=%d err=%d",
		      __entry->flags, __entry->init_rights, __entry->pkey,
		      __entry->err)
);

TRACE_EVENT(pkey_free,
	    TP_PROTO(int pkey, long err),
	    TP_ARGS(pkey, err),
	    TP_STRUCT__entry(__field(int, pkey)
			     __field(int, err)),
	    TP_fast_assign(__entry->pkey = pkey;
			   __entry->err = err;),
	    TP_printk("pkey=%d err=%d", __entry->pkey, __entry->err)
);

DECLARE_EVENT_CLASS(pkey_range,
		    TP_PROTO(unsigned long start, unsigned long len,
			     unsigned long prot, int pkey),
		    TP_ARGS(start, len, prot, pkey),
		    TP_STRUCT__entry(__field(unsigned long, start)
				     __field(unsigned long, len)
				     __field(unsigned long, prot)
				     __field(int, pkey)),
		    TP_fast_assign(__entry->start = start;
				   __entry->len = len;
				   __entry->prot = prot;
				   __entry->pkey = pkey;),
		    TP_printk("start=0x%lx len=0x%lx prot=0x%lx pkey=%d",
			      __entry->start, __entry->len, __entry->prot,
			      __entry->pkey)
);

/* pkey_mprotect() gave the range the key. */
DEFINE_EVENT(pkey_range, pkey_mprotect,
	     TP_PROTO(unsigned long start, unsigned long len,
		      unsigned long prot, int pkey),
	     TP_ARGS(start, len, prot, pkey)
);

/* mprotect(PROT_EXEC) picked the execute-only key for the range. */
DEFINE_EVENT(pkey_range, pkey_execute_only,
	     TP_PROTO(unsigned long start, unsigned long len,
		      unsigned long prot, int pkey),
	     TP_ARGS(start, len, prot, pkey)
);

TRACE_EVENT(pkey_set_process,
	    TP_PROTO(int pkey, unsigned long rights, u64 gen,
		     unsigned int cpus),
	    TP_ARGS(pkey, rights, gen, cpus),
	    TP_STRUCT__entry(__field(u64, gen)
			     __field(unsigned long, rights)
			     __field(int, pkey)
			     __field(unsigned int, cpus)),
	    TP_fast_assign(__entry->gen = gen;
			   __entry->rights = rights;
			   __entry->pkey = pkey;
			   __entry->cpus = cpus;),
	    TP_printk("pkey=%d rights=0x%lx gen=%llu cpus=%u",
		      __entry->pkey, __entry->rights, __entry->gen,
		      __entry->cpus)
);

/*
 * @rights is the faulting thread's rights register as the CPU checked
 * the access, in the architecture's layout (x86: PKRU).
 */
TRACE_EVENT(pkey_fault,
	    TP_PROTO(unsigned long address, int pkey, bool write, u64 rights),
	    TP_ARGS(address, pkey, write, rights),
	    TP_STRUCT__entry(__field(unsigned long, address)
			     __field(u64, rights)
			     __field(int, pkey)
			     __field(bool, write)),
	    TP_fast_assign(__entry->address = address;
			   __entry->rights = rights;
			   __entry->pkey = pkey;
			   __entry->write = write;),
	    TP_printk("address=0x%lx pkey=%d access=%s rights=0x%llx",
		      __entry->address, __entry->pkey,
		      __entry->write ? "write" : "read", __entry->rights)
);

#endif /* _TRACE_PKEYS_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
