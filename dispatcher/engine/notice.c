/*
 * The engine's notices: see notice.h. The duty notice's text is bilingual
 * (Japanese first) and names each unreachable organisation by id and
 * name, so that the duty officer can call them.
 */
#include <errno.h>
#include <stdlib.h>

#include "common/buf.h"
#include "dispatcher/engine/notice.h"

int notice_duty_text(const struct rt_alert *a, char **title, char **body)
{
	struct buf t = {0}, b = {0};
	size_t n = 0;

	for (size_t i = 0; i < a->n_orgs; i++)
		n += a->orgs[i].state == OSTATE_UNREACHABLE;
	/* Japanese first, English beside it; "1 organisation" singular. */
	buf_printf(
		&t,
		"【到達不能】%zu組織に連絡がつきません / %zu %s unreachable: %s",
		n, n, n == 1 ? "organisation" : "organisations", a->title);
	buf_printf(&b,
		   "次の%zu組織に連絡がつきませんでした。\n"
		   "%s could not be reached:\n\n",
		   n, n == 1 ? "This organisation" : "These organisations");
	for (size_t i = 0; i < a->n_orgs; i++)
		if (a->orgs[i].state == OSTATE_UNREACHABLE)
			buf_printf(&b, "- %s  %s\n", a->orgs[i].org_id,
				   a->orgs[i].org_name);
	buf_printf(&b, "\n警報 / alert %s: %s\n", a->id, a->title);
	*title = buf_steal(&t);
	*body = buf_steal(&b);
	if (*title == NULL || *body == NULL) {
		free(*title);
		free(*body);
		return -ENOMEM;
	}
	return 0;
}
