/* SPDX-License-Identifier: MIT */
/*
 * How many CPUs this process may run on: the one question that needs
 * _GNU_SOURCE (sched_getaffinity(), CPU_COUNT), kept out of the files
 * that want the XSI strerror_r().
 */
#define _GNU_SOURCE
#include <sched.h>
#include <unistd.h>

#include "private.h"

size_t
migrate__cpus(void)
{
	long n;

#if defined(__linux__) && defined(CPU_COUNT)
	{
		cpu_set_t set;

		/* Respects taskset and cpusets, unlike the online count. */
		if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
		    CPU_COUNT(&set) > 0)
			return (size_t)CPU_COUNT(&set);
	}
#endif
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (size_t)n : 1;
}
