// SPDX-License-Identifier: GPL-2.0
/* log2 histograms: the same bucketing as bpf/common.bpf.h ks_log2_slot() */
#include <inttypes.h>
#include <string.h>
#include "kscope.h"

uint32_t ks_hist_slot(uint64_t v)
{
	uint32_t s = v ? 64 - __builtin_clzll(v) : 0;

	return s < KS_HIST_SLOTS ? s : KS_HIST_SLOTS - 1;
}

uint64_t ks_hist_slot_min(uint32_t slot)
{
	return slot ? 1ULL << (slot - 1) : 0;
}

uint64_t ks_hist_slot_max(uint32_t slot)
{
	if (slot == 0)
		return 0;
	if (slot >= KS_HIST_SLOTS - 1)	/* last slot takes everything above */
		return UINT64_MAX;
	return (1ULL << slot) - 1;
}

uint64_t ks_hist_total(const uint64_t *slots, int n)
{
	uint64_t t = 0;

	for (int i = 0; i < n; i++)
		t += slots[i];
	return t;
}

static void used_range(const uint64_t *slots, int n, int *lo, int *hi)
{
	*lo = -1;
	*hi = -1;
	for (int i = 0; i < n; i++) {
		if (!slots[i])
			continue;
		if (*lo < 0)
			*lo = i;
		*hi = i;
	}
}

/* 1K/1M style bounds keep the text columns narrow, as bpftrace does */
static const char *short_num(uint64_t v, char *buf, size_t len)
{
	static const char sfx[] = "KMGTPE";
	int i = -1;

	while (v >= 1024 && (v & 1023) == 0 && i < 5) {
		v >>= 10;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%" PRIu64 "%c", v, sfx[i]);
	return buf;
}

void ks_hist_print(FILE *f, const uint64_t *slots, int n, const char *unit,
		   const char *indent)
{
	uint64_t peak = 0;
	int lo, hi;
	const int width = 40;

	used_range(slots, n, &lo, &hi);
	if (lo < 0)
		return;
	for (int i = lo; i <= hi; i++)
		if (slots[i] > peak)
			peak = slots[i];
	if (unit)
		fprintf(f, "%s%-21s %-10s |%-*s|\n", indent, unit, "count",
			width, "");
	for (int i = lo; i <= hi; i++) {
		char a[24], b[24], range[52];
		int bar = peak ? (int)(slots[i] * width / peak) : 0;
		uint64_t mx = ks_hist_slot_max(i);

		if (i == 0)
			snprintf(range, sizeof(range), "[0]");
		else if (mx == UINT64_MAX)
			snprintf(range, sizeof(range), "[%s, ...)",
				 short_num(ks_hist_slot_min(i), a, sizeof(a)));
		else
			snprintf(range, sizeof(range), "[%s, %s)",
				 short_num(ks_hist_slot_min(i), a, sizeof(a)),
				 short_num(mx + 1, b, sizeof(b)));
		fprintf(f, "%s%-21s %-10" PRIu64 " |", indent, range, slots[i]);
		for (int k = 0; k < width; k++)
			fputc(k < bar ? '@' : ' ', f);
		fputs("|\n", f);
	}
}

void ks_hist_json(struct ks_json *j, const char *key, const uint64_t *slots,
		  int n)
{
	int lo, hi;

	used_range(slots, n, &lo, &hi);
	ks_json_key(j, key);
	ks_json_arr_begin(j);
	for (int i = lo; lo >= 0 && i <= hi; i++) {
		ks_json_obj_begin(j);
		ks_json_ku64(j, "min", ks_hist_slot_min(i));
		ks_json_ku64(j, "max", ks_hist_slot_max(i));
		ks_json_ku64(j, "count", slots[i]);
		ks_json_obj_end(j);
	}
	ks_json_arr_end(j);
}
