/* SPDX-License-Identifier: GPL-2.0 */
/* gzip bytes inflated whole, for the harnesses that check gzipped output
 * (pprof profiles, /metrics): abort() on a malformed stream */
#ifndef KS_FUZZ_GUNZIP_H
#define KS_FUZZ_GUNZIP_H

#include <stdlib.h>
#include <zlib.h>

static inline unsigned char *ks_fuzz_gunzip(const void *gz, size_t len,
					    size_t *out_len)
{
	size_t cap = 4 * len + 1024;
	unsigned char *raw = malloc(cap);
	z_stream z = { 0 };

	if (!raw || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		abort();
	z.next_in = (unsigned char *)gz;
	z.avail_in = len;
	for (;;) {
		int rc;

		z.next_out = raw + z.total_out;
		z.avail_out = cap - z.total_out;
		rc = inflate(&z, Z_FINISH);
		if (rc == Z_STREAM_END)
			break;
		if (rc != Z_BUF_ERROR && rc != Z_OK)
			abort();
		cap *= 2;
		raw = realloc(raw, cap);
		if (!raw)
			abort();
	}
	*out_len = z.total_out;
	inflateEnd(&z);
	return raw;
}

#endif
