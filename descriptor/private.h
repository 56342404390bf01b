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

/* The value of hex digit c (either case), or -1. */
int vk_hex_digit(int c);
/* True when s[0..len) is one or more hex digits (any number of them:
 * no value is computed). */
bool vk_all_hex_digits(const char *s, size_t len);
/* Writes the 2*n lowercase hex digits of in[0..n) and a NUL into out,
 * which holds at least 2*n+1 bytes.  vk_hex_encode_upper: uppercase. */
void vk_hex_encode(const void *in, size_t n, char *out);
void vk_hex_encode_upper(const void *in, size_t n, char *out);
/* Exactly 2*n hex digits at hex[0..hexlen) into out[0..n): false (out
 * unspecified) when hexlen != 2*n or a byte is not a hex digit. */
bool vk_hex_decode(const char *hex, size_t hexlen, void *out, size_t n);

/* Fills err with DESC_E_NOMEM ("out of memory") and returns it: the one
 * allocation-failure error of the library.  vk_nomem_at also names the
 * file and line being read when it failed (file may be NULL). */
desc_status vk_nomem(desc_error *err);
desc_status vk_nomem_at(desc_error *err, const char *file, unsigned line);

desc_status desc_error_vset(desc_error *err, desc_status code, const char *file,
			    unsigned line, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

#include "descriptor/banned.h"

#endif
