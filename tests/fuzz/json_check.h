/* SPDX-License-Identifier: GPL-2.0 */
/*
 * JSON as a real consumer reads it (json-c, strict mode): the fuzzers of
 * kscope's JSON writers parse what was written with it and compare.
 */
#ifndef KS_JSON_CHECK_H
#define KS_JSON_CHECK_H

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

/* one line of JSON text, strictly, or NULL */
static inline struct json_object *ks_json_parse(const char *s, size_t n)
{
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *o;

	if (!tok)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)n);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)n) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/*
 * What a string of bytes reads back as: kscope writes a byte >= 0x80 (task
 * names are bytes, not UTF-8) as the code point of the same number, which
 * a parser hands back UTF-8 encoded; the string ends at a NUL.
 */
static inline char *ks_json_expect(const char *s, size_t n, size_t *len)
{
	char *o = malloc(2 * n + 1);
	size_t k = 0;

	if (!o)
		abort();
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = s[i];

		if (c < 0x80) {
			o[k++] = c;
		} else {
			o[k++] = 0xc0 | c >> 6;
			o[k++] = 0x80 | (c & 0x3f);
		}
	}
	o[k] = '\0';
	*len = k;
	return o;
}

/* parsed string o holds the bytes s[0..n) */
static inline int ks_json_str_is(struct json_object *o, const char *s,
				 size_t n)
{
	size_t len;
	char *want = ks_json_expect(s, n, &len);
	int ok = json_object_is_type(o, json_type_string) &&
		 (size_t)json_object_get_string_len(o) == len &&
		 !memcmp(json_object_get_string(o), want, len);

	free(want);
	return ok;
}

#endif
