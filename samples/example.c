/*
 * example.c - using libvmdkit from another program.
 *
 * Reads a VMDK text descriptor, points one extent at a new file name and
 * writes the descriptor back.  Only the extent line changes: every other
 * byte (comments, spacing, key order) is kept as it was.
 *
 *   usage: example DISK.vmdk INDEX NEWPATH [OUT.vmdk]
 *
 * Without OUT.vmdk the result goes to stdout.  Build it against an
 * installed libvmdkit with
 *
 *   cc example.c $(pkg-config --cflags --libs libvmdkit) -o example
 *
 * (`make check` builds it against the tree, so it cannot go stale.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmdk/vmdk.h>

/* The descriptor layer works on memory: read the whole file. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, used = 0;

	if (f == NULL)
		return NULL;
	for (;;) {
		if (used == cap) {
			char *grown;

			cap = cap ? cap * 2 : 4096;
			grown = realloc(buf, cap);
			if (grown == NULL) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = grown;
		}
		size_t n = fread(buf + used, 1, cap - used, f);

		used += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	*len = used;
	return buf;
}

/* Parses a non-negative decimal index without atoi (which cannot fail). */
static int parse_index(const char *s, size_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	desc_descriptor *desc = NULL;
	desc_findings warnings;
	desc_error err;
	char msg[2048];
	char *text = NULL, *out = NULL;
	size_t len = 0, out_len = 0, index;
	FILE *dst = stdout;
	int rc = 1;

	desc_findings_init(&warnings);
	if (argc < 4 || argc > 5 || parse_index(argv[2], &index) != 0) {
		fprintf(stderr, "usage: %s DISK.vmdk INDEX NEWPATH [OUT.vmdk]\n",
			argv[0]);
		return 2;
	}
	text = read_file(argv[1], &len);
	if (text == NULL) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
		return 4;
	}
	if (desc_parse(text, len, argv[1], &desc, &warnings, &err) != DESC_OK)
		goto fail;
	for (size_t i = 0; i < warnings.count; i++)
		fprintf(stderr, "%s:%u: warning: %s [%s]\n", argv[1],
			warnings.items[i].line, warnings.items[i].message,
			warnings.items[i].code);

	if (index >= desc_extent_count(desc)) {
		fprintf(stderr, "%s: no extent %zu (the descriptor has %zu)\n",
			argv[1], index, desc_extent_count(desc));
		goto out;
	}
	fprintf(stderr, "extent %zu: %s -> %s\n", index,
		desc_extent_at(desc, index)->path, argv[3]);
	if (desc_extent_set_path(desc, index, argv[3], &err) != DESC_OK)
		goto fail;
	if (desc_write(desc, &out, &out_len, &err) != DESC_OK)
		goto fail;

	if (argc == 5) {
		dst = fopen(argv[4], "wb");
		if (dst == NULL) {
			fprintf(stderr, "%s: %s\n", argv[4], strerror(errno));
			goto out;
		}
	}
	if (fwrite(out, 1, out_len, dst) != out_len || fflush(dst) != 0) {
		fprintf(stderr, "%s: write failed\n", argc == 5 ? argv[4] : "-");
		goto out;
	}
	rc = 0;
	goto out;
fail:
	desc_error_format(&err, msg, sizeof(msg));
	fprintf(stderr, "%s\n", msg);
out:
	if (dst != stdout && dst != NULL && fclose(dst) != 0 && rc == 0)
		rc = 1;
	free(out);
	desc_free(desc);
	desc_findings_clear(&warnings);
	free(text);
	return rc;
}
