/* check_number.c - descriptor/number.c: the one number parser and hex
 * codec every layer uses. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor/private.h"

static const struct number_case {
	const char *text;
	unsigned base;
	uint64_t max;
	desc_number_status want;
	uint64_t value;
	size_t used;	/* bytes the cursor moves on success */
} number_cases[] = {
	{ "0", 10, UINT64_MAX, DESC_NUMBER_OK, 0, 1 },
	{ "42x", 10, UINT64_MAX, DESC_NUMBER_OK, 42, 2 },
	{ "18446744073709551615", 10, UINT64_MAX, DESC_NUMBER_OK, UINT64_MAX, 20 },
	{ "18446744073709551616", 10, UINT64_MAX, DESC_NUMBER_OVERFLOW, 0, 0 },
	{ "99999999999999999999999999", 10, UINT64_MAX, DESC_NUMBER_OVERFLOW, 0, 0 },
	{ "256", 10, 255, DESC_NUMBER_OVERFLOW, 0, 0 },
	{ "255", 10, 255, DESC_NUMBER_OK, 255, 3 },
	{ "7", 10, 5, DESC_NUMBER_OVERFLOW, 0, 0 },
	{ "", 10, UINT64_MAX, DESC_NUMBER_NONE, 0, 0 },
	{ "-1", 10, UINT64_MAX, DESC_NUMBER_NONE, 0, 0 },
	{ "+1", 10, UINT64_MAX, DESC_NUMBER_NONE, 0, 0 },
	{ " 1", 10, UINT64_MAX, DESC_NUMBER_NONE, 0, 0 },
	{ "fffffffe", 16, UINT32_MAX, DESC_NUMBER_OK, 0xfffffffe, 8 },
	{ "FfFfFfFf", 16, UINT32_MAX, DESC_NUMBER_OK, 0xffffffff, 8 },
	{ "100000000", 16, UINT32_MAX, DESC_NUMBER_OVERFLOW, 0, 0 },
	{ "0x10", 16, UINT64_MAX, DESC_NUMBER_OK, 0, 1 },
	{ "g", 16, UINT64_MAX, DESC_NUMBER_NONE, 0, 0 },
	{ "0644", 8, 07777, DESC_NUMBER_OK, 0644, 4 },
	{ "17779", 8, 07777, DESC_NUMBER_OK, 01777, 4 },
	{ "17777", 8, 07777, DESC_NUMBER_OVERFLOW, 0, 0 },
	{ "8", 8, UINT64_MAX, DESC_NUMBER_NONE, 0, 0 },
	{ "12", 2, UINT64_MAX, DESC_NUMBER_NONE, 0, 0 },
};

START_TEST(test_parse_number)
{
	const struct number_case *c = &number_cases[_i];
	const char *p = c->text;
	uint64_t v = 12345;
	desc_number_status st = desc_parse_number(&p, NULL, c->base, c->max, &v);

	ck_assert_msg(st == c->want, "'%s': status %d, want %d", c->text, st, c->want);
	if (st == DESC_NUMBER_OK) {
		ck_assert_uint_eq(v, c->value);
		ck_assert_ptr_eq(p, c->text + c->used);
	} else {
		/* advance only on success: nothing moved, nothing stored */
		ck_assert_ptr_eq(p, c->text);
		ck_assert_uint_eq(v, 12345);
	}
}
END_TEST

START_TEST(test_parse_number_bounded_by_end)
{
	const char text[] = "12345";
	const char *p = text;
	uint64_t v = 0;

	ck_assert_int_eq(desc_parse_number(&p, text + 3, 10, UINT64_MAX, &v),
			 DESC_NUMBER_OK);
	ck_assert_uint_eq(v, 123);
	ck_assert_ptr_eq(p, text + 3);
	ck_assert_int_eq(desc_parse_number(&p, p, 10, UINT64_MAX, &v),
			 DESC_NUMBER_NONE);
}
END_TEST

START_TEST(test_parse_number_all)
{
	uint64_t v = 7;

	ck_assert(desc_parse_number_all("123", 3, 10, UINT64_MAX, &v));
	ck_assert_uint_eq(v, 123);
	ck_assert(desc_parse_number_all("1234", 2, 10, UINT64_MAX, &v));
	ck_assert_uint_eq(v, 12);
	v = 7;
	ck_assert(!desc_parse_number_all("12a", 3, 10, UINT64_MAX, &v));
	ck_assert(!desc_parse_number_all("", 0, 10, UINT64_MAX, &v));
	ck_assert(!desc_parse_number_all(NULL, 0, 10, UINT64_MAX, &v));
	ck_assert(!desc_parse_number_all("300", 3, 10, 255, &v));
	ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(test_hex_codec)
{
	const unsigned char bytes[] = { 0x00, 0x01, 0xab, 0xff, 0x7e };
	unsigned char back[5];
	char hex[11];

	vk_hex_encode(bytes, sizeof(bytes), hex);
	ck_assert_str_eq(hex, "0001abff7e");
	ck_assert(vk_hex_decode(hex, 10, back, sizeof(back)));
	ck_assert(memcmp(back, bytes, sizeof(bytes)) == 0);
	ck_assert(vk_hex_decode("0001ABFF7E", 10, back, sizeof(back)));
	ck_assert(memcmp(back, bytes, sizeof(bytes)) == 0);
	ck_assert(!vk_hex_decode(hex, 9, back, sizeof(back)));
	ck_assert(!vk_hex_decode("0001abff7g", 10, back, sizeof(back)));
	vk_hex_encode(bytes, 0, hex);
	ck_assert_str_eq(hex, "");
	ck_assert_int_eq(vk_hex_digit('F'), 15);
	ck_assert_int_eq(vk_hex_digit('G'), -1);
}
END_TEST

START_TEST(test_nomem)
{
	desc_error err;

	desc_error_clear(&err);
	ck_assert_int_eq(vk_nomem(&err), DESC_E_NOMEM);
	ck_assert_int_eq(err.code, DESC_E_NOMEM);
	ck_assert_str_eq(err.message, "out of memory");
	ck_assert_int_eq(vk_nomem(NULL), DESC_E_NOMEM);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("number");
	TCase *tc = tcase_create("number");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_parse_number, 0,
			    (int)(sizeof(number_cases) / sizeof(number_cases[0])));
	tcase_add_test(tc, test_parse_number_bounded_by_end);
	tcase_add_test(tc, test_parse_number_all);
	tcase_add_test(tc, test_hex_codec);
	tcase_add_test(tc, test_nomem);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
