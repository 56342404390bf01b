/*
 * progress.c - the progress bar (see progress.h).
 */
#include "config.h"

#include <inttypes.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "descriptor/banned.h"

#define BAR_WIDTH 24
#define REDRAW_MS 200u
#define QUIET_MS 1000u

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void cli_progress_init(struct cli_progress *p, const char *label,
		       enum cli_progress_mode mode)
{
	p->mode = mode;
	if (mode == CLI_PROGRESS_AUTO && !isatty(STDERR_FILENO))
		p->mode = CLI_PROGRESS_OFF;
	p->label = label;
	p->out = stderr;
	p->start_ms = now_ms();
	p->last_ms = 0;
	p->last_done = 0;
	p->drawn = false;
}

static void format_eta(uint64_t seconds, char *buf, size_t size)
{
	if (seconds >= 3600)
		snprintf(buf, size, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64,
			 seconds / 3600, seconds / 60 % 60, seconds % 60);
	else
		snprintf(buf, size, "%" PRIu64 ":%02" PRIu64, seconds / 60,
			 seconds % 60);
}

void cli_progress_update(void *ctx, uint64_t done, uint64_t total)
{
	struct cli_progress *p = ctx;
	uint64_t t = now_ms(), elapsed = t - p->start_ms, rate = 0;
	char bar[BAR_WIDTH + 1], sdone[32], stotal[32], srate[32], seta[32];
	unsigned filled, pct, i;

	if (p->mode == CLI_PROGRESS_OFF)
		return;
	if (p->mode == CLI_PROGRESS_AUTO && elapsed < QUIET_MS)
		return;
	/* The last call (done == total) always draws, the others at most
	 * every REDRAW_MS. */
	if (done < total && p->drawn && t - p->last_ms < REDRAW_MS)
		return;
	if (p->drawn && done == p->last_done)
		return;
	p->last_ms = t;
	p->last_done = done;
	if (total == 0)
		total = 1;
	if (done > total)
		done = total;
	pct = (unsigned)(done * 100 / total);
	filled = (unsigned)(done * BAR_WIDTH / total);
	for (i = 0; i < BAR_WIDTH; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[BAR_WIDTH] = '\0';
	if (elapsed > 0)
		rate = done * 1000 / elapsed;
	cli_human_size(done, sdone, sizeof(sdone));
	cli_human_size(total, stotal, sizeof(stotal));
	cli_human_size(rate, srate, sizeof(srate));
	if (rate > 0)
		format_eta((total - done) / rate, seta, sizeof(seta));
	else
		snprintf(seta, sizeof(seta), "--:--");
	fprintf(p->out, "\r%s [%s] %3u%% %s / %s  %s/s  %s left\033[K",
		p->label, bar, pct, sdone, stotal, srate, seta);
	fflush(p->out);
	p->drawn = true;
}

void cli_progress_finish(struct cli_progress *p)
{
	if (p->drawn) {
		fputc('\n', p->out);
		fflush(p->out);
	}
	p->drawn = false;
}
