/*
 * The fax page: see fax_render.h. Laid out top to bottom on one A4 page
 * (595 x 842 points) with a running y; text that is longer than the page
 * is cut by pango with an ellipsis, so a fax is always one page and the
 * confirmation block at the bottom is never pushed off it.
 *
 * Fax is black and white at 200 dpi: the TLP colours are kept as the
 * standard asks, but the label is large and bold so it reads in grey.
 */
#include <errno.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include "channels/fax_render.h"

#define A4_W 595.0
#define A4_H 842.0
#define MARGIN 48.0
#define FONT "Noto Sans CJK JP"

static cairo_status_t to_buf(void *closure, const unsigned char *data,
			     unsigned int len)
{
	return buf_append(closure, data, len) < 0 ? CAIRO_STATUS_NO_MEMORY
						  : CAIRO_STATUS_SUCCESS;
}

/*
 * Draws text at (x, *y) in a box width wide and at most max_h high, and
 * moves *y below it.
 */
static void text(cairo_t *cr, double x, double *y, double width, double max_h,
		 const char *font, const char *s)
{
	PangoLayout *l = pango_cairo_create_layout(cr);
	PangoFontDescription *fd = pango_font_description_from_string(font);
	int w, h;

	pango_layout_set_font_description(l, fd);
	pango_layout_set_width(l, (int)(width * PANGO_SCALE));
	pango_layout_set_height(l, (int)(max_h * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
	pango_layout_set_text(l, s, -1);
	cairo_move_to(cr, x, *y);
	pango_cairo_show_layout(cr, l);
	pango_layout_get_pixel_size(l, &w, &h);
	*y += h;
	pango_font_description_free(fd);
	g_object_unref(l);
}

static void tlp_colour(enum tlp t, double rgb[3])
{
	/* TLP 2.0: RED FF2B2B, AMBER FFC000, GREEN 33FF00, CLEAR white. */
	static const double c[][3] = {
		{1, 1, 1},    {0.2, 1, 0},     {1, 0.75, 0},
		{1, 0.75, 0}, {1, 0.17, 0.17},
	};

	memcpy(rgb, c[t <= TLP_RED ? t : TLP_RED], sizeof(c[0]));
}

static void qr(cairo_t *cr, const char *url, double x, double y, double size)
{
	QRcode *q = QRcode_encodeString8bit(url, 0, QR_ECLEVEL_M);
	double cell;

	if (q == NULL)
		return;
	/* Four modules of quiet zone on each side, as the standard wants. */
	cell = size / (q->width + 8);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, x, y, size, size);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (int r = 0; r < q->width; r++)
		for (int c = 0; c < q->width; c++)
			if (q->data[r * q->width + c] & 1)
				cairo_rectangle(cr, x + (c + 4) * cell,
						y + (r + 4) * cell, cell, cell);
	cairo_fill(cr);
	QRcode_free(q);
}

int fax_render_pdf(struct buf *out, const struct channel_message *m,
		   const char *phone)
{
	cairo_surface_t *s;
	cairo_t *cr;
	double y = MARGIN, w = A4_W - 2 * MARGIN, rgb[3];
	char line[512];
	cairo_status_t st;

	s = cairo_pdf_surface_create_for_stream(to_buf, out, A4_W, A4_H);
	cr = cairo_create(s);

	cairo_set_source_rgb(cr, 0, 0, 0);
	text(cr, MARGIN, &y, w, 40, FONT " Bold 22",
	     "緊急連絡 / Emergency notice");
	y += 10;

	/* The TLP label: coloured on black, as TLP 2.0 shows it. */
	tlp_colour(m->tlp, rgb);
	cairo_set_source_rgb(cr, 0, 0, 0);
	cairo_rectangle(cr, MARGIN, y, 220, 34);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
	{
		double ty = y + 4;

		text(cr, MARGIN + 10, &ty, 200, 30, FONT " Bold 16",
		     tlp_label(m->tlp));
	}
	y += 44;

	if (m->drill) {
		double ty = y + 4;

		cairo_set_source_rgb(cr, 0, 0, 0);
		cairo_set_line_width(cr, 3);
		cairo_rectangle(cr, MARGIN, y, w, 34);
		cairo_stroke(cr);
		text(cr, MARGIN + 10, &ty, w - 20, 30, FONT " Bold 16",
		     "これは訓練です / THIS IS A DRILL");
		y += 44;
	}

	cairo_set_source_rgb(cr, 0, 0, 0);
	snprintf(line, sizeof(line), "宛先 / To: %s",
		 m->org_name && *m->org_name ? m->org_name : "");
	text(cr, MARGIN, &y, w, 40, FONT " 12", line);
	y += 8;
	text(cr, MARGIN, &y, w, 80, FONT " Bold 16", m->title ? m->title : "");
	y += 8;
	/* The text gets what the confirmation block leaves of the page. */
	text(cr, MARGIN, &y, w, A4_H - y - 230, FONT " 11",
	     m->body ? m->body : "");

	y = A4_H - MARGIN - 170;
	cairo_set_line_width(cr, 1);
	cairo_move_to(cr, MARGIN, y - 8);
	cairo_line_to(cr, A4_W - MARGIN, y - 8);
	cairo_stroke(cr);
	text(cr, MARGIN, &y, w - 150, 24, FONT " Bold 12",
	     "受領確認の方法 / How to confirm");
	if (m->ack_url && *m->ack_url) {
		text(cr, MARGIN, &y, w - 150, 40, FONT " 10",
		     "返信リンク（右のQRコード）/ Reply link (QR code):");
		text(cr, MARGIN, &y, w - 150, 60, "DejaVu Sans Mono 8",
		     m->ack_url);
		qr(cr, m->ack_url, A4_W - MARGIN - 130, A4_H - MARGIN - 170,
		   130);
	}
	if (phone && *phone) {
		snprintf(line, sizeof(line), "電話 / Phone: %s", phone);
		text(cr, MARGIN, &y, w - 150, 24, FONT " 10", line);
	}

	cairo_show_page(cr);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	st = cairo_surface_status(s);
	cairo_surface_destroy(s);
	if (st == CAIRO_STATUS_NO_MEMORY)
		return -ENOMEM;
	return st == CAIRO_STATUS_SUCCESS ? 0 : -EIO;
}
