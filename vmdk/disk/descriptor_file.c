/*
 * descriptor_file.c - replacing a separate descriptor file in place
 * (`vmdkit desc set|unset|repath|fmt`), through one transaction like
 * every other change: the new text is written in the folder's staging
 * folder and renamed over the old file at commit, the old one kept
 * there until the commit record, so a killed edit is rolled back by the
 * next run instead of leaving a temporary file beside the descriptor.
 */
#include "config.h"

#include "vmdk/fs/fs.h"
#include "vmdk/fs/txn.h"
#include "vmdk/vmdk.h"
#include "descriptor/private.h"

desc_status vmdk_descriptor_file_replace(const char *path, const char *text,
					 size_t len,
					 const vmdk_change_options *change,
					 desc_error *err)
{
	static const vmdk_change_options real = { false, NULL, NULL, NULL };
	const vmdk_change_options *ch = change ? change : &real;
	char *dir = fs_dirname(path);
	fs_txn *t = NULL;
	desc_status rc;

	if (dir == NULL)
		return vk_nomem(err);
	rc = fs_txn_begin(dir, "desc", ch->dry_run ? FS_TXN_DRY_RUN : 0,
			  ch->report, ch->report_ctx, ch->notes, &t, err);
	if (rc == DESC_OK)
		rc = fs_txn_replace(t, path, text, len, err);
	if (rc == DESC_OK)
		rc = fs_txn_commit(t, err);
	fs_txn_free(t);
	vk_free(dir);
	return rc;
}

desc_status vmdk_descriptor_file_recover(const char *path,
					 const vmdk_change_options *change,
					 desc_error *err)
{
	static const vmdk_change_options real = { false, NULL, NULL, NULL };
	const vmdk_change_options *ch = change ? change : &real;
	char *dir = fs_dirname(path);
	desc_status rc;

	if (dir == NULL)
		return vk_nomem(err);
	rc = fs_txn_recover(dir, ch->dry_run ? FS_TXN_DRY_RUN : 0, ch->report,
			    ch->report_ctx, ch->notes, err);
	vk_free(dir);
	return rc;
}
