/* alloc.c - the one allocator of libvmdkit, with a failure-injection hook. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor/private.h"

/* Per thread: the library stamps leaves on several threads, and a test
 * that arms the hook (or counts) gets one thread (vk_alloc_failure_armed),
 * so its counts are the same every run. */
static _Thread_local unsigned long alloc_count;
static unsigned long alloc_fail_at;

bool vk_alloc_failure_armed(void)
{
	return alloc_fail_at != 0;
}

unsigned long desc_test_fail_allocation(unsigned long nth)
{
	unsigned long counted = alloc_count;

	alloc_count = 0;
	alloc_fail_at = nth;
	return counted;
}

static int injected_failure(void)
{
	alloc_count++;
	if (alloc_fail_at != 0 && alloc_count == alloc_fail_at) {
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *vk_malloc(size_t size)
{
	if (injected_failure())
		return NULL;
	return malloc(size ? size : 1);
}

void *vk_calloc(size_t count, size_t size)
{
	if (injected_failure())
		return NULL;
	return calloc(count ? count : 1, size ? size : 1);
}

void *vk_reallocarray(void *ptr, size_t count, size_t size)
{
	size_t bytes;

	if (__builtin_mul_overflow(count, size, &bytes)) {
		errno = ENOMEM;
		return NULL;
	}
	if (injected_failure())
		return NULL;
	return realloc(ptr, bytes ? bytes : 1);
}

char *vk_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *copy = vk_malloc(len + 1);

	if (copy == NULL)
		return NULL;
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

char *vk_strdup(const char *s)
{
	return vk_strndup(s, strlen(s));
}

char *vk_vasprintf(const char *fmt, va_list ap)
{
	va_list copy;
	int len;
	char *buf;

	va_copy(copy, ap);
	len = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (len < 0)
		return NULL;
	buf = vk_malloc((size_t)len + 1);
	if (buf == NULL)
		return NULL;
	vsnprintf(buf, (size_t)len + 1, fmt, ap);
	return buf;
}

char *vk_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *buf;

	va_start(ap, fmt);
	buf = vk_vasprintf(fmt, ap);
	va_end(ap);
	return buf;
}

void vk_free(void *ptr)
{
	free(ptr);
}
