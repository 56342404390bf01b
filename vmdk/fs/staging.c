/*
 * staging.c - removing the staging folders that killed runs left
 * (fs_staging_cleanup): every command that stages next to its target
 * calls it before making a new folder there.  OS layer only.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "vmdk/fs/fs.h"
#include "descriptor/private.h"

desc_status fs_staging_cleanup(const char *dir, size_t *removed,
			       desc_error *err)
{
	size_t prefix = strlen(FS_STAGING_PREFIX), count = 0;
	desc_status st = DESC_OK;
	struct dirent *de;
	DIR *d;
	int dfd;

	if (removed != NULL)
		*removed = 0;
	st = fs_opendir(dir, &d, err);
	if (st != DESC_OK)
		return st;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		char *path;

		if (strncmp(de->d_name, FS_STAGING_PREFIX, prefix) != 0)
			continue;
		/* Only real folders: never follow a symlink someone planted
		 * with our prefix. */
		if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(sb.st_mode))
			continue;
		/* A concurrent clone's folder in the making is not ours. */
		if (fs_staging_in_use(de->d_name))
			continue;
		path = fs_join(dir, de->d_name);
		if (path == NULL) {
			st = vk_nomem(err);
			break;
		}
		st = fs_remove_tree(path, err);
		vk_free(path);
		if (st != DESC_OK)
			break;
		count++;
		/* The listing changed under readdir: start again. */
		rewinddir(d);
	}
	closedir(d);
	if (removed != NULL)
		*removed = count;
	return st;
}
