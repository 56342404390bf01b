/* validate.c - semantic and portability findings for a parsed descriptor. */
#include "config.h"

#include "descriptor/desc_private.h"
#include "descriptor/private.h"

desc_status desc_validate(const desc_descriptor *desc, desc_findings *out)
{
	(void)desc;
	(void)out;
	return DESC_OK;
}

desc_status desc_check_portability(const desc_descriptor *desc,
				   desc_findings *out)
{
	(void)desc;
	(void)out;
	return DESC_OK;
}
