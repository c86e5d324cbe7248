/*
 * Reading libconfuse files: see cfgfile.h for the four libconfuse 3.3
 * quirks worked around here. In order: reading and blanking comments
 * (with the checks libconfuse's lexer would get wrong or let pass),
 * building the text libconfuse parses (includes spliced in, each '}' on a
 * line of its own) with its line map, the parse with libconfuse's error
 * callback routed through the map, rewriting the lines and file names of
 * the sections afterwards, and the validate callbacks that keep sections
 * of the same title apart.
 *
 * Opening lines: libconfuse leaves a section at the line where it closed.
 * Because every '}' is alone on its line of the parsed text, that line
 * names one closing brace, and its map entry holds the line of the
 * matching '{' (braces are matched per file). So the rewrite works for
 * any section of any options table, without adding options to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/cfgfile.h"

/* Put in front of the title of a closed section so no later one matches. */
#define TAKEN '\x1f'

/* Besides quotes, '#' and line breaks, what ends an unquoted word. */
#define WORD_END " \t\r={}()+,*"

/* A stack of line numbers: the '{' not closed yet. */
struct lines {
	int *v;
	size_t n;
	size_t cap;
};

/* Where one line of the parsed text comes from. */
struct origin {
	size_t file; /* index in pp->files */
	int line;    /* its line in that file */
	int open;    /* on a line holding a '}': the line of its '{', or 0 */
};

/* The text being built for libconfuse and its map back to the files. */
struct pp {
	struct buf out;		 /* the text libconfuse parses */
	struct origin *map;	 /* map[i] is line i + 1 of out */
	size_t n_map;		 /* lines of out */
	size_t cap_map;		 /* entries allocated */
	char **files;		 /* owned; [0] is the top file */
	size_t n_files;		 /* files used */
	struct diag_list *diags; /* not owned; where errors go */
	bool includes;		 /* expand include("FILE") */
};

/* libconfuse's lexer is global: one parse at a time in the process. */
static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;

/* The parse under way on this thread, for libconfuse's callbacks. */
static _Thread_local struct pp *current;

static int lines_push(struct lines *l, int line)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		int *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = line;
	return 0;
}

static bool word_char(char c)
{
	return c != '\0' && strchr(WORD_END "\n\"'#", c) == NULL;
}

/*
 * The offset of the quote that closes the string opening at p (a quote),
 * or 0 when it never closes. Adds the line breaks inside to *line.
 */
static size_t string_len(const char *p, int *line)
{
	size_t i;

	for (i = 1; p[i] != '\0' && p[i] != p[0]; i++) {
		if (p[i] == '\\' && p[i + 1] != '\0')
			i++;
		if (p[i] == '\n')
			(*line)++;
	}
	return p[i] != '\0' ? i : 0;
}

/*
 * libconfuse reads "${NAME}" (environment) as one token where a word may
 * start, '}' included. The offset of that '}', or 0 when p is not one.
 */
static size_t env_len(const char *p)
{
	const char *end;

	if (p[0] != '$' || p[1] != '{')
		return 0;
	end = strchr(p + 2, '}');
	return end != NULL ? (size_t)(end - p) : 0;
}

/* ---- reading and blanking ---- */

/* Reads a whole file; *ret (NUL-terminated) and *ret_len on success. */
static int read_all(const char *path, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 0;
	char *text = NULL;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t got;

		if (cap - len < 4096) {
			char *grown;

			cap = cap ? cap * 2 : 8192;
			grown = realloc(text, cap);
			if (grown == NULL) {
				r = -ENOMEM;
				goto out;
			}
			text = grown;
		}
		got = read(fd, text + len, cap - len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	text[len] = '\0';
	*ret = text;
	*ret_len = len;
	text = NULL;
out:
	free(text);
	close(fd);
	return r;
}

/* A NUL byte would end the text early without a word: report it. */
static int nul_check(const char *text, size_t len, const char *name,
		     struct diag_list *diags)
{
	const char *nul = memchr(text, '\0', len);
	int line = 1;

	if (nul == NULL)
		return 0;
	for (const char *p = text; p < nul; p++)
		line += *p == '\n';
	diag_add(diags, name, line, "a NUL byte (is this a text file?)");
	return -EINVAL;
}

int cfgfile_blank(char *text, const char *name, struct diag_list *diags)
{
	struct lines open = {0};
	int line = 1, errors = 0, r = 0;
	bool in_word = false;
	char *p = text;

	while (*p != '\0') {
		char c = *p;
		size_t n;

		if (c == '\n') {
			line++;
			in_word = false;
			p++;
		} else if (c == '"' || c == '\'') {
			int start = line;

			n = string_len(p, &line);
			if (n == 0) {
				diag_add(diags, name, start,
					 "quoted string never ends (a closing "
					 "%c is missing)",
					 c);
				errors++;
				goto out;
			}
			p += n + 1;
			in_word = false;
		} else if (c == '#' || (!in_word && c == '/' && p[1] == '/')) {
			while (*p != '\0' && *p != '\n')
				*p++ = ' ';
			in_word = false;
		} else if (!in_word && c == '/' && p[1] == '*') {
			int start = line;

			p[0] = p[1] = ' ';
			for (p += 2;
			     *p != '\0' && !(p[0] == '*' && p[1] == '/'); p++) {
				if (*p == '\n')
					line++;
				else
					*p = ' ';
			}
			if (*p == '\0') {
				diag_add(diags, name, start,
					 "comment never ends (a closing */ is "
					 "missing)");
				errors++;
				goto out;
			}
			p[0] = p[1] = ' ';
			p += 2;
			in_word = false;
		} else if (!in_word && (n = env_len(p)) > 0) {
			for (size_t i = 0; i < n; i++)
				line += p[i] == '\n';
			p += n + 1;
			in_word = false;
		} else {
			if (c == '+' && in_word && p[1] != '=') {
				diag_add(diags, name, line,
					 "'+' in an unquoted value: put the "
					 "value in double quotes, as in "
					 "\"AMBER+STRICT\"");
				errors++;
			} else if (c == '{') {
				r = lines_push(&open, line);
				if (r < 0)
					goto out;
			} else if (c == '}') {
				if (open.n == 0) {
					/* libconfuse's own words for it. */
					diag_add(diags, name, line,
						 "unexpected closing brace");
					errors++;
				} else {
					open.n--;
				}
			}
			in_word = strchr(WORD_END, c) == NULL;
			p++;
		}
	}
	if (open.n > 0) {
		diag_add(diags, name, open.v[open.n - 1],
			 "'{' never closed (a '}' is missing)");
		errors++;
	}
out:
	free(open.v);
	if (r == 0 && errors > 0)
		r = -EINVAL;
	return r;
}

int cfgfile_read(const char *path, char **ret_text, struct diag_list *diags)
{
	char *text = NULL;
	size_t len;
	int r;

	r = read_all(path, &text, &len);
	if (r < 0) {
		if (r != -ENOMEM)
			diag_add(diags, path, 0, "cannot read: %s",
				 strerror(-r));
		return r;
	}
	r = nul_check(text, len, path, diags);
	if (r == 0)
		r = cfgfile_blank(text, path, diags);
	if (r < 0) {
		free(text);
		return r;
	}
	*ret_text = text;
	return 0;
}

/* ---- the parsed text and its line map ---- */

static int put(struct pp *pp, char c)
{
	return buf_append(&pp->out, &c, 1);
}

/* Maps the output line that starts now to (file, line, open). */
static int map_line(struct pp *pp, size_t file, int line, int open)
{
	if (pp->n_map == pp->cap_map) {
		size_t cap = pp->cap_map ? pp->cap_map * 2 : 256;
		struct origin *map = realloc(pp->map, cap * sizeof(*map));

		if (map == NULL)
			return -ENOMEM;
		pp->map = map;
		pp->cap_map = cap;
	}
	pp->map[pp->n_map++] = (struct origin){file, line, open};
	return 0;
}

/* Ends the output line; the next one comes from (file, line, open). */
static int next_line(struct pp *pp, size_t file, int line, int open)
{
	int r = put(pp, '\n');

	return r < 0 ? r : map_line(pp, file, line, open);
}

/* Copies n bytes of file, following its line breaks in the map. */
static int copy(struct pp *pp, size_t file, int *line, const char *p, size_t n)
{
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		if (p[i] == '\n')
			r = next_line(pp, file, ++(*line), 0);
		else
			r = put(pp, p[i]);
	}
	return r;
}

/* Takes over name (malloc'd); its index in *ret. */
static int files_add(struct pp *pp, char *name, size_t *ret)
{
	char **files = realloc(pp->files, (pp->n_files + 1) * sizeof(*files));

	if (files == NULL) {
		free(name);
		return -ENOMEM;
	}
	pp->files = files;
	files[pp->n_files] = name;
	*ret = pp->n_files++;
	return 0;
}

/* path relative to the directory of from, unless absolute; malloc'd. */
static char *resolve(const char *from, const char *path)
{
	const char *slash = strrchr(from, '/');
	char *out;

	if (path[0] == '/' || slash == NULL)
		return strdup(path);
	if (asprintf(&out, "%.*s/%s", (int)(slash - from), from, path) < 0)
		return NULL;
	return out;
}

/* Whether p starts the word include followed by '('. */
static bool is_include(const char *p)
{
	if (strncmp(p, "include", 7) != 0 || word_char(p[7]))
		return false;
	p += 7;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return *p == '(';
}

/*
 * Reads include ( "FILE" ) at p (is_include() is true): its length,
 * FILE (malloc'd) and the line breaks inside. -EINVAL when it is not
 * written that way.
 */
static int include_parse(const char *p, size_t *ret_len, char **ret_path,
			 int *ret_breaks)
{
	struct buf path = {0};
	const char *q = p + 7;
	int breaks = 0;
	char quote;

	while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
		breaks += *q++ == '\n';
	for (q++; *q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'; q++)
		breaks += *q == '\n';
	if (*q != '"' && *q != '\'')
		goto bad;
	quote = *q++;
	for (; *q != '\0' && *q != quote && *q != '\n'; q++) {
		if (*q == '\\' && q[1] != '\0' && q[1] != '\n')
			q++;
		if (buf_append(&path, q, 1) < 0) {
			buf_free(&path);
			return -ENOMEM;
		}
	}
	if (*q != quote || path.len == 0)
		goto bad;
	for (q++; *q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'; q++)
		breaks += *q == '\n';
	if (*q != ')')
		goto bad;
	*ret_len = (size_t)(q + 1 - p);
	*ret_path = buf_steal(&path);
	*ret_breaks = breaks;
	return *ret_path != NULL ? 0 : -ENOMEM;
bad:
	buf_free(&path);
	return -EINVAL;
}

static int expand(struct pp *pp, size_t file, const char *text, int depth);

/*
 * Splices in path, which file from includes at line. Errors go to the
 * diag list; only -ENOMEM is returned.
 */
static int include_file(struct pp *pp, size_t from, int line, const char *path,
			int depth)
{
	const char *includer = pp->files[from];
	char *full, *text = NULL;
	size_t idx, len;
	int r;

	if (depth >= CFGFILE_INCLUDE_DEPTH) {
		diag_add(pp->diags, includer, line,
			 "include(\"%s\"): includes nested more than %d deep "
			 "(does a file include itself?)",
			 path, CFGFILE_INCLUDE_DEPTH);
		return 0;
	}
	full = resolve(includer, path);
	if (full == NULL)
		return -ENOMEM;
	r = read_all(full, &text, &len);
	if (r < 0) {
		if (r != -ENOMEM) {
			diag_add(pp->diags, includer, line,
				 "cannot include \"%s\": %s", full,
				 strerror(-r));
			r = 0;
		}
		free(full);
		return r;
	}
	r = files_add(pp, full, &idx);
	if (r < 0)
		goto out;
	r = nul_check(text, len, pp->files[idx], pp->diags);
	if (r == 0)
		r = cfgfile_blank(text, pp->files[idx], pp->diags);
	if (r == 0)
		r = next_line(pp, idx, 1, 0);
	if (r == 0)
		r = expand(pp, idx, text, depth + 1);
	if (r == -EINVAL)
		r = 0;
out:
	free(text);
	return r;
}

/*
 * Appends text (comments blanked, the file at pp->files[file]) to the
 * parsed text: each '}' on an output line of its own mapped to the line
 * of its '{', include("FILE") replaced by FILE's text when pp->includes.
 * The current output line must already be mapped to line 1 of file.
 * Errors go to the diag list; only -ENOMEM is returned.
 */
static int expand(struct pp *pp, size_t file, const char *text, int depth)
{
	struct lines open = {0};
	const char *p = text;
	int line = 1, r = 0;
	bool in_word = false;

	while (*p != '\0' && r == 0) {
		char c = *p;
		size_t n;

		if (c == '\n') {
			r = next_line(pp, file, ++line, 0);
			in_word = false;
			p++;
		} else if (c == '"' || c == '\'') {
			int end = line;

			/* cfgfile_blank() saw every string end. */
			n = string_len(p, &end) + 1;
			r = copy(pp, file, &line, p, n);
			p += n;
			in_word = false;
		} else if (!in_word && (n = env_len(p)) > 0) {
			r = copy(pp, file, &line, p, n + 1);
			p += n + 1;
			in_word = false;
		} else if (pp->includes && !in_word && is_include(p)) {
			char *path;
			int breaks;

			r = include_parse(p, &n, &path, &breaks);
			if (r == -EINVAL) {
				diag_add(pp->diags, pp->files[file], line,
					 "include: write it include(\"FILE\")");
				p += 7;
				r = 0;
				continue;
			}
			if (r < 0)
				break;
			r = include_file(pp, file, line, path, depth);
			free(path);
			line += breaks;
			if (r == 0)
				r = next_line(pp, file, line, 0);
			p += n;
			in_word = false;
		} else if (c == '{') {
			r = lines_push(&open, line);
			if (r == 0)
				r = put(pp, c);
			in_word = false;
			p++;
		} else if (c == '}') {
			int from = open.n > 0 ? open.v[--open.n] : 0;

			r = next_line(pp, file, line, from);
			if (r == 0)
				r = put(pp, c);
			if (r == 0)
				r = next_line(pp, file, line, 0);
			in_word = false;
			p++;
		} else {
			r = put(pp, c);
			in_word = strchr(WORD_END, c) == NULL;
			p++;
		}
	}
	free(open.v);
	return r;
}

/* ---- parsing ---- */

/* The entry of output line line, the last one past the end; or NULL. */
static const struct origin *origin_of(const struct pp *pp, int line)
{
	if (pp->n_map == 0 || line < 1)
		return NULL;
	if ((size_t)line > pp->n_map)
		return &pp->map[pp->n_map - 1];
	return &pp->map[line - 1];
}

/* Where output line line is, for a message: file and line in it. */
static void where(const struct pp *pp, int line, const char **ret_file,
		  int *ret_line)
{
	const struct origin *o = origin_of(pp, line);

	*ret_file = o != NULL ? pp->files[o->file] : pp->files[0];
	*ret_line = o != NULL ? o->line : 0;
}

/* Where the section whose line is output line line opens. */
static void where_open(const struct pp *pp, int line, const char **ret_file,
		       int *ret_line)
{
	const struct origin *o = origin_of(pp, line);

	*ret_file = o != NULL ? pp->files[o->file] : pp->files[0];
	*ret_line = o == NULL ? 0 : o->open > 0 ? o->open : o->line;
}

__attribute__((format(printf, 2, 0))) static void
route_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	const char *file;
	char msg[512];
	int line;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (current == NULL) {
		/* Not reached: the tree gets its own function back after a
		 * parse. Say it the way libconfuse does without one. */
		fprintf(stderr, "%s:%d: %s\n",
			cfg && cfg->filename ? cfg->filename : "?",
			cfg ? cfg->line : 0, msg);
		return;
	}
	where(current, cfg ? cfg->line : 0, &file, &line);
	diag_add(current->diags, file, line, "%s", msg);
}

/*
 * Puts sec and the sections under it where they are in the files (see
 * cfgfile.h), takes the TAKEN mark off titles and gives back errfunc.
 * Goes through the whole tree even when out of memory.
 */
static int fix_tree(const struct pp *pp, cfg_t *sec, cfg_errfunc_t errfunc)
{
	int r = 0;

	if (sec->line >= 1 && (size_t)sec->line <= pp->n_map) {
		const struct origin *o = &pp->map[sec->line - 1];
		const char *name = pp->files[o->file];

		sec->line = o->open > 0 ? o->open : o->line;
		if (sec->filename == NULL || strcmp(sec->filename, name) != 0) {
			char *dup = strdup(name);

			if (dup == NULL) {
				r = -ENOMEM;
			} else {
				free(sec->filename);
				sec->filename = dup;
			}
		}
	}
	if (sec->title != NULL && sec->title[0] == TAKEN)
		memmove(sec->title, sec->title + 1, strlen(sec->title));
	if (sec->errfunc == route_error)
		sec->errfunc = errfunc;
	for (cfg_opt_t *o = sec->opts; o != NULL && o->name != NULL; o++) {
		if (o->type != CFGT_SEC)
			continue;
		for (unsigned i = 0; i < cfg_opt_size(o); i++) {
			cfg_t *sub = cfg_opt_getnsec(o, i);
			int rc = sub != NULL ? fix_tree(pp, sub, errfunc) : 0;

			if (rc < 0)
				r = rc;
		}
	}
	return r;
}

static bool declares_include(const cfg_t *cfg)
{
	for (const cfg_opt_t *o = cfg->opts; o != NULL && o->name != NULL; o++)
		if (o->type == CFGT_FUNC && strcmp(o->name, "include") == 0)
			return true;
	return false;
}

/* Parses text (len bytes, modified: comments blanked) named name. */
static int parse_owned(cfg_t *cfg, const char *name, char *text, size_t len,
		       struct diag_list *diags)
{
	struct pp pp = {.diags = diags, .includes = declares_include(cfg)};
	cfg_errfunc_t errfunc = cfg->errfunc;
	size_t before = diags->n, top;
	char *dup = strdup(name);
	int r, rc;

	if (dup == NULL)
		return -ENOMEM;
	r = files_add(&pp, dup, &top);
	if (r == 0)
		r = nul_check(text, len, name, diags);
	if (r == 0)
		r = cfgfile_blank(text, name, diags);
	if (r == 0)
		r = map_line(&pp, top, 1, 0);
	if (r == 0)
		r = expand(&pp, top, text, 0);
	if (r == 0 && diags->n > before)
		r = -EINVAL;
	if (r < 0)
		goto out;

	cfg_set_error_function(cfg, route_error);
	pthread_mutex_lock(&parse_lock);
	current = &pp;
	rc = cfg_parse_buf(cfg, pp.out.data != NULL ? pp.out.data : "");
	current = NULL;
	pthread_mutex_unlock(&parse_lock);
	if (rc != CFG_SUCCESS && diags->n == before) {
		const char *file;
		int line;

		/* The lexer gives up on some input without saying why. */
		where(&pp, cfg->line, &file, &line);
		diag_add(diags, file, line, "syntax error");
	}
	/* The root is no section: it takes the top file, not a map entry. */
	r = fix_tree(&pp, cfg, errfunc);
	free(cfg->filename);
	cfg->filename = strdup(name);
	if (cfg->filename == NULL)
		r = -ENOMEM;
	if (r == 0 && (rc != CFG_SUCCESS || diags->n > before))
		r = -EINVAL;
out:
	for (size_t i = 0; i < pp.n_files; i++)
		free(pp.files[i]);
	free(pp.files);
	free(pp.map);
	buf_free(&pp.out);
	return r;
}

int cfgfile_parse(cfg_t *cfg, const char *path, struct diag_list *diags)
{
	char *text = NULL;
	size_t len;
	int r;

	r = read_all(path, &text, &len);
	if (r < 0) {
		if (r != -ENOMEM)
			diag_add(diags, path, 0, "cannot read: %s",
				 strerror(-r));
		return r;
	}
	r = parse_owned(cfg, path, text, len, diags);
	free(text);
	return r;
}

int cfgfile_parse_text(cfg_t *cfg, const char *name, const char *text,
		       struct diag_list *diags)
{
	char *copy = strdup(text);
	int r;

	if (copy == NULL)
		return -ENOMEM;
	r = parse_owned(cfg, name, copy, strlen(copy), diags);
	free(copy);
	return r;
}

int cfgfile_line(const cfg_t *cfg)
{
	const struct origin *o;

	if (cfg == NULL)
		return 0;
	o = current != NULL ? origin_of(current, cfg->line) : NULL;
	return o != NULL ? o->line : cfg->line;
}

const char *cfgfile_section_file(const cfg_t *sec, const char *fallback)
{
	/* cfg_parse_buf() names every section of a buffer "[buf]". */
	if (sec != NULL && sec->filename != NULL &&
	    strcmp(sec->filename, "[buf]") != 0)
		return sec->filename;
	if (fallback != NULL || sec == NULL)
		return fallback;
	return sec->filename;
}

/* ---- sections with the same title ---- */

/*
 * Marks the title of the section of opt that just closed (the last one)
 * as taken, so that libconfuse opens a new section for the next one of
 * that title instead of merging it into this one. fix_tree() takes the
 * mark off after the parse.
 */
static int mark_closed(cfg_t *cfg, cfg_opt_t *opt, cfg_t **ret_sec)
{
	unsigned n = cfg_opt_size(opt);
	cfg_t *sec = n > 0 ? cfg_opt_getnsec(opt, n - 1) : NULL;
	char *title;

	*ret_sec = NULL;
	if (sec == NULL || sec->title == NULL)
		return 0;
	title = malloc(strlen(sec->title) + 2);
	if (title == NULL) {
		cfg_error(cfg, "out of memory");
		return -1;
	}
	title[0] = TAKEN;
	strcpy(title + 1, sec->title);
	free(sec->title);
	sec->title = title;
	*ret_sec = sec;
	return 0;
}

static int titles_separate(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec;

	return mark_closed(cfg, opt, &sec);
}

static int titles_unique(cfg_t *cfg, cfg_opt_t *opt)
{
	/* Titles match as libconfuse matches them. */
	int (*same)(const char *, const char *) =
		cfg->flags & CFGF_NOCASE ? strcasecmp : strcmp;
	unsigned n = cfg_opt_size(opt);
	cfg_t *sec;

	if (mark_closed(cfg, opt, &sec) < 0)
		return -1;
	if (sec == NULL)
		return 0;
	for (unsigned i = 0; i + 1 < n; i++) {
		cfg_t *prev = cfg_opt_getnsec(opt, i);
		const char *file, *first_file;
		int line, first_line;

		if (prev == NULL || prev->title == NULL ||
		    same(prev->title + 1, sec->title + 1) != 0)
			continue;
		if (current == NULL) {
			cfg_error(cfg, "duplicate %s \"%s\"", opt->name,
				  sec->title + 1);
			return -1;
		}
		/* Both sections are still at their closing lines. */
		where_open(current, sec->line, &file, &line);
		where_open(current, prev->line, &first_file, &first_line);
		if (strcmp(file, first_file) == 0)
			diag_add(current->diags, file, line,
				 "duplicate %s \"%s\" (first at line %d)",
				 opt->name, sec->title + 1, first_line);
		else
			diag_add(current->diags, file, line,
				 "duplicate %s \"%s\" (first at %s:%d)",
				 opt->name, sec->title + 1, first_file,
				 first_line);
		break;
	}
	return 0;
}

int cfgfile_set_titles(cfg_t *cfg, const char *name, enum cfgfile_titles how)
{
	cfg_opt_t *opts = cfg->opts, *found = NULL;
	const char *part = name;

	for (;;) {
		size_t n = strcspn(part, "|");

		found = NULL;
		for (cfg_opt_t *o = opts; o != NULL && o->name != NULL; o++) {
			if (strlen(o->name) == n &&
			    strncmp(o->name, part, n) == 0) {
				found = o;
				break;
			}
		}
		if (found == NULL || found->type != CFGT_SEC)
			return -EINVAL;
		if (part[n] == '\0')
			break;
		opts = found->subopts;
		part += n + 1;
	}
	if ((found->flags & (CFGF_MULTI | CFGF_TITLE)) !=
	    (CFGF_MULTI | CFGF_TITLE))
		return -EINVAL;
	found->validcb =
		how == CFGFILE_TITLES_UNIQUE ? titles_unique : titles_separate;
	return 0;
}
