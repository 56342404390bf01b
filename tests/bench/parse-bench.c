/*
 * parse-bench.c - descriptors parsed per second (`make bench`, not a test).
 *
 *   tests/bench/parse-bench [COUNT [ROUNDS]]
 *
 * Builds COUNT (default 20000) synthetic descriptors in memory, shaped like
 * the ones vmdkit meets: monolithicSparse and vmfs ones with one extent,
 * twoGbMaxExtentSparse/Flat ones with 1 to 1024 extents (a 2 TiB split disk
 * has 1024), deltas with a parent hint, CRLF and LF, comments, 6 to 12 DDB
 * lines.  Then parses the whole set ROUNDS (default 5) times with
 * desc_parse and prints the median round as descriptors/s and MiB/s, in
 * the table row format of tests/bench/lib.sh.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "descriptor/descriptor.h"

struct buf {
	char *p;
	size_t len, cap;
};

static void put(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL) {
			perror("parse-bench");
			exit(1);
		}
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

/* A small deterministic generator: the set is the same on every run. */
static uint32_t rnd(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

static void line(struct buf *b, bool crlf, const char *text)
{
	put(b, text);
	put(b, crlf ? "\r\n" : "\n");
}

static void make_one(struct buf *b, uint32_t *state, size_t i)
{
	static const char *const adapters[] = { "lsilogic", "buslogic", "ide",
						"pvscsi" };
	bool crlf = rnd(state) % 4 == 0, delta = rnd(state) % 3 == 0;
	uint32_t kind = rnd(state) % 4, extents = 1, e, ddb;
	char l[256];

	if (kind >= 2) {
		/* split disks: mostly a few extents, now and then many */
		extents = 1 + rnd(state) % 8;
		if (rnd(state) % 50 == 0)
			extents = 1024;
	}
	line(b, crlf, "# Disk DescriptorFile");
	line(b, crlf, "version=1");
	line(b, crlf, "encoding=\"UTF-8\"");
	snprintf(l, sizeof(l), "CID=%08" PRIx32, rnd(state));
	line(b, crlf, l);
	if (delta)
		snprintf(l, sizeof(l), "parentCID=%08" PRIx32, rnd(state));
	else
		snprintf(l, sizeof(l), "parentCID=ffffffff");
	line(b, crlf, l);
	snprintf(l, sizeof(l), "createType=\"%s\"",
		 kind == 0 ? "monolithicSparse" : kind == 1 ? "vmfs" :
		 kind == 2 ? "twoGbMaxExtentSparse" : "twoGbMaxExtentFlat");
	line(b, crlf, l);
	if (delta) {
		snprintf(l, sizeof(l),
			 "parentFileNameHint=\"../base-%zu/disk-%zu.vmdk\"",
			 i % 97, i % 13);
		line(b, crlf, l);
	}
	line(b, crlf, "");
	line(b, crlf, "# Extent description");
	for (e = 0; e < extents; e++) {
		if (kind <= 1)
			snprintf(l, sizeof(l), "RW %" PRIu32 " %s \"disk-%zu%s\"",
				 (rnd(state) % 1000 + 1) * 2048u,
				 kind == 0 ? "SPARSE" : "VMFS", i,
				 kind == 0 ? ".vmdk" : "-flat.vmdk");
		else
			snprintf(l, sizeof(l),
				 "RW %u %s \"disk-%zu-%c%03" PRIu32 ".vmdk\"%s",
				 e + 1 < extents ? 4192256u : 2048u,
				 kind == 2 ? "SPARSE" : "FLAT", i,
				 kind == 2 ? 's' : 'f', e + 1,
				 kind == 3 ? " 0" : "");
		line(b, crlf, l);
	}
	line(b, crlf, "");
	line(b, crlf, "# The Disk Data Base");
	line(b, crlf, "#DDB");
	line(b, crlf, "");
	snprintf(l, sizeof(l), "ddb.adapterType = \"%s\"",
		 adapters[rnd(state) % 4]);
	line(b, crlf, l);
	line(b, crlf, "ddb.geometry.cylinders = \"16383\"");
	line(b, crlf, "ddb.geometry.heads = \"16\"");
	line(b, crlf, "ddb.geometry.sectors = \"63\"");
	snprintf(l, sizeof(l),
		 "ddb.longContentID = \"%08" PRIx32 "%08" PRIx32 "%08" PRIx32 "%08" PRIx32 "\"",
		 rnd(state), rnd(state), rnd(state), rnd(state));
	line(b, crlf, l);
	line(b, crlf, "ddb.virtualHWVersion = \"14\"");
	for (ddb = rnd(state) % 7; ddb > 0; ddb--) {
		snprintf(l, sizeof(l), "ddb.toolsInstallType%" PRIu32 " = \"%" PRIu32 "\"",
			 ddb, rnd(state) % 5);
		line(b, crlf, l);
	}
}

static double seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t count = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
	size_t rounds = argc > 2 ? strtoul(argv[2], NULL, 10) : 5;
	struct buf *set;
	size_t i, r, total = 0;
	uint32_t state = 2026;
	double *times, med;

	if (count == 0 || rounds == 0) {
		fprintf(stderr, "usage: parse-bench [COUNT [ROUNDS]]\n");
		return 2;
	}
	set = calloc(count, sizeof(*set));
	times = calloc(rounds, sizeof(*times));
	if (set == NULL || times == NULL) {
		perror("parse-bench");
		return 1;
	}
	for (i = 0; i < count; i++) {
		make_one(&set[i], &state, i);
		total += set[i].len;
	}
	for (r = 0; r < rounds; r++) {
		double t0 = seconds();

		for (i = 0; i < count; i++) {
			desc_descriptor *d = NULL;
			desc_error err;

			if (desc_parse(set[i].p, set[i].len, "synthetic", &d,
				       NULL, &err) != DESC_OK) {
				fprintf(stderr, "parse-bench: descriptor %zu: %s\n",
					i, err.message);
				return 1;
			}
			desc_free(d);
		}
		times[r] = seconds() - t0;
	}
	qsort(times, rounds, sizeof(*times), cmp_double);
	med = rounds % 2 ? times[rounds / 2] :
			   (times[rounds / 2 - 1] + times[rounds / 2]) / 2;
	printf("| parse %zu descriptors (%.1f MiB) | %.3f s | - | - | - | "
	       "%.0f descriptors/s, %.1f MiB/s, median of %zu rounds |\n",
	       count, (double)total / 1048576.0, med, (double)count / med,
	       (double)total / 1048576.0 / med, rounds);
	for (i = 0; i < count; i++)
		free(set[i].p);
	free(set);
	free(times);
	return 0;
}
