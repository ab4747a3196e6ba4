// SPDX-License-Identifier: GPL-2.0
/*
 * Flame graphs: folded stacks in, SVG out, in C, because FlameGraph's Perl
 * scripts and inferno are not packaged where kscope runs.  The picture is
 * the one people know from flamegraph.pl: one rectangle per frame, frames
 * merged per level and sorted by name, widths proportional to weight, the
 * root at the bottom (or at the top with icicle), a tooltip per frame.
 * The zoom and search script only moves what is already drawn.
 *
 * The input is whatever a user pipes in: any bytes.  Names reach the SVG
 * as valid UTF-8 with XML's special and control characters replaced, and
 * nothing here recurses deeper than KS_FLAME_MAX_DEPTH.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "kscope.h"

#define KS_FLAME_MAX_DEPTH	1024
#define ROOT_NAME		"all"

struct node {
	uint64_t value;
	uint32_t parent;
	uint32_t depth;
	size_t name, len;		/* in names */
};

struct ks_flame {
	struct node *nodes;
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
	uint32_t *hash;			/* node index + 1; 0: empty slot */
	size_t hcap;
	uint32_t max_depth;
	size_t lines, bad, first_bad, truncated;
};

static uint64_t name_hash(uint32_t parent, const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ parent;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h ^ (h >> 29);
}

static int add_node(struct ks_flame *f, uint32_t parent, const char *s,
		    size_t n)
{
	struct node *nd;

	if (f->n >= INT32_MAX - 1)
		return -1;	/* node indexes are 32-bit */
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 256;
		struct node *p = realloc(f->nodes, cap * sizeof(*p));

		if (!p)
			return -1;
		f->nodes = p;
		f->cap = cap;
	}
	if (f->names_len + n + 1 > f->names_cap) {
		size_t cap = f->names_cap ? f->names_cap : 4096;
		char *p;

		while (cap < f->names_len + n + 1)
			cap *= 2;
		p = realloc(f->names, cap);
		if (!p)
			return -1;
		f->names = p;
		f->names_cap = cap;
	}
	nd = &f->nodes[f->n];
	nd->value = 0;
	nd->parent = parent;
	nd->depth = parent == UINT32_MAX ? 0 : f->nodes[parent].depth + 1;
	nd->name = f->names_len;
	nd->len = n;
	memcpy(f->names + f->names_len, s, n);
	f->names_len += n;
	f->names[f->names_len++] = '\0';
	if (nd->depth > f->max_depth)
		f->max_depth = nd->depth;
	return f->n++;
}

static int rehash(struct ks_flame *f)
{
	size_t cap = f->hcap ? f->hcap * 2 : 1024;
	uint32_t *h = calloc(cap, sizeof(*h));

	if (!h)
		return -1;
	for (size_t i = 1; i < f->n; i++) {
		const struct node *nd = &f->nodes[i];
		size_t s = name_hash(nd->parent, f->names + nd->name,
				     nd->len) & (cap - 1);

		while (h[s])
			s = (s + 1) & (cap - 1);
		h[s] = i + 1;
	}
	free(f->hash);
	f->hash = h;
	f->hcap = cap;
	return 0;
}

/* the child of parent named s, made when new; -1 on no memory */
static long child(struct ks_flame *f, uint32_t parent, const char *s,
		  size_t n)
{
	size_t slot;
	int i;

	if ((f->n + 1) * 2 > f->hcap && rehash(f))
		return -1;
	slot = name_hash(parent, s, n) & (f->hcap - 1);
	for (; f->hash[slot]; slot = (slot + 1) & (f->hcap - 1)) {
		const struct node *nd = &f->nodes[f->hash[slot] - 1];

		if (nd->parent == parent && nd->len == n &&
		    !memcmp(f->names + nd->name, s, n))
			return f->hash[slot] - 1;
	}
	i = add_node(f, parent, s, n);
	if (i < 0)
		return -1;
	f->hash[slot] = i + 1;
	return i;
}

struct ks_flame *ks_flame_new(void)
{
	struct ks_flame *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	if (add_node(f, UINT32_MAX, ROOT_NAME, strlen(ROOT_NAME)) < 0 ||
	    rehash(f)) {
		ks_flame_free(f);
		return NULL;
	}
	return f;
}

void ks_flame_free(struct ks_flame *f)
{
	if (!f)
		return;
	free(f->nodes);
	free(f->names);
	free(f->hash);
	free(f);
}

uint64_t ks_flame_total(const struct ks_flame *f)
{
	return f->nodes[0].value;
}

size_t ks_flame_bad_lines(const struct ks_flame *f, size_t *first)
{
	if (first)
		*first = f->first_bad;
	return f->bad;
}

size_t ks_flame_truncated(const struct ks_flame *f)
{
	return f->truncated;
}

static void bad_line(struct ks_flame *f)
{
	if (!f->bad++)
		f->first_bad = f->lines;
}

int ks_flame_add(struct ks_flame *f, const char *const *frames,
		 const size_t *lens, int n, uint64_t weight)
{
	uint32_t cur = 0;

	if (f->nodes[0].value + weight < weight) {
		bad_line(f);	/* the total would wrap */
		return 0;
	}
	if (n > KS_FLAME_MAX_DEPTH) {
		n = KS_FLAME_MAX_DEPTH;
		f->truncated++;
	}
	f->nodes[0].value += weight;
	for (int i = 0; i < n; i++) {
		long c = child(f, cur, frames[i], lens[i]);

		if (c < 0)
			return -1;
		cur = c;
		f->nodes[cur].value += weight;
	}
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* one line [p, e) */
static int parse_line(struct ks_flame *f, const char *p, const char *e,
		      const char **frames, size_t *lens)
{
	const char *sp, *q;
	uint64_t w = 0;
	int n = 0;

	while (e > p && is_blank(e[-1]))
		e--;
	if (e == p || *p == '#')
		return 0;
	for (sp = e; sp > p && !is_blank(sp[-1]); sp--)
		;
	if (sp == e || sp == p || e - sp > 20)
		return bad_line(f), 0;
	for (q = sp; q < e; q++) {
		unsigned d = *q - '0';

		if (d > 9 || w > (UINT64_MAX - d) / 10)
			return bad_line(f), 0;
		w = w * 10 + d;
	}
	while (sp > p && is_blank(sp[-1]))
		sp--;
	if (sp == p)
		return bad_line(f), 0;
	/* frames beyond the deepest drawn go into it (counted once) */
	for (q = p; n <= KS_FLAME_MAX_DEPTH; ) {
		const char *semi = memchr(q, ';', sp - q);

		frames[n] = q;
		lens[n++] = (semi ? semi : sp) - q;
		if (!semi)
			break;
		q = semi + 1;
	}
	return ks_flame_add(f, frames, lens, n, w);
}

int ks_flame_parse(struct ks_flame *f, const char *buf, size_t len)
{
	const char **frames = malloc((KS_FLAME_MAX_DEPTH + 1) *
				     sizeof(*frames));
	size_t *lens = malloc((KS_FLAME_MAX_DEPTH + 1) * sizeof(*lens));
	const char *p = buf, *end = buf + len;
	int err = 0;

	if (!frames || !lens) {
		free(frames);
		free(lens);
		return -1;
	}
	while (p < end && !err) {
		const char *nl = memchr(p, '\n', end - p);
		const char *e = nl ? nl : end;

		f->lines++;
		err = parse_line(f, p, e, frames, lens);
		p = nl ? nl + 1 : end;
	}
	free(frames);
	free(lens);
	return err;
}

/* ---- SVG --------------------------------------------------------------- */

#define XPAD		10
#define FRAME_H		16
#define YPAD_TOP	50	/* title, controls */
#define YPAD_BOTTOM	34	/* the details line */
#define FONT_PX		12
#define CHAR_PX		(FONT_PX * 0.59)	/* average glyph width */
#define MIN_PX		0.1	/* frames narrower than this are left out */

/*
 * The next character of s (n bytes): its length, and in *cp the code
 * point, or U+FFFD for a byte that does not start a valid UTF-8 sequence
 * (overlong forms, surrogates and code points XML forbids included).
 */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0)
		len = 2, c &= 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		len = 3, c &= 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		len = 4, c &= 0x07, min = 0x10000;
	else
		return *cp = 0xfffd, 1;
	if (len > n)
		return *cp = 0xfffd, 1;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return *cp = 0xfffd, 1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) ||
	    c == 0xfffe || c == 0xffff)
		return *cp = 0xfffd, 1;
	*cp = c;
	return len;
}

/* up to max characters of s as XML text (also HTML text and attribute
 * values): the flame graph and the HTML report escape with this */
bool ks_xml_text(FILE *o, const char *str, size_t n, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, chars = 0;

	while (i < n && chars < max) {
		uint32_t cp;
		size_t l = utf8_next(s + i, n - i, &cp);

		chars++;
		switch (cp) {
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '&': fputs("&amp;", o); break;
		case '"': fputs("&quot;", o); break;
		case '\'': fputs("&apos;", o); break;
		case 0xfffd: fputs("\xef\xbf\xbd", o); break;
		default:
			if (cp < 0x20 || cp == 0x7f)
				fputc('?', o);
			else
				fwrite(s + i, 1, l, o);
		}
		i += l;
	}
	return i >= n;
}

static size_t utf8_chars(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, chars = 0;
	uint32_t cp;

	while (i < n) {
		i += utf8_next(s + i, n - i, &cp);
		chars++;
	}
	return chars;
}

enum frame_kind { FK_ROOT, FK_COMM, FK_KERNEL, FK_USER, FK_OTHER };

static bool ends_with(const char *s, size_t n, const char *suf)
{
	size_t l = strlen(suf);

	return n >= l && !memcmp(s + n - l, suf, l);
}

static enum frame_kind frame_kind(const char *s, size_t n, uint32_t depth)
{
	if (!depth)
		return FK_ROOT;
	if (ends_with(s, n, "_[k]"))
		return FK_KERNEL;
	if ((n > 3 && s[n - 1] == ']' && memmem(s, n, " [", 2)) ||
	    (n > 2 && !memcmp(s, "0x", 2)))
		return FK_USER;
	return depth == 1 ? FK_COMM : FK_OTHER;
}

/* colours by kind, the shade by name, so a frame has one colour
 * wherever it appears and from run to run */
static void frame_fill(char *buf, size_t len, const char *s, size_t n,
		       enum frame_kind k)
{
	double v = (name_hash(0, s, n) % 1000) / 1000.0;
	int r, g, b;

	switch (k) {
	case FK_ROOT:
		r = g = b = 190;
		break;
	case FK_COMM:		/* blue */
		r = 90 + 50 * v, g = 150 + 50 * v, b = 225 + 30 * v;
		break;
	case FK_KERNEL:		/* orange */
		r = 225 + 30 * v, g = 125 + 60 * v, b = 30 + 30 * v;
		break;
	case FK_USER:		/* red */
		r = 215 + 40 * v, g = 70 + 80 * v, b = 60 + 40 * v;
		break;
	default:		/* yellow */
		r = 200 + 40 * v, g = 190 + 40 * v, b = 60 + 30 * v;
		break;
	}
	snprintf(buf, len, "rgb(%d,%d,%d)", r, g, b);
}

static void fmt_value(char *buf, size_t len, uint64_t v, const char *unit)
{
	char h[32];

	if (unit && !strcmp(unit, "bytes"))
		snprintf(buf, len, "%" PRIu64 " bytes, %s", v,
			 ks_fmt_bytes(v, h, sizeof(h)));
	else if (unit && !strcmp(unit, "ns"))
		snprintf(buf, len, "%" PRIu64 " ns, %s", v,
			 ks_fmt_ns(v, h, sizeof(h)));
	else if (unit && *unit && strcmp(unit, "count"))
		snprintf(buf, len, "%" PRIu64 " %s", v, unit);
	else
		snprintf(buf, len, "%" PRIu64, v);
}

struct layout {
	const struct ks_flame *f;
	const struct ks_flame_opts *o;
	FILE *out;
	uint32_t *kids, *first;		/* children of node i: kids[first[i]
					 * .. first[i + 1]) sorted by name */
	double scale;
	int width, height;
};

static int kid_cmp(const void *a, const void *b, void *arg)
{
	const struct ks_flame *f = arg;
	const struct node *x = &f->nodes[*(const uint32_t *)a];
	const struct node *y = &f->nodes[*(const uint32_t *)b];
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(f->names + x->name, f->names + y->name, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int children(struct layout *l)
{
	const struct ks_flame *f = l->f;
	size_t *fill;

	l->first = calloc(f->n + 1, sizeof(*l->first));
	l->kids = calloc(f->n ? f->n : 1, sizeof(*l->kids));
	fill = calloc(f->n + 1, sizeof(*fill));
	if (!l->first || !l->kids || !fill) {
		free(fill);
		return -1;
	}
	for (size_t i = 1; i < f->n; i++)
		l->first[f->nodes[i].parent + 1]++;
	for (size_t i = 0; i < f->n; i++)
		l->first[i + 1] += l->first[i];
	for (size_t i = 1; i < f->n; i++) {
		uint32_t p = f->nodes[i].parent;

		l->kids[l->first[p] + fill[p]++] = i;
	}
	free(fill);
	for (size_t i = 0; i < f->n; i++)
		qsort_r(l->kids + l->first[i], l->first[i + 1] - l->first[i],
			sizeof(*l->kids), kid_cmp, (void *)f);
	return 0;
}

static void draw(struct layout *l, uint32_t i, uint64_t start)
{
	const struct node *nd = &l->f->nodes[i];
	const char *name = l->f->names + nd->name;
	double x = XPAD + start * l->scale, w = nd->value * l->scale;
	double y = l->o->icicle ? YPAD_TOP + nd->depth * FRAME_H :
		   l->height - YPAD_BOTTOM - (nd->depth + 1) * FRAME_H;
	uint64_t total = l->f->nodes[0].value;
	size_t fit = w > 6 ? (size_t)((w - 6) / CHAR_PX) : 0;
	char val[96], fill[32];
	FILE *o = l->out;

	if (w < MIN_PX)
		return;		/* so are its children: they are narrower */
	fmt_value(val, sizeof(val), nd->value, l->o->unit);
	frame_fill(fill, sizeof(fill), name, nd->len,
		   frame_kind(name, nd->len, nd->depth));
	fprintf(o, "<g class=\"f\" data-x=\"%" PRIu64 "\" data-w=\"%" PRIu64
		"\" data-d=\"%u\"><title>", start, nd->value, nd->depth);
	ks_xml_text(o, name, nd->len, SIZE_MAX);
	fprintf(o, " (%s, %.2f%%)</title><rect x=\"%.2f\" y=\"%.1f\" "
		"width=\"%.2f\" height=\"%d\" fill=\"%s\" rx=\"2\" ry=\"2\"/>"
		"<text x=\"%.2f\" y=\"%.1f\">", val,
		total ? nd->value * 100.0 / total : 0.0, x, y, w,
		FRAME_H - 1, fill, x + 3, y + FRAME_H - 5);
	if (fit >= 3) {
		if (utf8_chars(name, nd->len) <= fit)
			ks_xml_text(o, name, nd->len, SIZE_MAX);
		else {
			ks_xml_text(o, name, nd->len, fit - 2);
			fputs("..", o);
		}
	}
	fputs("</text></g>\n", o);
	for (uint32_t k = l->first[i]; k < l->first[i + 1]; k++) {
		uint32_t c = l->kids[k];

		draw(l, c, start);
		start += l->f->nodes[c].value;
	}
}

static const char svg_style[] =
"<style>\n"
"svg.kflame text { font-family: Verdana, \"DejaVu Sans\", sans-serif; "
"font-size: 12px; fill: #000; }\n"
"svg.kflame .title { font-size: 17px; }\n"
"svg.kflame .ctl { fill: #1f4e9c; cursor: pointer; }\n"
"svg.kflame g.f { cursor: pointer; }\n"
"svg.kflame g.f:hover rect { stroke: #000; stroke-width: 0.5; }\n"
"svg.kflame g.f text { pointer-events: none; }\n"
"</style>\n";

const char ks_flame_script[] =
"function ksFlame(svg) {\n"
"  var W = +svg.getAttribute('width'), pad = 10;\n"
"  var total = +svg.getAttribute('data-total');\n"
"  var frames = [].slice.call(svg.querySelectorAll('g.f'));\n"
"  var details = svg.querySelector('.details');\n"
"  var reset = svg.querySelector('.reset');\n"
"  var search = svg.querySelector('.search');\n"
"  var matched = svg.querySelector('.matched');\n"
"  var found = false;\n"
"  function q(g, a) { return +g.getAttribute('data-' + a); }\n"
"  function title(g) { return g.querySelector('title').textContent; }\n"
"  function name(g) { var t = title(g); return t.slice(0, t.lastIndexOf(' (')); }\n"
"  function place(g, x, w) {\n"
"    var r = g.querySelector('rect'), t = g.querySelector('text');\n"
"    var n = Math.floor((w - 6) / 7.08), s = name(g);\n"
"    r.setAttribute('x', x.toFixed(2));\n"
"    r.setAttribute('width', w.toFixed(2));\n"
"    t.setAttribute('x', (x + 3).toFixed(2));\n"
"    t.textContent = n < 3 ? '' : s.length <= n ? s : s.slice(0, n - 2) + '..';\n"
"  }\n"
"  function zoom(g) {\n"
"    var x0 = q(g, 'x'), w0 = q(g, 'w'), d0 = q(g, 'd');\n"
"    var s = (W - 2 * pad) / w0;\n"
"    reset.setAttribute('visibility', 'visible');\n"
"    frames.forEach(function (f) {\n"
"      var x = q(f, 'x'), w = q(f, 'w'), d = q(f, 'd');\n"
"      var up = d < d0 && x <= x0 && x + w >= x0 + w0;\n"
"      var down = d >= d0 && x >= x0 && x + w <= x0 + w0;\n"
"      f.style.display = up || down ? '' : 'none';\n"
"      f.style.opacity = up ? '0.6' : '';\n"
"      if (up) place(f, pad, W - 2 * pad);\n"
"      else if (down) place(f, pad + (x - x0) * s, w * s);\n"
"    });\n"
"  }\n"
"  function unzoom() {\n"
"    var s = (W - 2 * pad) / total;\n"
"    reset.setAttribute('visibility', 'hidden');\n"
"    frames.forEach(function (f) {\n"
"      f.style.display = '';\n"
"      f.style.opacity = '';\n"
"      place(f, pad + q(f, 'x') * s, q(f, 'w') * s);\n"
"    });\n"
"  }\n"
"  function find(re) {\n"
"    var hits = [], sum = 0, end = -1;\n"
"    frames.forEach(function (f) {\n"
"      var r = f.querySelector('rect');\n"
"      if (!r.hasAttribute('data-fill'))\n"
"        r.setAttribute('data-fill', r.getAttribute('fill'));\n"
"      var m = re !== null && re.test(name(f));\n"
"      r.setAttribute('fill', m ? 'rgb(230,0,230)' : r.getAttribute('data-fill'));\n"
"      if (m) hits.push([q(f, 'x'), q(f, 'w')]);\n"
"    });\n"
"    hits.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });\n"
"    hits.forEach(function (h) {\n"
"      var a = Math.max(h[0], end), b = h[0] + h[1];\n"
"      if (b > a) { sum += b - a; end = b; }\n"
"    });\n"
"    found = re !== null;\n"
"    search.textContent = found ? 'Reset Search' : 'Search';\n"
"    matched.textContent = found ? 'Matched: ' +\n"
"      (total ? 100 * sum / total : 0).toFixed(2) + '%' : '';\n"
"  }\n"
"  svg.addEventListener('click', function (e) {\n"
"    var g = e.target.closest ? e.target.closest('g.f') : null;\n"
"    if (g) zoom(g);\n"
"  });\n"
"  svg.addEventListener('mouseover', function (e) {\n"
"    var g = e.target.closest ? e.target.closest('g.f') : null;\n"
"    details.textContent = g ? title(g) : ' ';\n"
"  });\n"
"  reset.addEventListener('click', unzoom);\n"
"  search.addEventListener('click', function () {\n"
"    if (found) return find(null);\n"
"    var s = window.prompt('Search frames (regular expression)', '');\n"
"    if (!s) return;\n"
"    try { find(new RegExp(s)); } catch (err) { matched.textContent = 'Bad expression'; }\n"
"  });\n"
"  search.setAttribute('visibility', 'visible');\n"
"}\n";

int ks_flame_svg(const struct ks_flame *f, const struct ks_flame_opts *o,
		 FILE *out)
{
	struct layout l = { .f = f, .o = o, .out = out };
	uint64_t total = f->nodes[0].value;
	const char *title = o->title ? o->title : "Flame Graph";
	int levels = total ? f->max_depth + 1 : 1;

	l.width = o->width > 2 * XPAD + 100 ? o->width : 1200;
	l.height = YPAD_TOP + levels * FRAME_H + YPAD_BOTTOM;
	l.scale = total ? (double)(l.width - 2 * XPAD) / total : 0;
	if (children(&l)) {
		free(l.first);
		free(l.kids);
		return -1;
	}
	if (!o->embedded)
		fputs("<?xml version=\"1.0\" encoding=\"UTF-8\" "
		      "standalone=\"no\"?>\n", out);
	fprintf(out, "<svg class=\"kflame\" version=\"1.1\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" data-total=\"%" PRIu64
		"\" xmlns=\"http://www.w3.org/2000/svg\">\n", l.width,
		l.height, l.width, l.height, total);
	fputs(svg_style, out);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
		"fill=\"#f6f6f2\"/>\n<text class=\"title\" x=\"%d\" y=\"24\" "
		"text-anchor=\"middle\">", l.width, l.height, l.width / 2);
	ks_xml_text(out, title, strlen(title), SIZE_MAX);
	fprintf(out, "</text>\n<text class=\"ctl reset\" x=\"%d\" y=\"24\" "
		"visibility=\"hidden\">Reset Zoom</text>\n<text class=\"ctl "
		"search\" x=\"%d\" y=\"24\" text-anchor=\"end\" visibility="
		"\"hidden\">Search</text>\n<text class=\"details\" x=\"%d\" "
		"y=\"%d\"> </text>\n<text class=\"matched\" x=\"%d\" y=\"%d\" "
		"text-anchor=\"end\"> </text>\n", XPAD, l.width - XPAD, XPAD,
		l.height - 12, l.width - XPAD, l.height - 12);
	if (!total)
		fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">"
			"no stacks</text>\n", l.width / 2,
			YPAD_TOP + FRAME_H - 4);
	else
		draw(&l, 0, 0);
	if (!o->embedded)
		fprintf(out, "<script type=\"text/ecmascript\"><![CDATA[\n%s"
			"ksFlame(document.documentElement);\n]]></script>\n",
			ks_flame_script);
	fputs("</svg>\n", out);
	free(l.first);
	free(l.kids);
	return ferror(out) ? -1 : 0;
}
