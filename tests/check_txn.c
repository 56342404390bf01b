/*
 * check_txn.c - the transaction module (vmdk/fs/txn.c): every step kind,
 * commit, abort, a failure and a kill before every filesystem call
 * (VMDKIT_FAILPOINT, in a re-executed copy of this program) rolled back
 * or forward, journals of another host or a live process left alone,
 * look-alike folders left alone, a changed inode refused, and dry run ==
 * run.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmdk/fs/fs.h"
#include "vmdk/fs/txn.h"
#include "descriptor/private.h"

static char tmpdir[256];
static char *self_path;

static void make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/check_txn.XXXXXX",
		 base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(chdir(tmpdir), 0);
}

static void remove_tmpdir(void)
{
	desc_error err;

	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_int_eq(fs_remove_tree(tmpdir, &err), DESC_OK);
}

static void put(const char *path, const char *text, mode_t mode)
{
	desc_error err;

	ck_assert_int_eq(fs_write_new(path, text, strlen(text), mode, false,
				      &err), DESC_OK);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static char *slurp(const char *path);

/* The content of path is `text`. */
static void assert_content(const char *path, const char *text)
{
	char *got = slurp(path);

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, text);
	vk_free(got);
}

static char *slurp(const char *path)
{
	char *text = NULL;
	size_t len;
	desc_error err;

	if (fs_read_file(path, 1 << 20, &text, &len, &err) != DESC_OK)
		return NULL;
	return text;
}

/* Every entry of `dir` (recursive, sorted), with type, mode and bytes;
 * staging folders (which a kill leaves) only with `all`. */
static void listing_into(const char *dir, const char *prefix, bool all,
			 char **out)
{
	struct dirent **names;
	int n, i;

	n = scandir(dir, &names, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char *path, *line, *grown;
		struct stat st;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    (!all && strncmp(name, FS_STAGING_PREFIX,
				     strlen(FS_STAGING_PREFIX)) == 0)) {
			free(names[i]);
			continue;
		}
		path = fs_join(dir, name);
		ck_assert_int_eq(lstat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			line = vk_asprintf("%s%s/ %o\n", prefix, name,
					   st.st_mode & 07777);
		} else {
			char *text = slurp(path);
			size_t len = text ? strlen(text) : 0;

			if (len > 0 && text[len - 1] == '\n')
				text[len - 1] = '\0';
			line = vk_asprintf("%s%s %o %s\n", prefix, name,
					   st.st_mode & 07777,
					   text ? text : "?");
			vk_free(text);
		}
		grown = vk_asprintf("%s%s", *out, line);
		vk_free(*out);
		vk_free(line);
		*out = grown;
		if (S_ISDIR(st.st_mode)) {
			char *sub = vk_asprintf("%s%s/", prefix, name);

			listing_into(path, sub, all, out);
			vk_free(sub);
		}
		vk_free(path);
		free(names[i]);
	}
	free(names);
}

static char *listing(const char *dir, bool all)
{
	char *out = vk_strdup("");

	listing_into(dir, "", all, &out);
	return out;
}

/* Collects reported steps as lines. */
struct steps {
	char *text;
};

static void collect(void *ctx, const char *action, const char *path,
		    const char *to)
{
	struct steps *s = ctx;
	char *grown = vk_asprintf("%s%s %s%s%s\n", s->text ? s->text : "",
				  action, path, to ? " -> " : "", to ? to : "");

	vk_free(s->text);
	s->text = grown;
}

/* ------------------------------------------------------------------ */
/* The scenario: one transaction with every kind of step              */
/* ------------------------------------------------------------------ */

static void scenario_tree(const char *dir)
{
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	ck_assert_int_eq(chdir(dir), 0);
	put("a.txt", "old a\n", 0640);
	put("b.txt", "bee\n", 0644);
	put("c.bin", "0123456789", 0644);
	put("d.txt", "obsolete\n", 0644);
	put("e.txt", "to protect\n", 0644);
	ck_assert_int_eq(chdir(".."), 0);
}

/* What the tree looks like after the scenario committed. */
static const char final_tree[] =
	"a.txt 640 new a\n"
	"b2.txt 644 bee\n"
	"c.bin 644 01XY456789\n"
	"e.txt 444 to protect\n"
	"f.txt 600 fresh\n"
	"g/ 755\n"
	"g/x.txt 644 inside\n"
	"h.txt 640 old a\n";

/* Runs the scenario in the current folder; DESC_OK when committed. */
static desc_status scenario(unsigned flags, fs_txn_report_fn report,
			    void *ctx, desc_findings *notes, desc_error *err)
{
	fs_txn *t = NULL;
	desc_status st;

	st = fs_txn_begin(".", "test", flags, report, ctx, notes, &t, err);
	if (st == DESC_OK)
		st = fs_txn_link_or_copy(t, "a.txt", "h.txt", err);
	if (st == DESC_OK)
		st = fs_txn_replace(t, "a.txt", "new a\n", 6, err);
	if (st == DESC_OK)
		st = fs_txn_rename(t, "b.txt", "b2.txt", err);
	if (st == DESC_OK)
		st = fs_txn_pwrite(t, "c.bin", "XY", 2, 2, err);
	if (st == DESC_OK)
		st = fs_txn_create(t, "f.txt", "fresh\n", 6, 0600, err);
	if (st == DESC_OK)
		st = fs_txn_mkdir(t, "g", 0755, err);
	if (st == DESC_OK)
		st = fs_txn_create(t, "g/x.txt", "inside\n", 7, 0644, err);
	if (st == DESC_OK)
		st = fs_txn_chmod(t, "e.txt", 0444, err);
	if (st == DESC_OK)
		st = fs_txn_unlink(t, "d.txt", err);
	if (st == DESC_OK)
		st = fs_txn_commit(t, err);
	fs_txn_free(t);
	return st;
}

static const char expected_steps[] =
	"copy a.txt -> h.txt\n"
	"replace a.txt\n"
	"rename b.txt -> b2.txt\n"
	"write c.bin\n"
	"create f.txt\n"
	"mkdir g\n"
	"create g/x.txt\n"
	"chmod e.txt\n"
	"remove d.txt\n";

START_TEST(test_every_step_commits)
{
	struct steps s = { NULL };
	desc_findings notes;
	desc_error err;
	char *after;

	make_tmpdir();
	scenario_tree("w");
	ck_assert_int_eq(chdir("w"), 0);
	desc_findings_init(&notes);
	ck_assert_int_eq(scenario(0, collect, &s, &notes, &err), DESC_OK);
	ck_assert_str_eq(s.text, expected_steps);
	after = listing(".", true);
	ck_assert_str_eq(after, final_tree);
	ck_assert_uint_eq(notes.count, 0);
	vk_free(after);
	vk_free(s.text);
	desc_findings_clear(&notes);
	remove_tmpdir();
}
END_TEST

START_TEST(test_dry_run_equals_run)
{
	struct steps dry = { NULL }, run = { NULL };
	desc_error err;
	char *before, *after;

	make_tmpdir();
	scenario_tree("dry");
	scenario_tree("run");
	ck_assert_int_eq(chdir("dry"), 0);
	before = listing(".", true);
	ck_assert_int_eq(scenario(FS_TXN_DRY_RUN, collect, &dry, NULL, &err),
			 DESC_OK);
	after = listing(".", true);
	ck_assert_str_eq(before, after); /* nothing written, not even staging */
	ck_assert_int_eq(chdir("../run"), 0);
	ck_assert_int_eq(scenario(0, collect, &run, NULL, &err), DESC_OK);
	ck_assert_ptr_nonnull(dry.text);
	ck_assert_str_eq(dry.text, run.text);
	vk_free(before);
	vk_free(after);
	vk_free(dry.text);
	vk_free(run.text);
	remove_tmpdir();
}
END_TEST

START_TEST(test_abort_restores)
{
	desc_error err;
	char *before, *after;
	fs_txn *t;

	make_tmpdir();
	scenario_tree("w");
	ck_assert_int_eq(chdir("w"), 0);
	before = listing(".", true);
	ck_assert_int_eq(fs_txn_begin(".", "test", 0, NULL, NULL, NULL, &t,
				      &err), DESC_OK);
	ck_assert_int_eq(fs_txn_rename(t, "b.txt", "b2.txt", &err), DESC_OK);
	ck_assert_int_eq(fs_txn_pwrite(t, "c.bin", "XYZW", 4, 8, &err), DESC_OK);
	ck_assert_int_eq(fs_txn_replace(t, "a.txt", "x", 1, &err), DESC_OK);
	ck_assert_int_eq(fs_txn_create(t, "f.txt", "f", 1, 0644, &err), DESC_OK);
	/* A step that fails leaves the transaction usable. */
	ck_assert_int_eq(fs_txn_create(t, "f.txt", "f", 1, 0644, &err),
			 DESC_E_EXISTS);
	ck_assert_int_eq(fs_txn_create(t, "e.txt", "f", 1, 0644, &err),
			 DESC_E_EXISTS);
	ck_assert_int_eq(fs_txn_abort(t, &err), DESC_OK);
	fs_txn_free(t);
	after = listing(".", true);
	ck_assert_str_eq(before, after);
	vk_free(before);
	vk_free(after);
	remove_tmpdir();
}
END_TEST

START_TEST(test_reserved_names_refused)
{
	desc_error err;
	fs_txn *t;

	make_tmpdir();
	ck_assert_int_eq(fs_txn_begin(".", "test", FS_TXN_DRY_RUN, NULL, NULL,
				      NULL, &t, &err), DESC_OK);
	ck_assert_int_eq(fs_txn_create(t, ".vmdkit-tmp-x", "", 0, 0644, &err),
			 DESC_E_REFUSED);
	ck_assert_ptr_nonnull(strstr(err.message, "reserved"));
	ck_assert_int_eq(fs_txn_mkdir(t, "sub/.vmdkit-tmp-leaf", 0755, &err),
			 DESC_E_REFUSED);
	fs_txn_free(t);
	remove_tmpdir();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Failures and kills before every filesystem call                    */
/* ------------------------------------------------------------------ */

/* Runs this program as `check_txn scenario DIR` with VMDKIT_FAILPOINT =
 * spec; returns the wait status. */
static int run_child(const char *dir, const char *spec, char *errbuf,
		     size_t errsize)
{
	int pipefd[2], status;
	pid_t pid;
	ssize_t n;

	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pipefd[0]);
		dup2(pipefd[1], 2);
		setenv("VMDKIT_FAILPOINT", spec, 1);
		execl(self_path, self_path, "scenario", dir, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	/* Up to the end: the child writes its counts in several pieces. */
	for (size_t got = 0;;) {
		char sink[256];

		if (got + 1 < errsize)
			n = read(pipefd[0], errbuf + got, errsize - 1 - got);
		else
			n = read(pipefd[0], sink, sizeof(sink));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errbuf[got] = '\0';
			break;
		}
		if (got + 1 < errsize)
			got += (size_t)n;
	}
	close(pipefd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static unsigned long count_calls(const char *dir)
{
	char out[512];
	const char *any;
	uint64_t v = 0;
	int status;

	status = run_child(dir, "list", out, sizeof(out));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "status %d: %s", status, out);
	any = strstr(out, " any=");
	ck_assert_ptr_nonnull(any);
	any += 5;
	ck_assert(desc_parse_number(&any, NULL, 10, 100000, &v) ==
		  DESC_NUMBER_OK);
	return (unsigned long)v;
}

static void interrupt_every_call(const char *kind)
{
	unsigned long calls, n, back = 0, forward = 0;
	char *initial, spec[64], out[4096];

	make_tmpdir();
	scenario_tree("tpl");
	initial = listing("tpl", true);
	ck_assert_int_eq(system("cp -a tpl w"), 0);
	calls = count_calls("w");
	ck_assert_int_gt(calls, 10);
	for (n = 1; n <= calls + 1; n++) {
		desc_findings notes;
		desc_error err;
		char *now, *all;
		bool leftover;
		int status;

		ck_assert_int_eq(system("rm -rf w && cp -a tpl w"), 0);
		snprintf(spec, sizeof(spec), "%s:%lu", kind, n);
		status = run_child("w", spec, out, sizeof(out));
		if (strcmp(kind, "kill") == 0 && n <= calls)
			ck_assert_msg(WIFSIGNALED(status), "%s: not killed", spec);
		all = listing("w", true);
		now = listing("w", false);
		leftover = strcmp(all, now) != 0;
		/* Before recovery: as before, or complete, staging aside
		 * (after a kill a renamed-in file may be there). */
		if (strcmp(kind, "kill") != 0 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 1)
			ck_assert_msg(strcmp(now, initial) == 0 || leftover,
				      "%s: failed and changed the tree:\n%s", spec, now);
		desc_findings_init(&notes);
		ck_assert_int_eq(fs_txn_recover("w", 0, NULL, NULL, &notes, &err),
				 DESC_OK);
		ck_assert_msg(notes.count == 0, "%s: %s", spec,
			      notes.count ? notes.items[0].message : "");
		desc_findings_clear(&notes);
		vk_free(now);
		vk_free(all);
		all = listing("w", true);
		ck_assert_msg(strcmp(all, initial) == 0 ||
			      strcmp(all, final_tree) == 0,
			      "%s: after recovery neither before nor after:\n%s",
			      spec, all);
		if (leftover && strcmp(all, initial) == 0)
			back++;
		if (leftover && strcmp(all, final_tree) == 0)
			forward++;
		vk_free(all);
	}
	if (strcmp(kind, "kill") == 0) {
		ck_assert_uint_gt(back, 0);
		ck_assert_uint_gt(forward, 0);
	}
	vk_free(initial);
	remove_tmpdir();
}

START_TEST(test_failure_at_every_call)
{
	interrupt_every_call("any");
}
END_TEST

START_TEST(test_kill_at_every_call)
{
	interrupt_every_call("kill");
}
END_TEST

/* ------------------------------------------------------------------ */
/* What recovery leaves alone                                          */
/* ------------------------------------------------------------------ */

/* A journal by hand: one committed-never create of `name` whose recorded
 * identity is the file now there. */
static void hand_journal(const char *staging, const char *host,
			 unsigned long long pid, const char *name)
{
	struct stat st;
	char *text, *jpath;

	ck_assert_int_eq(mkdir(staging, 0700), 0);
	ck_assert_int_eq(lstat(name, &st), 0);
	text = vk_asprintf("version = \"1\"\nhost = \"%s\"\npid = \"%llu\"\n"
			   "start = \"\"\ncommand = \"test\"\nend = \"0\"\n"
			   "step1.action = \"create\"\nstep1.path = \"%s\"\n"
			   "step1.staged = \"1\"\n"
			   "step1.new = \"%llu:%llu:%llu:%o\"\nend = \"1\"\n",
			   host, pid, name, (unsigned long long)st.st_dev,
			   (unsigned long long)st.st_ino,
			   (unsigned long long)st.st_size, st.st_mode);
	jpath = fs_join(staging, FS_TXN_JOURNAL);
	put(jpath, text, 0600);
	vk_free(jpath);
	vk_free(text);
}

static char *this_host(void)
{
	char buf[256];

	ck_assert_int_eq(gethostname(buf, sizeof(buf)), 0);
	buf[255] = '\0';
	return vk_strdup(buf);
}

/* A pid that is not running. */
static unsigned long long dead_pid(void)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	/* A fresh image: valgrind does not report the memory the child
	 * shares with us as its leak. */
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return (unsigned long long)pid;
}

START_TEST(test_dead_journal_rolled_back)
{
	desc_findings notes;
	desc_error err;
	char *host = this_host();
	fs_txn_info info;

	make_tmpdir();
	put("made.txt", "ours\n", 0644);
	hand_journal(".vmdkit-tmp-test-x-1-abcdef", host, dead_pid(), "made.txt");
	ck_assert_int_eq(fs_txn_describe(".vmdkit-tmp-test-x-1-abcdef", &info,
					 &err), DESC_OK);
	ck_assert(info.this_host && !info.alive && !info.committed &&
		  !info.refused);
	ck_assert_str_eq(info.command, "test");
	ck_assert_ptr_nonnull(strstr(info.plan, "remove 'made.txt'"));
	fs_txn_info_clear(&info);
	desc_findings_init(&notes);
	ck_assert_int_eq(fs_txn_recover(".", 0, NULL, NULL, &notes, &err),
			 DESC_OK);
	ck_assert_uint_eq(notes.count, 0);
	ck_assert(!fs_exists("made.txt"));
	ck_assert(!fs_exists(".vmdkit-tmp-test-x-1-abcdef"));
	desc_findings_clear(&notes);
	vk_free(host);
	remove_tmpdir();
}
END_TEST

/* fs_staging_cleanup (clone, base, promote) removes a dead run's staging
 * folder by its name; a transaction's folder of a dead pid, with its
 * journal or the .done form of it, is recovery's and must survive it. */
START_TEST(test_staging_cleanup_keeps_journals)
{
	unsigned long long pid = dead_pid();
	char *host = this_host(), *txn, *done, *old, *from, *to, *file;
	desc_findings notes;
	desc_error err;
	size_t removed;

	make_tmpdir();
	put("made.txt", "ours\n", 0644);
	txn = vk_asprintf(".vmdkit-tmp-create-h-%llu-abcdef", pid);
	done = vk_asprintf(".vmdkit-tmp-create-h-%llu-ghijkl", pid);
	old = vk_asprintf(".vmdkit-tmp-web-01-%llu-mnopqr", pid);
	ck_assert(txn && done && old);
	hand_journal(txn, host, pid, "made.txt");
	hand_journal(done, host, pid, "made.txt");
	from = fs_join(done, FS_TXN_JOURNAL);
	to = fs_join(done, FS_TXN_DONE);
	ck_assert_int_eq(rename(from, to), 0);
	ck_assert_int_eq(mkdir(old, 0700), 0);
	file = fs_join(old, "web-01.vmdk");
	put(file, "staged\n", 0644);

	ck_assert_int_eq(fs_staging_cleanup(".", &removed, &err), DESC_OK);
	ck_assert_uint_eq(removed, 1);
	ck_assert(!fs_exists(old));
	ck_assert(fs_exists(txn) && fs_exists(to) && fs_exists("made.txt"));
	/* What to do with them is recovery's decision. */
	desc_findings_init(&notes);
	ck_assert_int_eq(fs_txn_recover(".", 0, NULL, NULL, &notes, &err),
			 DESC_OK);
	ck_assert_uint_eq(notes.count, 0);
	ck_assert(!fs_exists(txn) && !fs_exists(done) && !fs_exists("made.txt"));
	desc_findings_clear(&notes);
	vk_free(file);
	vk_free(from);
	vk_free(to);
	vk_free(old);
	vk_free(done);
	vk_free(txn);
	vk_free(host);
	remove_tmpdir();
}
END_TEST

START_TEST(test_other_host_left_alone)
{
	desc_findings notes;
	desc_error err;
	fs_txn_info info;
	fs_txn *t;

	make_tmpdir();
	put("made.txt", "theirs\n", 0644);
	hand_journal(".vmdkit-tmp-test-other-1-abcdef", "other-host", 1,
		     "made.txt");
	desc_findings_init(&notes);
	ck_assert_int_eq(fs_txn_recover(".", 0, NULL, NULL, &notes, &err),
			 DESC_OK);
	ck_assert_uint_eq(notes.count, 1);
	ck_assert_str_eq(notes.items[0].code, "txn-foreign");
	ck_assert_ptr_nonnull(strstr(notes.items[0].message, "other-host"));
	ck_assert(fs_exists("made.txt"));
	ck_assert(fs_exists(".vmdkit-tmp-test-other-1-abcdef/" FS_TXN_JOURNAL));
	ck_assert_int_eq(fs_txn_describe(".vmdkit-tmp-test-other-1-abcdef",
					 &info, &err), DESC_OK);
	ck_assert(!info.this_host && !info.alive);
	ck_assert_str_eq(info.host, "other-host");
	fs_txn_info_clear(&info);
	desc_findings_clear(&notes);
	/* The file it names is blocked for a new transaction. */
	ck_assert_int_eq(fs_txn_begin(".", "test", 0, NULL, NULL, NULL, &t,
				      &err), DESC_OK);
	ck_assert_int_eq(fs_txn_replace(t, "made.txt", "x", 1, &err),
			 DESC_E_REFUSED);
	ck_assert_ptr_nonnull(strstr(err.message, "other-host"));
	fs_txn_free(t);
	assert_content("made.txt", "theirs\n");
	remove_tmpdir();
}
END_TEST

START_TEST(test_live_owner_left_alone)
{
	desc_findings notes;
	desc_error err;
	char *host = this_host();

	make_tmpdir();
	put("made.txt", "being made\n", 0644);
	hand_journal(".vmdkit-tmp-test-x-1-abcdef", host,
		     (unsigned long long)getppid(), "made.txt");
	desc_findings_init(&notes);
	ck_assert_int_eq(fs_txn_recover(".", 0, NULL, NULL, &notes, &err),
			 DESC_OK);
	ck_assert_uint_eq(notes.count, 1);
	ck_assert_str_eq(notes.items[0].code, "txn-in-progress");
	ck_assert(fs_exists("made.txt"));
	ck_assert(fs_exists(".vmdkit-tmp-test-x-1-abcdef/" FS_TXN_JOURNAL));
	desc_findings_clear(&notes);
	vk_free(host);
	remove_tmpdir();
}
END_TEST

START_TEST(test_lookalikes_left_alone)
{
	desc_findings notes;
	desc_error err;
	char *before, *after, *host = this_host(), label[80], *name;
	size_t i;

	make_tmpdir();
	/* Folders and files with our prefix and a dead pid, with content,
	 * and an empty journal with content beside it: not ours. */
	ck_assert_int_eq(mkdir(".vmdkit-tmp-web-01-99999-abcdef", 0755), 0);
	put(".vmdkit-tmp-web-01-99999-abcdef/precious", "data\n", 0644);
	ck_assert_int_eq(mkdir(".vmdkit-tmp-x-99999-ABCDEF", 0755), 0);
	put(".vmdkit-tmp-x-99999-ABCDEF/" FS_TXN_JOURNAL, "", 0644);
	put(".vmdkit-tmp-x-99999-ABCDEF/more", "data\n", 0644);
	put(".vmdkit-tmp-file-99999-abcdef", "data\n", 0644);
	ck_assert_int_eq(mkdir(".vmdkit-tmp-bad-99999-zzzzzz", 0755), 0);
	put(".vmdkit-tmp-bad-99999-zzzzzz/" FS_TXN_JOURNAL, "garbage = \"\n", 0644);
	/* An empty folder of this host named ours, owner dead: a run killed
	 * while it began; the only thing recovery removes without a record. */
	for (i = 0; host[i] != '\0' && i < 64; i++)
		label[i] = (host[i] >= 'a' && host[i] <= 'z') ||
			   (host[i] >= 'A' && host[i] <= 'Z') ||
			   (host[i] >= '0' && host[i] <= '9') ||
			   host[i] == '.' || host[i] == '_' ? host[i] : '_';
	label[i] = '\0';
	name = vk_asprintf(".vmdkit-tmp-test-%s-%llu-qwerty", label, dead_pid());
	before = listing(".", true);
	ck_assert_int_eq(mkdir(name, 0700), 0);
	desc_findings_init(&notes);
	ck_assert_int_eq(fs_txn_recover(".", 0, NULL, NULL, &notes, &err),
			 DESC_OK);
	after = listing(".", true);
	ck_assert_str_eq(before, after);
	ck_assert(!fs_exists(name));
	ck_assert_uint_eq(notes.count, 4);
	for (i = 0; i < notes.count; i++)
		ck_assert(strcmp(notes.items[i].code, "txn-lookalike") == 0 ||
			  strcmp(notes.items[i].code, "txn-unreadable") == 0);
	desc_findings_clear(&notes);
	vk_free(before);
	vk_free(after);
	vk_free(name);
	vk_free(host);
	remove_tmpdir();
}
END_TEST

START_TEST(test_changed_inode_refused)
{
	desc_findings notes;
	desc_error err;
	char *host = this_host();

	make_tmpdir();
	put("made.txt", "ours\n", 0644);
	hand_journal(".vmdkit-tmp-test-x-1-abcdef", host, dead_pid(), "made.txt");
	/* A replace step whose file was changed by someone since. */
	{
		FILE *f = fopen(".vmdkit-tmp-test-x-1-abcdef/" FS_TXN_JOURNAL, "a");

		ck_assert_ptr_nonnull(f);
		fprintf(f, "step2.action = \"replace\"\nstep2.path = \"kept.txt\"\n"
			   "step2.staged = \"2\"\nstep2.old = \"old2\"\n"
			   "step2.id = \"1:2:3:100644\"\nstep2.new = \"1:3:3:100644\"\n"
			   "end = \"2\"\n");
		fclose(f);
	}
	put("kept.txt", "someone else's\n", 0644);
	desc_findings_init(&notes);
	ck_assert_int_eq(fs_txn_recover(".", 0, NULL, NULL, &notes, &err),
			 DESC_OK);
	ck_assert_uint_eq(notes.count, 1);
	ck_assert_str_eq(notes.items[0].code, "txn-refused");
	ck_assert_ptr_nonnull(strstr(notes.items[0].message, "kept.txt"));
	ck_assert_ptr_nonnull(strstr(notes.items[0].message, "by hand"));
	/* Nothing of that journal was undone. */
	ck_assert(fs_exists("made.txt"));
	assert_content("kept.txt", "someone else's\n");
	ck_assert(fs_exists(".vmdkit-tmp-test-x-1-abcdef/" FS_TXN_JOURNAL));
	desc_findings_clear(&notes);
	vk_free(host);
	remove_tmpdir();
}
END_TEST

START_TEST(test_legacy_temp_names)
{
	unsigned long long pid;
	char *target;
	bool alive;

	ck_assert(fs_txn_legacy_temp(".vmdkit-tmp-Master.vmdk-123-0", &target,
				     &pid, &alive));
	ck_assert_str_eq(target, "Master.vmdk");
	ck_assert_uint_eq(pid, 123);
	vk_free(target);
	ck_assert(fs_txn_legacy_temp(".Master.vmdk.vmdkit-new-77-aB3dE9",
				     &target, &pid, &alive));
	ck_assert_str_eq(target, "Master.vmdk");
	ck_assert_uint_eq(pid, 77);
	vk_free(target);
	ck_assert(!fs_txn_legacy_temp(".vmdkit-tmp-create-h-12-abc123", &target,
				      &pid, &alive));
	ck_assert(!fs_txn_legacy_temp(".vmdkit-tmp-x-12-123", &target, &pid,
				      &alive));
	ck_assert(!fs_txn_legacy_temp("Master.vmdk", &target, &pid, &alive));
	/* the pid: digits after a '-', not 0, at most 9 digits */
	ck_assert(fs_txn_legacy_temp(".vmdkit-tmp-M-4194304-12", &target, &pid,
				     &alive));
	ck_assert_str_eq(target, "M");
	ck_assert_uint_eq(pid, 4194304);
	vk_free(target);
	ck_assert(!fs_txn_legacy_temp(".vmdkit-tmp-M-0-1", &target, &pid, &alive));
	ck_assert(!fs_txn_legacy_temp(".vmdkit-tmp-M-1234567890-1", &target,
				      &pid, &alive));
	ck_assert(!fs_txn_legacy_temp(".vmdkit-tmp-M-12-123", &target, &pid,
				      &alive));
	ck_assert(!fs_txn_legacy_temp(".vmdkit-tmp--12-1", &target, &pid, &alive));
	ck_assert(!fs_txn_legacy_temp(".M.vmdkit-new--aB3dE9", &target, &pid,
				      &alive));
	ck_assert(!fs_txn_legacy_temp("..vmdkit-new-77-aB3dE9", &target, &pid,
				      &alive));
	ck_assert(!fs_txn_legacy_temp(".M.vmdkit-old-77-aB3dE9", &target, &pid,
				      &alive));
}
END_TEST

static Suite *txn_suite(void)
{
	Suite *s = suite_create("txn");
	TCase *tc = tcase_create("txn");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_every_step_commits);
	tcase_add_test(tc, test_dry_run_equals_run);
	tcase_add_test(tc, test_abort_restores);
	tcase_add_test(tc, test_reserved_names_refused);
	tcase_add_test(tc, test_failure_at_every_call);
	tcase_add_test(tc, test_kill_at_every_call);
	tcase_add_test(tc, test_dead_journal_rolled_back);
	tcase_add_test(tc, test_staging_cleanup_keeps_journals);
	tcase_add_test(tc, test_other_host_left_alone);
	tcase_add_test(tc, test_live_owner_left_alone);
	tcase_add_test(tc, test_lookalikes_left_alone);
	tcase_add_test(tc, test_changed_inode_refused);
	tcase_add_test(tc, test_legacy_temp_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	/* The tests chdir: re-execute by an absolute path. */
	self_path = fs_absolute(argv[0]);
	if (self_path == NULL)
		return EXIT_FAILURE;
	/* The re-executed child of the failpoint tests. */
	if (argc == 3 && strcmp(argv[1], "scenario") == 0) {
		desc_error err;

		if (chdir(argv[2]) != 0)
			return 2;
		if (scenario(0, NULL, NULL, NULL, &err) == DESC_OK)
			return 0;
		fprintf(stderr, "scenario: %s\n", err.message);
		return 1;
	}
	sr = srunner_create(txn_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
