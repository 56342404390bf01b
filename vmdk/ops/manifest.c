/*
 * manifest.c - the integrity manifest of a base folder.
 *
 * Format (VMDK_MANIFEST_NAME in the base folder), LF line endings:
 *
 *   # vmdkit base manifest v1
 *   sha256 SIZE HEX  NAME
 *   ...
 *
 * SIZE is the file size in bytes (decimal), HEX 64 lowercase hex digits,
 * then two spaces and the file name as it is on disk (no '/', may hold
 * spaces and UTF-8; a name with a newline is refused).  The whole file
 * content is hashed, holes included (read as zeros): skipping holes would
 * make the hash depend on how the filesystem stores the file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "vmdk/vmdk.h"
#include "vmdk/ops/ops.h"
#include "descriptor/private.h"

#define MANIFEST_HEADER "# vmdkit base manifest v1"
#define HASH_CHUNK (1024u * 1024u)

void manifest_clear(manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->count; i++)
		vk_free(m->entries[i].name);
	vk_free(m->entries);
	memset(m, 0, sizeof(*m));
}

static desc_status io_error(desc_error *err, int errnum, const char *dir,
			    const char *name, const char *what)
{
	desc_status st;
	char *path = vk_asprintf("%s/%s", dir, name);

	st = desc_error_set(err, errnum == ENOENT ? DESC_E_NOT_FOUND : DESC_E_IO,
			    path ? path : name, 0, "cannot %s: %s", what,
			    strerror(errnum));
	if (err != NULL)
		err->errnum = errnum;
	vk_free(path);
	return st;
}

desc_status manifest_hash_file(int dir_fd, const char *dir_path,
			       const char *name, uint64_t *size,
			       unsigned char sha256[32], desc_error *err)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	unsigned int mdlen = 0;
	uint64_t total = 0;
	desc_status st = DESC_OK;
	struct stat sb;
	int fd;

	fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return io_error(err, errno, dir_path, name, "open");
	if (fstat(fd, &sb) != 0) {
		st = io_error(err, errno, dir_path, name, "stat");
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		st = desc_error_set(err, DESC_E_INVALID, name, 0,
				    "not a regular file (expected a base file)");
		goto out;
	}
	buf = vk_malloc(HASH_CHUNK);
	ctx = EVP_MD_CTX_new();
	if (buf == NULL || ctx == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		st = desc_error_set(err, DESC_E_IO, name, 0,
				    "cannot start SHA-256");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, HASH_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st = io_error(err, errno, dir_path, name, "read");
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			st = desc_error_set(err, DESC_E_IO, name, 0,
					    "SHA-256 failed");
			goto out;
		}
		total += (uint64_t)n;
	}
	if (EVP_DigestFinal_ex(ctx, sha256, &mdlen) != 1 || mdlen != 32) {
		st = desc_error_set(err, DESC_E_IO, name, 0, "SHA-256 failed");
		goto out;
	}
	*size = total;
out:
	EVP_MD_CTX_free(ctx);
	vk_free(buf);
	close(fd);
	return st;
}

desc_status manifest_add_file(manifest *m, int dir_fd, const char *dir_path,
			      const char *name, desc_error *err)
{
	manifest_entry *e;
	desc_status st;

	if (strchr(name, '\n') != NULL || strchr(name, '/') != NULL)
		return desc_error_set(err, DESC_E_INVALID, name, 0,
				      "file name holds a newline or '/' (expected a plain file name)");
	if (m->count == m->capacity) {
		size_t cap = m->capacity ? m->capacity * 2 : 8;
		manifest_entry *grown = vk_reallocarray(m->entries, cap,
							sizeof(*grown));

		if (grown == NULL)
			return vk_nomem(err);
		m->entries = grown;
		m->capacity = cap;
	}
	e = &m->entries[m->count];
	memset(e, 0, sizeof(*e));
	st = manifest_hash_file(dir_fd, dir_path, name, &e->size, e->sha256,
				err);
	if (st != DESC_OK)
		return st;
	e->name = vk_strdup(name);
	if (e->name == NULL)
		return vk_nomem(err);
	m->count++;
	return DESC_OK;
}

desc_status manifest_format(const manifest *m, char **out, size_t *len,
			    desc_error *err)
{
	size_t total = sizeof(MANIFEST_HEADER), i, pos;
	char *buf;

	*out = NULL;
	for (i = 0; i < m->count; i++)
		/* "sha256 " + 20 digits + " " + 64 + "  " + name + "\n" */
		total += 7 + 20 + 1 + 64 + 2 + strlen(m->entries[i].name) + 1;
	buf = vk_malloc(total + 1);
	if (buf == NULL)
		return vk_nomem(err);
	pos = (size_t)snprintf(buf, total + 1, "%s\n", MANIFEST_HEADER);
	for (i = 0; i < m->count; i++) {
		const manifest_entry *e = &m->entries[i];
		char digest[65];

		vk_hex_encode(e->sha256, sizeof(e->sha256), digest);
		pos += (size_t)snprintf(buf + pos, total + 1 - pos,
					"sha256 %llu %s  %s\n",
					(unsigned long long)e->size, digest,
					e->name);
	}
	*out = buf;
	*len = pos;
	return DESC_OK;
}

static bool read_literal(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

static desc_status parse_line(const char *s, const char *end, const char *path,
			      unsigned line, manifest *out, desc_error *err)
{
	manifest_entry *e;
	uint64_t size;
	unsigned char digest[32];

	if (!read_literal(&s, end, "sha256 ") ||
	    desc_parse_number(&s, end, 10, UINT64_MAX, &size) != DESC_NUMBER_OK ||
	    !read_literal(&s, end, " ") || end - s < 64 + 3 ||
	    !vk_hex_decode(s, 64, digest, sizeof(digest)))
		goto bad;
	s += 64;
	if (!read_literal(&s, end, "  ") || s == end || memchr(s, '/', (size_t)(end - s)))
		goto bad;
	if (out->count == out->capacity) {
		size_t cap = out->capacity ? out->capacity * 2 : 8;
		manifest_entry *grown = vk_reallocarray(out->entries, cap,
							sizeof(*grown));

		if (grown == NULL)
			return vk_nomem(err);
		out->entries = grown;
		out->capacity = cap;
	}
	e = &out->entries[out->count];
	e->name = vk_strndup(s, (size_t)(end - s));
	if (e->name == NULL)
		return vk_nomem(err);
	e->size = size;
	memcpy(e->sha256, digest, sizeof(digest));
	out->count++;
	return DESC_OK;
bad:
	return desc_error_set(err, DESC_E_SYNTAX, path, line,
			      "bad manifest line (expected 'sha256 SIZE HEX  NAME')");
}

desc_status manifest_parse(const char *text, size_t len, const char *path,
			   manifest *out, desc_error *err)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;
	desc_status st;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		line++;
		if (line == 1) {
			if ((size_t)(eol - p) != strlen(MANIFEST_HEADER) ||
			    memcmp(p, MANIFEST_HEADER, strlen(MANIFEST_HEADER)) != 0) {
				st = desc_error_set(err, DESC_E_SYNTAX, path, 1,
						    "not a vmdkit base manifest (expected '%s')",
						    MANIFEST_HEADER);
				goto fail;
			}
		} else if (eol != p) {
			st = parse_line(p, eol, path, line, out, err);
			if (st != DESC_OK)
				goto fail;
		}
		p = nl ? nl + 1 : end;
	}
	if (line == 0) {
		st = desc_error_set(err, DESC_E_SYNTAX, path, 0,
				    "empty manifest (expected '%s')",
				    MANIFEST_HEADER);
		goto fail;
	}
	return DESC_OK;
fail:
	manifest_clear(out);
	return st;
}

const manifest_entry *manifest_find(const manifest *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->count; i++)
		if (strcmp(m->entries[i].name, name) == 0)
			return &m->entries[i];
	return NULL;
}
