/*
 * progress.h - a one-line progress bar on stderr for long copies
 * (promote, full clones): bytes done, rate and time left.
 *
 * Shown only when stderr is a terminal and the work has taken more than a
 * second already (so quick runs print nothing), unless forced on or off
 * with --progress / --no-progress.
 */
#ifndef VMDKIT_CLI_PROGRESS_H
#define VMDKIT_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum cli_progress_mode {
	CLI_PROGRESS_AUTO = 0, /* a terminal, and after one second */
	CLI_PROGRESS_ON,       /* always, from the start */
	CLI_PROGRESS_OFF,
};

struct cli_progress {
	enum cli_progress_mode mode;
	const char *label;
	FILE *out;
	uint64_t start_ms;
	uint64_t last_ms;   /* last redraw */
	uint64_t last_done; /* bytes shown then */
	bool drawn;         /* a line is on screen (finish ends it) */
};

void cli_progress_init(struct cli_progress *p, const char *label,
		       enum cli_progress_mode mode);
/* A vmdk_progress_fn: ctx is the struct cli_progress. */
void cli_progress_update(void *ctx, uint64_t done, uint64_t total);
/* Ends the line when one was drawn. */
void cli_progress_finish(struct cli_progress *p);

/* Long option keys for --progress / --no-progress, shared by the
 * commands that copy data. */
enum {
	OPT_PROGRESS = 400,
	OPT_NO_PROGRESS,
};

/* `vmdkit promote` (cli/cmd_promote.c). */
struct cli_command;
int cmd_promote(const struct cli_command *cmd, int argc, char **argv);

#endif
