/* steps.c - the report callbacks of the mutating commands: each step the
 * library takes (or would take) printed as it happens in text, or
 * collected for YAML/JSON. */
#include "config.h"

#include <string.h>

#include "cli/cli.h"
#include "descriptor/banned.h"

void cli_steps_init(struct cli_steps *s, enum out_format format)
{
	s->format = format;
	s->list = NULL;
	s->indent = "";
	s->count = 0;
}

/* The library reports a move or copy as "FROM -> TO". */
static const char *find_arrow(const char *path)
{
	for (const char *p = path; *p != '\0'; p++)
		if (strncmp(p, " -> ", 4) == 0)
			return p;
	return NULL;
}

/* One step in text: "ACTION 'PATH'", or "ACTION 'FROM' -> 'TO'" with
 * each path quoted on its own (`from` is from[0..from_len)). */
static void print_step(const struct cli_steps *s, const char *action,
		       const char *from, int from_len, const char *to)
{
	if (to != NULL)
		printf("%s%s '%.*s' -> '%s'\n", s->indent, action, from_len,
		       from, to);
	else
		printf("%s%s '%s'\n", s->indent, action, from);
	fflush(stdout);
}

void cli_steps_report(void *ctx, const char *action, const char *path)
{
	struct cli_steps *s = ctx;

	s->count++;
	if (s->format == OUT_TEXT) {
		const char *arrow = path ? find_arrow(path) : NULL;

		print_step(s, action, path ? path : "",
			   arrow ? (int)(arrow - path) : 0,
			   arrow ? arrow + 4 : NULL);
		return;
	}
	if (s->list != NULL) {
		out_node *m = out_add_map(s->list, NULL);

		out_add_str(m, "action", action);
		out_add_str(m, "path", path);
	}
}

/* The transaction's report (vmdk_step_fn): one path, or FROM and TO as
 * two fields, never one "A -> B" string. */
void cli_steps_step(void *ctx, const char *action, const char *path,
		    const char *to)
{
	struct cli_steps *s = ctx;

	s->count++;
	if (s->format == OUT_TEXT) {
		print_step(s, action, path, (int)strlen(path), to);
		return;
	}
	if (s->list != NULL) {
		out_node *m = out_add_map(s->list, NULL);

		out_add_str(m, "action", action);
		if (to != NULL) {
			out_add_str(m, "from", path);
			out_add_str(m, "to", to);
		} else {
			out_add_str(m, "path", path);
		}
	}
}

void cli_print_notes(const desc_findings *notes)
{
	for (size_t i = 0; i < notes->count; i++)
		fprintf(stderr, "vmdkit: %s: %s [%s]\n",
			desc_severity_name(notes->items[i].severity),
			notes->items[i].message, notes->items[i].code);
}
