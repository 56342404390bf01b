/*
 * vmx.c - the disks a .vmx names, a leaf's .vmx (identity reset) and its
 * one-snapshot .vmsd.  Everything works on desc_dict, so edits keep every
 * other byte of the master's file.
 */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vmdk/vmdk.h"
#include "vmdk/vm/vm.h"
#include "descriptor/private.h"

/* ------------------------------------------------------------------ */
/* Cursor helpers                                                      */
/* ------------------------------------------------------------------ */

/* Consumes a case-insensitive literal; advances only on a match. */
static bool cursor_literal(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || strncasecmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

/* Consumes one or more decimal digits into *out, refusing overflow;
 * advances only on success. */
static bool cursor_ulong(const char **p, const char *end, unsigned long *out)
{
	uint64_t v;

	if (desc_parse_number(p, end, 10, ULONG_MAX, &v) != DESC_NUMBER_OK)
		return false;
	*out = (unsigned long)v;
	return true;
}

static const char *const controllers[] = { "scsi", "sata", "nvme", "ide" };

/* Consumes a disk node ("scsi0:0", any case); advances only on success. */
static bool cursor_disk_node(const char **p, const char *end)
{
	const char *q = *p;
	unsigned long unused;
	size_t i;

	for (i = 0; i < sizeof(controllers) / sizeof(controllers[0]); i++)
		if (cursor_literal(&q, end, controllers[i]))
			break;
	if (i == sizeof(controllers) / sizeof(controllers[0]))
		return false;
	if (!cursor_ulong(&q, end, &unused) || !cursor_literal(&q, end, ":") ||
	    !cursor_ulong(&q, end, &unused))
		return false;
	*p = q;
	return true;
}

static bool is_disk_node(const char *node)
{
	const char *p = node, *end = node + strlen(node);

	return cursor_disk_node(&p, end) && p == end;
}

static bool ends_with_nocase(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* True when the value text contains `word` (ASCII, any case). */
static bool contains_nocase(const char *s, const char *word)
{
	size_t n = strlen(s), m = strlen(word), i;

	for (i = 0; i + m <= n; i++)
		if (strncasecmp(s + i, word, m) == 0)
			return true;
	return false;
}

/* Value of "<node>.<field>" (case-insensitive), or NULL. */
static desc_status node_get(const desc_dict *dict, const char *node,
			    const char *field, const char **value,
			    desc_error *err)
{
	char *key = vk_asprintf("%s.%s", node, field);

	*value = NULL;
	if (key == NULL)
		return desc_error_set(err, DESC_E_NOMEM, NULL, 0,
				      "out of memory");
	*value = desc_dict_get(dict, key);
	vk_free(key);
	return DESC_OK;
}

static desc_status node_set(desc_dict *dict, const char *node,
			    const char *field, const char *value,
			    desc_error *err)
{
	char *key = vk_asprintf("%s.%s", node, field);
	desc_status status;

	if (key == NULL)
		return desc_error_set(err, DESC_E_NOMEM, NULL, 0,
				      "out of memory");
	status = desc_dict_set(dict, key, value, err);
	vk_free(key);
	return status;
}

static desc_status node_unset(desc_dict *dict, const char *node,
			      const char *field, desc_error *err)
{
	char *key = vk_asprintf("%s.%s", node, field);

	if (key == NULL)
		return desc_error_set(err, DESC_E_NOMEM, NULL, 0,
				      "out of memory");
	desc_dict_unset(dict, key);
	vk_free(key);
	return DESC_OK;
}

/* ------------------------------------------------------------------ */
/* Disks of a .vmx                                                     */
/* ------------------------------------------------------------------ */

void vmdk_vmx_disks_free(vmdk_vmx_disk *disks, size_t count)
{
	size_t i;

	if (disks == NULL)
		return;
	for (i = 0; i < count; i++) {
		vk_free(disks[i].node);
		vk_free(disks[i].file_name);
	}
	vk_free(disks);
}

/* A device type that is not a hard disk (CD/DVD drives, raw CD access). */
static bool device_not_disk(const char *type)
{
	return contains_nocase(type, "cdrom") || contains_nocase(type, "atapi");
}

/* Is entry `index` (key NODE.fileName) a hard disk?  *node_len is the
 * length of NODE inside the key. */
static desc_status entry_is_disk(const desc_dict *vmx, size_t index,
				 size_t *node_len, bool *yes, desc_error *err)
{
	const char *key = desc_dict_key_at(vmx, index);
	const char *value = desc_dict_value_at(vmx, index);
	const char *p = key, *end = key + strlen(key), *field;
	char *node = NULL;
	desc_status status = DESC_OK;

	*yes = false;
	if (!cursor_disk_node(&p, end))
		return DESC_OK;
	*node_len = (size_t)(p - key);
	if (!cursor_literal(&p, end, ".fileName") || p != end)
		return DESC_OK;
	/* A key given twice counts once, where its last line is. */
	if (desc_dict_get(vmx, key) != value)
		return DESC_OK;
	if (!ends_with_nocase(value, ".vmdk"))
		return DESC_OK;
	node = vk_strndup(key, *node_len);
	if (node == NULL)
		return desc_error_set(err, DESC_E_NOMEM, NULL, 0,
				      "out of memory");
	status = node_get(vmx, node, "present", &field, err);
	if (status != DESC_OK || (field != NULL && strcasecmp(field, "FALSE") == 0))
		goto out;
	status = node_get(vmx, node, "deviceType", &field, err);
	if (status != DESC_OK || (field != NULL && device_not_disk(field)))
		goto out;
	*yes = true;
out:
	vk_free(node);
	return status;
}

desc_status vmdk_vmx_disks(const desc_dict *vmx, vmdk_vmx_disk **out,
			   size_t *count, desc_error *err)
{
	vmdk_vmx_disk *disks = NULL;
	size_t i, n = 0, capacity = 0, entries;
	desc_status status = DESC_OK;

	*out = NULL;
	*count = 0;
	if (vmx == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "missing .vmx dictionary");
	entries = desc_dict_count(vmx);
	for (i = 0; i < entries; i++) {
		size_t node_len = 0, k;
		bool yes;
		vmdk_vmx_disk *grown;

		status = entry_is_disk(vmx, i, &node_len, &yes, err);
		if (status != DESC_OK)
			goto fail;
		if (!yes)
			continue;
		if (n == capacity) {
			capacity = capacity ? capacity * 2 : 4;
			grown = vk_reallocarray(disks, capacity, sizeof(*disks));
			if (grown == NULL)
				goto nomem;
			disks = grown;
		}
		memset(&disks[n], 0, sizeof(disks[n]));
		disks[n].line = desc_dict_line_at(vmx, i);
		disks[n].node = vk_strndup(desc_dict_key_at(vmx, i), node_len);
		disks[n].file_name = vk_strdup(desc_dict_value_at(vmx, i));
		n++;
		if (disks[n - 1].node == NULL || disks[n - 1].file_name == NULL)
			goto nomem;
		/* Nodes are reported in one spelling ("scsi0:0"). */
		for (k = 0; k < node_len; k++) {
			char c = disks[n - 1].node[k];

			if (c >= 'A' && c <= 'Z')
				disks[n - 1].node[k] = (char)(c - 'A' + 'a');
		}
	}
	*out = disks;
	*count = n;
	return DESC_OK;
nomem:
	status = desc_error_set(err, DESC_E_NOMEM, NULL, 0, "out of memory");
fail:
	vmdk_vmx_disks_free(disks, n);
	return status;
}

/* ------------------------------------------------------------------ */
/* A leaf's .vmx                                                       */
/* ------------------------------------------------------------------ */

/* Keys naming the identity or per-VM state of the master; a leaf drops
 * them (the hypervisor makes new ones, or the feature starts empty). */
static const char *const identity_keys[] = {
	"uuid.bios",
	"uuid.location",
	"vc.uuid",
	"vm.genid",
	"vm.genidX",
	"sched.swap.derivedName",
	"checkpoint.vmState",
	"extendedConfigFile",
	"migrate.hostLog",
	"vmxstats.filename",
	"answer.msg.uuid.altered",
	/* Workstation linked clones search their parent's folder. */
	"fileSearchPath",
};

/* Values naming suspend state, memory or swap of one VM. */
static const char *const state_suffixes[] = { ".vmss", ".vmem", ".vswp" };

typedef bool (*entry_pred)(const char *key, const char *value,
			   const void *ctx);

/* Removes every key (all its lines) for which pred is true of one of its
 * lines.  The keys are collected first: unset() shifts the entries. */
static desc_status unset_where(desc_dict *dict, entry_pred pred,
			       const void *ctx, desc_error *err)
{
	size_t i, n = 0, count = desc_dict_count(dict);
	char **keys;
	desc_status status = DESC_OK;

	if (count == 0)
		return DESC_OK;
	keys = vk_calloc(count, sizeof(*keys));
	if (keys == NULL)
		return desc_error_set(err, DESC_E_NOMEM, NULL, 0,
				      "out of memory");
	for (i = 0; i < count; i++) {
		if (!pred(desc_dict_key_at(dict, i), desc_dict_value_at(dict, i),
			  ctx))
			continue;
		keys[n] = vk_strdup(desc_dict_key_at(dict, i));
		if (keys[n++] == NULL) {
			status = desc_error_set(err, DESC_E_NOMEM, NULL, 0,
						"out of memory");
			goto out;
		}
	}
	for (i = 0; i < n; i++)
		desc_dict_unset(dict, keys[i]);
out:
	for (i = 0; i < n; i++)
		vk_free(keys[i]);
	vk_free(keys);
	return status;
}

static bool is_state_file(const char *key, const char *value, const void *ctx)
{
	size_t i;

	for (i = 0; i < sizeof(state_suffixes) / sizeof(state_suffixes[0]); i++)
		if (ends_with_nocase(value, state_suffixes[i]))
			return true;
	return false;
}

/* ethernetN.generatedAddress, ethernetN.generatedAddressOffset and the
 * static ethernetN.address. */
static bool is_nic_address(const char *key, const char *value, const void *ctx)
{
	const char *p = key, *end = key + strlen(key);
	unsigned long n;

	if (!cursor_literal(&p, end, "ethernet") || !cursor_ulong(&p, end, &n) ||
	    !cursor_literal(&p, end, "."))
		return false;
	return strcasecmp(p, "generatedAddress") == 0 ||
	       strcasecmp(p, "generatedAddressOffset") == 0 ||
	       strcasecmp(p, "address") == 0;
}

/* Switches NICs with a static MAC (addressType "static", or an address
 * key) to a generated one. */
static desc_status nics_to_generated(desc_dict *vmx, desc_error *err)
{
	size_t i;

	for (i = 0; i < desc_dict_count(vmx); i++) {
		const char *key = desc_dict_key_at(vmx, i);
		const char *value = desc_dict_value_at(vmx, i);
		const char *p = key, *end = key + strlen(key);
		unsigned long n;
		char *type_key;
		const char *type;
		desc_status status;

		if (!cursor_literal(&p, end, "ethernet") ||
		    !cursor_ulong(&p, end, &n) || !cursor_literal(&p, end, "."))
			continue;
		if (strcasecmp(p, "address") != 0 &&
		    !(strcasecmp(p, "addressType") == 0 &&
		      strcasecmp(value, "static") == 0))
			continue;
		type_key = vk_asprintf("%.*saddressType", (int)(p - key), key);
		if (type_key == NULL)
			return desc_error_set(err, DESC_E_NOMEM, NULL, 0,
					      "out of memory");
		type = desc_dict_get(vmx, type_key);
		status = DESC_OK;
		if (type == NULL || strcmp(type, "generated") != 0)
			status = desc_dict_set(vmx, type_key, "generated", err);
		vk_free(type_key);
		if (status != DESC_OK)
			return status;
	}
	return DESC_OK;
}

static desc_status check_leaf_args(const char *display_name,
				   const char *disk_node, const char *disk_file,
				   desc_error *err)
{
	if (display_name == NULL || display_name[0] == '\0')
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "missing display name (expected a non-empty name)");
	if (disk_node == NULL || !is_disk_node(disk_node))
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "invalid disk node '%s' (expected scsiN:M, sataN:M, nvmeN:M or ideN:M)",
				      disk_node ? disk_node : "");
	if (disk_file == NULL || disk_file[0] == '\0')
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "missing disk file (expected a .vmdk name)");
	return DESC_OK;
}

static bool is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

/*
 * Values we write are UTF-8 (or plain ASCII).  A .vmx that declares another
 * .encoding (Shift_JIS, windows-1252... are common) would show non-ASCII
 * bytes as other characters, or name a file that does not exist: refuse.
 */
static desc_status check_encoding(const desc_dict *vmx, const char *what,
				  const char *value, desc_error *err)
{
	const char *encoding = desc_dict_get(vmx, ".encoding");

	if (is_ascii(value) || encoding == NULL ||
	    strcasecmp(encoding, "UTF-8") == 0 || strcasecmp(encoding, "UTF8") == 0)
		return DESC_OK;
	return desc_error_set(err, DESC_E_REFUSED, NULL, 0,
			      "non-ASCII %s '%s' in a .vmx encoded as '%s' (expected an ASCII %s, or a UTF-8 .vmx)",
			      what, value, encoding, what);
}

/* The controller part of a node ("scsi0" of "scsi0:1"), vk_malloc'ed. */
static char *node_controller(const char *node)
{
	const char *colon = strchr(node, ':');

	return vk_strndup(node, colon ? (size_t)(colon - node) : strlen(node));
}

desc_status vmx_point_disk(desc_dict *vmx, const char *disk_node,
			   const char *disk_file, desc_error *err)
{
	const char *field;
	char *controller;
	desc_status status;

	if (vmx == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "missing .vmx dictionary");
	if (disk_node == NULL || !is_disk_node(disk_node))
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "invalid disk node '%s' (expected scsiN:M, sataN:M, nvmeN:M or ideN:M)",
				      disk_node ? disk_node : "");
	if (disk_file == NULL || disk_file[0] == '\0')
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "missing disk file (expected a .vmdk name)");
	status = check_encoding(vmx, "disk file", disk_file, err);
	if (status != DESC_OK)
		return status;
	controller = node_controller(disk_node);
	if (controller == NULL)
		return desc_error_set(err, DESC_E_NOMEM, NULL, 0,
				      "out of memory");
	/* IDE channels have no .present key of their own. */
	status = DESC_OK;
	if (strncasecmp(controller, "ide", 3) != 0)
		status = node_set(vmx, controller, "present", "TRUE", err);
	vk_free(controller);
	if (status == DESC_OK)
		status = node_set(vmx, disk_node, "present", "TRUE", err);
	if (status == DESC_OK)
		status = node_set(vmx, disk_node, "fileName", disk_file, err);
	if (status == DESC_OK)
		status = node_get(vmx, disk_node, "deviceType", &field, err);
	if (status == DESC_OK && field != NULL && device_not_disk(field))
		status = node_unset(vmx, disk_node, "deviceType", err);
	/* Independent disks are left out of snapshots: the leaf's snapshot
	 * would not protect the base. */
	if (status == DESC_OK)
		status = node_get(vmx, disk_node, "mode", &field, err);
	if (status == DESC_OK && field != NULL &&
	    strncasecmp(field, "independent", 11) == 0)
		status = node_unset(vmx, disk_node, "mode", err);
	if (status == DESC_OK)
		status = node_unset(vmx, disk_node, "redo", err);
	return status;
}

/* "<display_name>.nvram", with path separators made harmless: the display
 * name is free text, the nvram file must stay inside the bundle. */
static char *nvram_name(const char *display_name)
{
	char *name = vk_asprintf("%s.nvram", display_name);
	char *p;

	for (p = name; p != NULL && *p != '\0'; p++)
		if (*p == '/' || *p == '\\' || *p == ':')
			*p = '_';
	return name;
}

desc_status vmx_prepare_leaf(desc_dict *vmx, const char *display_name,
			     const char *disk_node, const char *disk_file,
			     desc_error *err)
{
	size_t i;
	char *nvram = NULL;
	desc_status status;

	if (vmx == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "missing .vmx dictionary");
	status = check_leaf_args(display_name, disk_node, disk_file, err);
	if (status == DESC_OK)
		status = check_encoding(vmx, "display name", display_name, err);
	if (status == DESC_OK)
		status = check_encoding(vmx, "disk file", disk_file, err);
	if (status != DESC_OK)
		return status;
	for (i = 0; i < sizeof(identity_keys) / sizeof(identity_keys[0]); i++)
		desc_dict_unset(vmx, identity_keys[i]);
	status = nics_to_generated(vmx, err);
	if (status == DESC_OK)
		status = unset_where(vmx, is_nic_address, NULL, err);
	if (status == DESC_OK)
		status = unset_where(vmx, is_state_file, NULL, err);
	if (status != DESC_OK)
		goto out;
	nvram = nvram_name(display_name);
	if (nvram == NULL)
		return desc_error_set(err, DESC_E_NOMEM, NULL, 0,
				      "out of memory");
	status = desc_dict_set(vmx, "displayName", display_name, err);
	if (status == DESC_OK)
		status = desc_dict_set(vmx, "nvram", nvram, err);
	if (status == DESC_OK)
		status = desc_dict_set(vmx, "uuid.action", "create", err);
	if (status == DESC_OK)
		status = vmx_point_disk(vmx, disk_node, disk_file, err);
out:
	vk_free(nvram);
	return status;
}

/* ------------------------------------------------------------------ */
/* A default .vmx                                                      */
/* ------------------------------------------------------------------ */

/*
 * virtualHW.version 16: Workstation 15.5 / Fusion 11.5 and later (every
 * release still supported) open it, and it is new enough for e1000e and
 * NVMe.  e1000e rather than vmxnet3: guests have a driver for it without
 * VMware Tools.  The PCIe root ports (pciBridge4-7) are what Workstation and
 * Fusion write for a new VM; e1000e and NVMe devices sit behind them.
 */
static const char *const default_head[][2] = {
	{ ".encoding", "UTF-8" },
	{ "config.version", "8" },
	{ "virtualHW.version", "16" },
};

static const char *const default_body[][2] = {
	{ "guestOS", "other-64" },
	{ "memsize", "1024" },
	{ "numvcpus", "1" },
	{ "pciBridge0.present", "TRUE" },
	{ "pciBridge4.present", "TRUE" },
	{ "pciBridge4.virtualDev", "pcieRootPort" },
	{ "pciBridge4.functions", "8" },
	{ "pciBridge5.present", "TRUE" },
	{ "pciBridge5.virtualDev", "pcieRootPort" },
	{ "pciBridge5.functions", "8" },
	{ "pciBridge6.present", "TRUE" },
	{ "pciBridge6.virtualDev", "pcieRootPort" },
	{ "pciBridge6.functions", "8" },
	{ "pciBridge7.present", "TRUE" },
	{ "pciBridge7.virtualDev", "pcieRootPort" },
	{ "pciBridge7.functions", "8" },
	{ "ethernet0.present", "TRUE" },
	{ "ethernet0.virtualDev", "e1000e" },
	{ "ethernet0.connectionType", "nat" },
	{ "ethernet0.addressType", "generated" },
};

static desc_status set_pairs(desc_dict *dict, const char *const (*pairs)[2],
			     size_t n, desc_error *err)
{
	size_t i;
	desc_status status = DESC_OK;

	for (i = 0; i < n && status == DESC_OK; i++)
		status = desc_dict_set(dict, pairs[i][0], pairs[i][1], err);
	return status;
}

desc_status vmx_new_default(const char *display_name, const char *disk_node,
			    const char *disk_file, desc_dict **out,
			    desc_error *err)
{
	desc_dict *vmx = NULL;
	char *controller = NULL, *nvram = NULL;
	desc_status status;

	*out = NULL;
	status = check_leaf_args(display_name, disk_node, disk_file, err);
	if (status != DESC_OK)
		return status;
	status = desc_dict_new(&vmx, err);
	if (status != DESC_OK)
		return status;
	controller = node_controller(disk_node);
	nvram = nvram_name(display_name);
	if (controller == NULL || nvram == NULL) {
		status = desc_error_set(err, DESC_E_NOMEM, NULL, 0,
					"out of memory");
		goto out;
	}
	status = set_pairs(vmx, default_head,
			   sizeof(default_head) / sizeof(default_head[0]), err);
	if (status == DESC_OK)
		status = desc_dict_set(vmx, "displayName", display_name, err);
	if (status == DESC_OK)
		status = set_pairs(vmx, default_body,
				   sizeof(default_body) / sizeof(default_body[0]),
				   err);
	if (status == DESC_OK && strncasecmp(controller, "ide", 3) != 0)
		status = node_set(vmx, controller, "present", "TRUE", err);
	if (status == DESC_OK && strncasecmp(controller, "scsi", 4) == 0)
		status = node_set(vmx, controller, "virtualDev", "lsilogic", err);
	if (status == DESC_OK)
		status = node_set(vmx, disk_node, "present", "TRUE", err);
	if (status == DESC_OK)
		status = node_set(vmx, disk_node, "fileName", disk_file, err);
	if (status == DESC_OK)
		status = desc_dict_set(vmx, "nvram", nvram, err);
	if (status == DESC_OK)
		status = desc_dict_set(vmx, "uuid.action", "create", err);
	if (status == DESC_OK) {
		*out = vmx;
		vmx = NULL;
	}
out:
	vk_free(controller);
	vk_free(nvram);
	desc_dict_free(vmx);
	return status;
}

/* ------------------------------------------------------------------ */
/* .vmsd                                                               */
/* ------------------------------------------------------------------ */

desc_status vmsd_new_snapshot(const char *snapshot_name,
			      const char *description,
			      const char *const *disk_nodes,
			      const char *const *disk_files, size_t ndisks,
			      uint64_t create_time_us, desc_dict **out,
			      desc_error *err)
{
	desc_dict *vmsd = NULL;
	char high[16], low[16], count[32], key[64];
	desc_status status;
	size_t i;

	*out = NULL;
	if (ndisks == 0 || disk_nodes == NULL || disk_files == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "no disk for the snapshot (expected at least one)");
	for (i = 0; i < ndisks; i++) {
		if (disk_nodes[i] == NULL || !is_disk_node(disk_nodes[i]))
			return desc_error_set(err, DESC_E_ARG, NULL, 0,
					      "invalid disk node '%s' (expected scsiN:M, sataN:M, nvmeN:M or ideN:M)",
					      disk_nodes[i] ? disk_nodes[i] : "");
		if (disk_files[i] == NULL || disk_files[i][0] == '\0')
			return desc_error_set(err, DESC_E_ARG, NULL, 0,
					      "missing disk file (expected a .vmdk name)");
	}
	if (snapshot_name == NULL)
		snapshot_name = VMX_DEFAULT_SNAPSHOT_NAME;
	if (description == NULL)
		description = VMX_DEFAULT_SNAPSHOT_DESCRIPTION;
	/* VMware prints the low half as a signed 32-bit number. */
	snprintf(high, sizeof(high), "%u", (unsigned)(create_time_us >> 32));
	snprintf(low, sizeof(low), "%d",
		 (int)(int32_t)(uint32_t)(create_time_us & 0xffffffffu));
	snprintf(count, sizeof(count), "%zu", ndisks);
	{
		const char *const head[][2] = {
			{ ".encoding", "UTF-8" },
			{ "snapshot.lastUID", "1" },
			{ "snapshot.current", "1" },
			{ "snapshot0.uid", "1" },
			{ "snapshot0.displayName", snapshot_name },
			{ "snapshot0.description", description },
			{ "snapshot0.createTimeHigh", high },
			{ "snapshot0.createTimeLow", low },
			{ "snapshot0.numDisks", count },
		};

		status = desc_dict_new(&vmsd, err);
		if (status == DESC_OK)
			status = set_pairs(vmsd, head,
					   sizeof(head) / sizeof(head[0]), err);
	}
	for (i = 0; i < ndisks && status == DESC_OK; i++) {
		snprintf(key, sizeof(key), "snapshot0.disk%zu.fileName", i);
		status = desc_dict_set(vmsd, key, disk_files[i], err);
		snprintf(key, sizeof(key), "snapshot0.disk%zu.node", i);
		if (status == DESC_OK)
			status = desc_dict_set(vmsd, key, disk_nodes[i], err);
	}
	if (status == DESC_OK)
		status = desc_dict_set(vmsd, "snapshot.numSnapshots", "1", err);
	if (status != DESC_OK) {
		desc_dict_free(vmsd);
		return status;
	}
	*out = vmsd;
	return DESC_OK;
}

desc_status vmsd_new_single(const char *snapshot_name, const char *description,
			    const char *disk_node, const char *disk_file,
			    uint64_t create_time_us, desc_dict **out,
			    desc_error *err)
{
	return vmsd_new_snapshot(snapshot_name, description, &disk_node,
				 &disk_file, 1, create_time_us, out, err);
}

void vmsd_snapshot_disks_free(vmsd_snapshot_disk *disks, size_t count)
{
	size_t i;

	if (disks == NULL)
		return;
	for (i = 0; i < count; i++) {
		vk_free(disks[i].file_name);
		vk_free(disks[i].node);
	}
	vk_free(disks);
}

desc_status vmsd_snapshot_disks(const desc_dict *vmsd,
				vmsd_snapshot_disk **out, size_t *count,
				desc_error *err)
{
	vmsd_snapshot_disk *disks = NULL;
	size_t i, n = 0, capacity = 0, entries;

	*out = NULL;
	*count = 0;
	if (vmsd == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "missing .vmsd dictionary");
	entries = desc_dict_count(vmsd);
	for (i = 0; i < entries; i++) {
		const char *key = desc_dict_key_at(vmsd, i);
		const char *value = desc_dict_value_at(vmsd, i);
		const char *p = key, *end = key + strlen(key);
		unsigned long snap, disk;
		vmsd_snapshot_disk *grown, *d;
		char *node_key;

		if (!cursor_literal(&p, end, "snapshot") ||
		    !cursor_ulong(&p, end, &snap) ||
		    !cursor_literal(&p, end, ".disk") ||
		    !cursor_ulong(&p, end, &disk) ||
		    !cursor_literal(&p, end, ".fileName") || p != end)
			continue;
		if (desc_dict_get(vmsd, key) != value)
			continue; /* counted at its last line */
		if (n == capacity) {
			capacity = capacity ? capacity * 2 : 4;
			grown = vk_reallocarray(disks, capacity, sizeof(*disks));
			if (grown == NULL)
				goto nomem;
			disks = grown;
		}
		d = &disks[n++];
		memset(d, 0, sizeof(*d));
		d->snapshot = snap;
		d->disk = disk;
		d->line = desc_dict_line_at(vmsd, i);
		d->file_name = vk_strdup(value);
		/* "snapshotN.diskM." + "node" */
		node_key = vk_asprintf("%.*snode",
				       (int)(end - key - (int)strlen("fileName")),
				       key);
		if (d->file_name == NULL || node_key == NULL) {
			vk_free(node_key);
			goto nomem;
		}
		value = desc_dict_get(vmsd, node_key);
		vk_free(node_key);
		if (value != NULL && (d->node = vk_strdup(value)) == NULL)
			goto nomem;
	}
	*out = disks;
	*count = n;
	return DESC_OK;
nomem:
	vmsd_snapshot_disks_free(disks, n);
	return desc_error_set(err, DESC_E_NOMEM, NULL, 0, "out of memory");
}
