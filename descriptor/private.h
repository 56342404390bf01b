/*
 * private.h - internal helpers shared by descriptor/ and vmdk/ (never
 * installed).  All allocation in libvmdkit goes through vk_* so the
 * allocation-failure test hook (desc_test_fail_allocation) sees it.
 */
#ifndef VMDKIT_DESCRIPTOR_PRIVATE_H
#define VMDKIT_DESCRIPTOR_PRIVATE_H

#include <stdarg.h>
#include <stddef.h>

#include "descriptor/descriptor.h"

/* True while desc_test_fail_allocation has armed a failure. */
bool vk_alloc_failure_armed(void);
void *vk_malloc(size_t size);
void *vk_calloc(size_t count, size_t size);
/* Resizes to count*size bytes; NULL (old block untouched) on overflow or
 * failure. */
void *vk_reallocarray(void *ptr, size_t count, size_t size);
char *vk_strdup(const char *s);
char *vk_strndup(const char *s, size_t n);
/* malloc'ed printf; NULL on failure. */
char *vk_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *vk_vasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
void vk_free(void *ptr);

/* Overflow-checked arithmetic: false on overflow. */
static inline int vk_add_u64(unsigned long long a, unsigned long long b,
			     unsigned long long *out)
{
	return !__builtin_add_overflow(a, b, out);
}
static inline int vk_mul_u64(unsigned long long a, unsigned long long b,
			     unsigned long long *out)
{
	return !__builtin_mul_overflow(a, b, out);
}

desc_status desc_error_vset(desc_error *err, desc_status code, const char *file,
			    unsigned line, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

#include "descriptor/banned.h"

#endif
