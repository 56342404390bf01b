/*
 * number.c - the project's one number parser and hex codec, and its one
 * allocation-failure error.  Every layer parses digits through these (the
 * model is curl's strparse: a cursor that advances only on success, with
 * overflow checked digit by digit), so a bound or an overflow check is
 * written once.
 */
#include "config.h"

#include <string.h>

#include "descriptor/private.h"

int vk_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int digit_in(int c, unsigned base)
{
	int d = base == 16 ? vk_hex_digit(c) : (c >= '0' && c <= '9' ? c - '0' : -1);

	return d >= 0 && (unsigned)d < base ? d : -1;
}

desc_number_status desc_parse_number(const char **p, const char *end,
				     unsigned base, uint64_t max,
				     uint64_t *out)
{
	const char *q = *p;
	uint64_t v = 0;
	int d;

	if (base != 8 && base != 10 && base != 16)
		return DESC_NUMBER_NONE;
	if ((end != NULL && q >= end) || (d = digit_in((unsigned char)*q, base)) < 0)
		return DESC_NUMBER_NONE;
	for (; (end == NULL || q < end) &&
	       (d = digit_in((unsigned char)*q, base)) >= 0; q++) {
		if ((uint64_t)d > max || v > (max - (uint64_t)d) / base)
			return DESC_NUMBER_OVERFLOW;
		v = v * base + (uint64_t)d;
	}
	*p = q;
	*out = v;
	return DESC_NUMBER_OK;
}

bool desc_parse_number_all(const char *s, size_t len, unsigned base,
			   uint64_t max, uint64_t *out)
{
	const char *p = s;
	uint64_t v;

	if (s == NULL ||
	    desc_parse_number(&p, s + len, base, max, &v) != DESC_NUMBER_OK ||
	    p != s + len)
		return false;
	*out = v;
	return true;
}

bool vk_all_hex_digits(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (vk_hex_digit((unsigned char)s[i]) < 0)
			return false;
	return len > 0;
}

static void hex_encode(const void *in, size_t n, char *out,
		       const char digits[16])
{
	const unsigned char *b = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

void vk_hex_encode(const void *in, size_t n, char *out)
{
	hex_encode(in, n, out, "0123456789abcdef");
}

void vk_hex_encode_upper(const void *in, size_t n, char *out)
{
	hex_encode(in, n, out, "0123456789ABCDEF");
}

bool vk_hex_decode(const char *hex, size_t hexlen, void *out, size_t n)
{
	unsigned char *b = out;

	if (n > SIZE_MAX / 2 || hexlen != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = vk_hex_digit((unsigned char)hex[2 * i]);
		int lo = vk_hex_digit((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	return true;
}

desc_status vk_nomem_at(desc_error *err, const char *file, unsigned line)
{
	return desc_error_set(err, DESC_E_NOMEM, file, line, "out of memory");
}

desc_status vk_nomem(desc_error *err)
{
	return vk_nomem_at(err, NULL, 0);
}
