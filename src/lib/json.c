// SPDX-License-Identifier: GPL-2.0
/*
 * The one JSON writer every printer uses.  Streaming, no allocation; commas
 * and nesting are tracked here so printers cannot emit malformed lines.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kscope.h"

void ks_json_init(struct ks_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

/* comma before a value unless it follows a key or opens a container */
/* false inside a container too deep to write (see open()) */
static bool pre_value(struct ks_json *j)
{
	if (j->skip)
		return false;
	if (j->after_key) {
		j->after_key = false;
		return true;
	}
	/* top-level values are lines of their own (NDJSON): no comma; the
	 * fuzzer found one between two reports written with one writer */
	if (j->depth && j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
	return true;
}

/*
 * Containers deeper than need_comma[] can track are written as null and
 * their contents dropped, so a line stays valid JSON whatever a caller
 * nests (no printer comes near the limit).
 */
static void open(struct ks_json *j, char c)
{
	if (j->skip) {
		j->skip++;
		return;
	}
	if (j->depth >= KS_JSON_MAX_DEPTH - 1) {
		ks_json_null(j);
		j->skip = 1;
		return;
	}
	if (!pre_value(j))
		return;
	fputc(c, j->f);
	j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct ks_json *j, char c)
{
	if (j->skip) {
		j->skip--;
		return;
	}
	fputc(c, j->f);
	if (j->depth > 0)
		j->depth--;
	if (j->depth == 0)
		fputc('\n', j->f);	/* one object per line */
}

void ks_json_obj_begin(struct ks_json *j) { open(j, '{'); }
void ks_json_obj_end(struct ks_json *j) { close_(j, '}'); }
void ks_json_arr_begin(struct ks_json *j) { open(j, '['); }
void ks_json_arr_end(struct ks_json *j) { close_(j, ']'); }

size_t ks_json_escape(char *buf, size_t len, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

#define PUT(ch) do { if (o + 1 < len) buf[o] = (ch); o++; } while (0)
	for (i = 0; i < n && s[i]; i++) {
		unsigned char c = s[i];

		switch (c) {
		case '"': PUT('\\'); PUT('"'); break;
		case '\\': PUT('\\'); PUT('\\'); break;
		case '\n': PUT('\\'); PUT('n'); break;
		case '\r': PUT('\\'); PUT('r'); break;
		case '\t': PUT('\\'); PUT('t'); break;
		case '\b': PUT('\\'); PUT('b'); break;
		case '\f': PUT('\\'); PUT('f'); break;
		default:
			if (c < 0x20 || c == 0x7f || c >= 0x80) {
				/*
				 * Task names are bytes, not UTF-8: a byte >=
				 * 0x80 is written as its code point so the
				 * line stays valid JSON whatever comm holds.
				 */
				PUT('\\'); PUT('u'); PUT('0'); PUT('0');
				PUT(hex[c >> 4]); PUT(hex[c & 15]);
			} else {
				PUT(c);
			}
		}
	}
#undef PUT
	if (len)
		buf[o < len ? o : len - 1] = '\0';
	return o;
}

void ks_json_strn(struct ks_json *j, const char *s, size_t n)
{
	char small[256];
	size_t need;

	if (!pre_value(j))
		return;
	need = ks_json_escape(small, sizeof(small), s, n);
	fputc('"', j->f);
	if (need < sizeof(small)) {
		fputs(small, j->f);
	} else {
		char *big = malloc(need + 1);

		if (big) {
			ks_json_escape(big, need + 1, s, n);
			fputs(big, j->f);
			free(big);
		}
	}
	fputc('"', j->f);
}

void ks_json_str(struct ks_json *j, const char *s)
{
	if (!s) {
		ks_json_null(j);
		return;
	}
	ks_json_strn(j, s, strlen(s));
}

void ks_json_key(struct ks_json *j, const char *k)
{
	if (j->skip)
		return;
	ks_json_str(j, k);
	fputc(':', j->f);
	j->after_key = true;
}

void ks_json_u64(struct ks_json *j, uint64_t v)
{
	if (pre_value(j))
		fprintf(j->f, "%" PRIu64, v);
}

void ks_json_i64(struct ks_json *j, int64_t v)
{
	if (pre_value(j))
		fprintf(j->f, "%" PRId64, v);
}

void ks_json_double(struct ks_json *j, double v, int decimals)
{
	if (!pre_value(j))
		return;
	if (!isfinite(v))	/* JSON has no NaN/Inf */
		fputs("null", j->f);
	else
		fprintf(j->f, "%.*f", decimals, v);
}

void ks_json_bool(struct ks_json *j, bool v)
{
	if (pre_value(j))
		fputs(v ? "true" : "false", j->f);
}

void ks_json_null(struct ks_json *j)
{
	if (pre_value(j))
		fputs("null", j->f);
}

void ks_json_kstr(struct ks_json *j, const char *k, const char *v)
{
	ks_json_key(j, k);
	ks_json_str(j, v);
}

void ks_json_ku64(struct ks_json *j, const char *k, uint64_t v)
{
	ks_json_key(j, k);
	ks_json_u64(j, v);
}

void ks_json_kdouble(struct ks_json *j, const char *k, double v, int dec)
{
	ks_json_key(j, k);
	ks_json_double(j, v, dec);
}
