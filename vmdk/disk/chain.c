/*
 * chain.c - walking a chain from a delta to its base through
 * parentFileNameHint, reading descriptors only, and recording precisely
 * the first broken link.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "vmdk/disk/disk.h"
#include "vmdk/fs/fs.h"
#include "descriptor/private.h"

#define NO_PARENT_CID 0xffffffffu

static void link_clear(vmdk_chain_link *link)
{
	vk_free(link->path);
	vk_free(link->create_type);
	vk_free(link->parent_hint);
	memset(link, 0, sizeof(*link));
}

void vmdk_chain_clear(vmdk_chain *chain)
{
	size_t i;

	if (chain == NULL)
		return;
	for (i = 0; i < chain->count; i++)
		link_clear(&chain->links[i]);
	vk_free(chain->links);
	memset(chain, 0, sizeof(*chain));
}

/* Fills a link from a parsed descriptor. */
static desc_status link_fill(vmdk_chain_link *link, const char *path,
			     const desc_descriptor *desc, desc_error *err)
{
	const char *type = desc_create_type(desc);
	const char *hint = desc_parent_hint(desc);

	memset(link, 0, sizeof(*link));
	link->path = vk_strdup(path);
	link->create_type = vk_strdup(type ? type : "");
	link->parent_hint = hint ? vk_strdup(hint) : NULL;
	if (link->path == NULL || link->create_type == NULL ||
	    (hint != NULL && link->parent_hint == NULL)) {
		link_clear(link);
		return vk_nomem(err);
	}
	link->has_cid = disk_cid(desc, &link->cid);
	link->has_parent = disk_parent_cid(desc, &link->parent_cid) &&
			   link->parent_cid != NO_PARENT_CID;
	if (!desc_capacity(desc, &link->capacity))
		link->capacity = UINT64_MAX;
	return DESC_OK;
}

static desc_status chain_push(vmdk_chain *chain, const vmdk_chain_link *link,
			      desc_error *err)
{
	vmdk_chain_link *links;

	links = vk_reallocarray(chain->links, chain->count + 1, sizeof(*links));
	if (links == NULL)
		return vk_nomem(err);
	chain->links = links;
	chain->links[chain->count++] = *link;
	return DESC_OK;
}

/* Records the first broken link (the walk stops there). */
static void chain_break(vmdk_chain *chain, const desc_error *why)
{
	chain->status = why->code;
	chain->error = *why;
}

/* Checks a newly read parent against its child. */
static bool link_matches(vmdk_chain *chain, const vmdk_chain_link *child,
			 const vmdk_chain_link *parent)
{
	desc_error why;

	desc_error_clear(&why);
	if (!parent->has_cid) {
		desc_error_set(&why, DESC_E_CHAIN, parent->path, 0,
			       "CID missing or not 8 hex digits in the parent of '%s'",
			       child->path);
	} else if (!child->has_parent) {
		desc_error_set(&why, DESC_E_CHAIN, child->path, 0,
			       "parentFileNameHint names '%s' but parentCID is missing or ffffffff (expected its CID %08" PRIx32 ")",
			       parent->path, parent->cid);
	} else if (child->parent_cid != parent->cid) {
		desc_error_set(&why, DESC_E_CHAIN, child->path, 0,
			       "CID mismatch: parentCID=%08" PRIx32 " in '%s' but CID=%08" PRIx32 " in its parent '%s' (the parent was modified after the delta was made)",
			       child->parent_cid, child->path, parent->cid,
			       parent->path);
	} else if (child->capacity != parent->capacity) {
		desc_error_set(&why, DESC_E_CHAIN, child->path, 0,
			       "capacity mismatch: %" PRIu64 " sectors in '%s' but %" PRIu64 " sectors in its parent '%s'",
			       child->capacity, child->path, parent->capacity,
			       parent->path);
	} else {
		return true;
	}
	chain_break(chain, &why);
	return false;
}

desc_status vmdk_chain_walk(const char *path, vmdk_chain *out, desc_error *err)
{
	dev_t devs[VMDK_CHAIN_MAX_DEPTH + 1];
	ino_t inos[VMDK_CHAIN_MAX_DEPTH + 1];
	desc_status rc = DESC_OK;
	char *cur = NULL;
	desc_error why;

	memset(out, 0, sizeof(*out));
	cur = vk_strdup(path);
	if (cur == NULL)
		return vk_nomem(err);
	for (;;) {
		desc_descriptor *desc = NULL;
		vmdk_chain_link link;
		bool embedded;
		struct stat st;
		size_t i;
		char *dir, *next;

		desc_error_clear(&why);
		if (stat(cur, &st) < 0) {
			/* Parents were checked to exist before moving on. */
			rc = fs_error(err, errno, cur, "cannot open");
			goto fail;
		}
		for (i = 0; i < out->count; i++)
			if (devs[i] == st.st_dev && inos[i] == st.st_ino)
				break;
		if (i < out->count) {
			desc_error_set(&why, DESC_E_CHAIN,
				       out->links[out->count - 1].path, 0,
				       "loop in the chain: parent '%s' is link %zu ('%s') again",
				       cur, i, out->links[i].path);
			chain_break(out, &why);
			break;
		}
		if (out->count >= VMDK_CHAIN_MAX_DEPTH) {
			desc_error_set(&why, DESC_E_CHAIN,
				       out->links[out->count - 1].path, 0,
				       "chain deeper than %d links (stopped at '%s')",
				       VMDK_CHAIN_MAX_DEPTH, cur);
			chain_break(out, &why);
			break;
		}
		rc = disk_load_descriptor(cur, &desc, &embedded,
					  out->count == 0 ? err : &why);
		if (rc != DESC_OK) {
			if (out->count == 0 || rc == DESC_E_NOMEM) {
				if (out->count != 0 && err != NULL)
					*err = why;
				goto fail;
			}
			/* A parent that is not a disk breaks the chain. */
			chain_break(out, &why);
			rc = DESC_OK;
			break;
		}
		rc = link_fill(&link, cur, desc, err);
		desc_free(desc);
		if (rc != DESC_OK)
			goto fail;
		devs[out->count] = st.st_dev;
		inos[out->count] = st.st_ino;
		rc = chain_push(out, &link, err);
		if (rc != DESC_OK) {
			link_clear(&link);
			goto fail;
		}
		if (out->count > 1 &&
		    !link_matches(out, &out->links[out->count - 2],
				  &out->links[out->count - 1]))
			break;
		if (link.parent_hint == NULL) {
			if (link.has_parent) {
				desc_error_set(&why, DESC_E_CHAIN, cur, 0,
					       "parentCID=%08" PRIx32 " names a parent but there is no parentFileNameHint",
					       link.parent_cid);
				chain_break(out, &why);
			}
			break;
		}
		dir = fs_dirname(cur);
		next = dir ? fs_join(dir, link.parent_hint) : NULL;
		vk_free(dir);
		if (next == NULL) {
			rc = vk_nomem(err);
			goto fail;
		}
		if (stat(next, &st) < 0) {
			desc_error_set(&why, DESC_E_NOT_FOUND, cur, 0,
				       "parent '%s' not found (parentFileNameHint resolved to '%s')",
				       link.parent_hint, next);
			chain_break(out, &why);
			vk_free(next);
			break;
		}
		vk_free(cur);
		cur = next;
	}
	vk_free(cur);
	return DESC_OK;
fail:
	vk_free(cur);
	vmdk_chain_clear(out);
	return rc;
}
