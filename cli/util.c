/* util.c - small helpers shared by the commands: errors, memory, files,
 * numbers. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "descriptor/banned.h"

static void out_of_memory(void)
{
	fputs("vmdkit: out of memory\n", stderr);
	exit(EXIT_SYSTEM);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

void *xrealloc(void *ptr, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		out_of_memory();
	p = realloc(ptr, n * size != 0 ? n * size : 1);
	if (p == NULL)
		out_of_memory();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		out_of_memory();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory();
	return p;
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("vmdkit: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_exit_code(desc_status status)
{
	switch (status) {
	case DESC_OK:
		return EXIT_CLEAN;
	case DESC_E_SYNTAX:
	case DESC_E_INVALID:
	case DESC_E_FORMAT:
	case DESC_E_TOO_LARGE:
	case DESC_E_CHAIN:
		return EXIT_BAD_INPUT;
	case DESC_E_IO:
	case DESC_E_NOT_FOUND:
	case DESC_E_NOMEM:
		return EXIT_SYSTEM;
	case DESC_E_EXISTS:
	case DESC_E_BUSY:
	case DESC_E_REFUSED:
		return EXIT_REFUSED;
	case DESC_E_ARG:
		/* The library saw an impossible argument: one the user gave. */
		return EXIT_USAGE;
	}
	return EXIT_SYSTEM;
}

int cli_report_error(const desc_error *err)
{
	char buf[DESC_ERROR_FILE_MAX + DESC_ERROR_MESSAGE_MAX + 32];

	desc_error_format(err, buf, sizeof(buf));
	if (err->file[0] == '\0')
		fprintf(stderr, "vmdkit: %s\n", buf[0] ? buf :
			desc_status_name(err->code));
	else
		fprintf(stderr, "%s\n", buf);
	return cli_exit_code(err->code);
}

desc_status cli_read_file(const char *path, size_t cap, char **out,
			  size_t *len, desc_error *err)
{
	bool is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "<stdin>" : path;
	size_t size = 0, alloc = 0;
	char *buf = NULL;
	desc_status st = DESC_OK;
	int fd;

	*out = NULL;
	*len = 0;
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return desc_error_set(err, errno == ENOENT ? DESC_E_NOT_FOUND :
					   DESC_E_IO, name, 0,
				      "cannot open: %s", strerror(errno));
	for (;;) {
		ssize_t n;

		if (size == alloc) {
			alloc = alloc ? alloc * 2 : 65536;
			if (alloc > cap + 1)
				alloc = cap + 1;
			buf = xrealloc(buf, alloc + 1, 1);
		}
		n = read(fd, buf + size, alloc - size);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			st = desc_error_set(err, DESC_E_IO, name, 0,
					    "cannot read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		size += (size_t)n;
		if (size > cap) {
			st = desc_error_set(err, DESC_E_TOO_LARGE, name, 0,
					    "file is larger than %zu bytes", cap);
			goto out;
		}
	}
	buf = xrealloc(buf, size + 1, 1);
	buf[size] = '\0';
	*out = buf;
	*len = size;
	buf = NULL;
out:
	free(buf);
	if (!is_stdin)
		close(fd);
	return st;
}

bool cli_parse_u64(const char *text, uint64_t *out)
{
	return desc_parse_number_all(text, strlen(text), 10, UINT64_MAX, out);
}

bool cli_parse_size(const char *text, uint64_t *out)
{
	static const char units[] = "KMGT";
	const char *p = text;
	uint64_t v;
	unsigned shift = 0;

	if (desc_parse_number(&p, NULL, 10, UINT64_MAX, &v) != DESC_NUMBER_OK)
		return false;
	if (*p != '\0') {
		const char *u = strchr(units, *p >= 'a' ? *p - 32 : *p);

		if (u == NULL || *u == '\0')
			return false;
		shift = 10 * (unsigned)(u - units + 1);
		p++;
		if (p[0] == 'i' && p[1] == 'B')
			p += 2;
		else if (p[0] == 'B')
			p++;
		if (*p != '\0')
			return false;
	}
	if (v == 0 || (shift && v > (UINT64_MAX >> shift)))
		return false;
	*out = v << shift;
	return true;
}

void cli_human_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const names[] = { "B", "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	unsigned i = 0;
	uint64_t unit = 1;

	while (i + 1 < sizeof(names) / sizeof(names[0]) &&
	       bytes / unit >= 1024) {
		unit *= 1024;
		i++;
	}
	if (bytes % unit == 0) {
		snprintf(buf, size, "%llu %s",
			 (unsigned long long)(bytes / unit), names[i]);
	} else {
		/* one decimal, rounded down: never overstate a size */
		uint64_t whole = bytes / unit;
		uint64_t tenth = (bytes % unit) / (unit / 10);

		snprintf(buf, size, "%llu.%llu %s", (unsigned long long)whole,
			 (unsigned long long)tenth, names[i]);
	}
}

desc_status cli_mkdir_missing(const char *dir, bool *made, desc_error *err)
{
	struct stat st;

	*made = false;
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return DESC_OK;
		return desc_error_set(err, DESC_E_EXISTS, dir, 0,
				      "exists and is not a folder");
	}
	if (mkdir(dir, 0777) != 0)
		return desc_error_set(err, errno == ENOENT ? DESC_E_NOT_FOUND :
					   DESC_E_IO, dir, 0,
				      "cannot create folder: %s",
				      strerror(errno));
	*made = true;
	return DESC_OK;
}

char *cli_dirname(const char *path)
{
	size_t end = strlen(path);

	while (end > 1 && path[end - 1] == '/')
		end--;
	while (end > 0 && path[end - 1] != '/')
		end--;
	while (end > 1 && path[end - 1] == '/')
		end--;
	if (end == 0)
		return xstrdup(".");
	return xasprintf("%.*s", (int)end, path);
}
