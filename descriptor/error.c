/* error.c - desc_error and desc_findings: how the library reports. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "descriptor/private.h"

void desc_error_clear(desc_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

desc_status desc_error_vset(desc_error *err, desc_status code, const char *file,
			    unsigned line, const char *fmt, va_list ap)
{
	if (err == NULL)
		return code;
	err->code = code;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	err->column = 0;
	err->errnum = 0;
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	return code;
}

desc_status desc_error_set(desc_error *err, desc_status code, const char *file,
			   unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	desc_error_vset(err, code, file, line, fmt, ap);
	va_end(ap);
	return code;
}

void desc_error_format(const desc_error *err, char *buf, size_t size)
{
	if (err->file[0] != '\0' && err->line != 0)
		snprintf(buf, size, "%s:%u: %s", err->file, err->line,
			 err->message);
	else if (err->file[0] != '\0')
		snprintf(buf, size, "%s: %s", err->file, err->message);
	else
		snprintf(buf, size, "%s", err->message);
}

const char *desc_status_name(desc_status code)
{
	switch (code) {
	case DESC_OK: return "ok";
	case DESC_E_NOMEM: return "out of memory";
	case DESC_E_SYNTAX: return "syntax error";
	case DESC_E_INVALID: return "invalid";
	case DESC_E_TOO_LARGE: return "too large";
	case DESC_E_NOT_FOUND: return "not found";
	case DESC_E_ARG: return "bad argument";
	case DESC_E_IO: return "i/o error";
	case DESC_E_FORMAT: return "bad format";
	case DESC_E_CHAIN: return "broken chain";
	case DESC_E_EXISTS: return "already exists";
	case DESC_E_BUSY: return "in use";
	case DESC_E_REFUSED: return "refused";
	}
	return "unknown status";
}

void desc_findings_init(desc_findings *list)
{
	memset(list, 0, sizeof(*list));
}

void desc_findings_clear(desc_findings *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->count; i++) {
		vk_free(list->items[i].file);
		vk_free(list->items[i].message);
	}
	vk_free(list->items);
	desc_findings_init(list);
}

desc_status desc_findings_add(desc_findings *list, desc_severity severity,
			      const char *code, const char *file, unsigned line,
			      const char *fmt, ...)
{
	desc_finding *item;
	va_list ap;

	if (list->count == list->capacity) {
		size_t cap = list->capacity ? list->capacity * 2 : 8;
		desc_finding *items =
			vk_reallocarray(list->items, cap, sizeof(*items));

		if (items == NULL)
			return DESC_E_NOMEM;
		list->items = items;
		list->capacity = cap;
	}
	item = &list->items[list->count];
	memset(item, 0, sizeof(*item));
	item->severity = severity;
	item->code = code;
	item->line = line;
	if (file != NULL && (item->file = vk_strdup(file)) == NULL)
		return DESC_E_NOMEM;
	va_start(ap, fmt);
	item->message = vk_vasprintf(fmt, ap);
	va_end(ap);
	if (item->message == NULL) {
		vk_free(item->file);
		return DESC_E_NOMEM;
	}
	list->count++;
	return DESC_OK;
}

int desc_findings_max_severity(const desc_findings *list)
{
	int max = -1;

	for (size_t i = 0; i < list->count; i++)
		if ((int)list->items[i].severity > max)
			max = (int)list->items[i].severity;
	return max;
}

const char *desc_severity_name(desc_severity severity)
{
	switch (severity) {
	case DESC_SEV_INFO: return "info";
	case DESC_SEV_WARNING: return "warning";
	case DESC_SEV_ERROR: return "error";
	}
	return "unknown";
}
