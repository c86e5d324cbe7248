/*
 * Reading libconfuse files with "FILE:LINE: message" errors that point at
 * the right place. libconfuse 3.3 (Debian 12) gets four things wrong for
 * us, and every module that reads a libconfuse file goes through here
 * instead of calling cfg_parse() itself:
 *
 * 1. Its lexer miscounts lines after comments: every '#' or '//' comment
 *    adds two lines to each later line number, every C comment one.
 *    Comments are blanked out (replaced by spaces, line breaks kept)
 *    before libconfuse sees the text.
 * 2. A section's cfg_t->line is the line of its closing brace: the lexer
 *    counts lines in the section's own cfg_t while it parses the body.
 *    After the parse, every section's line is rewritten to the line of
 *    its opening brace (and its filename to the file it came from).
 * 3. Sections of a CFGF_MULTI | CFGF_TITLE option that share a title are
 *    merged, the later one silently replacing the earlier. See
 *    cfgfile_set_titles().
 * 4. include("FILE") opens FILE relative to the working directory, and
 *    the included file's lines are miscounted as in 1. Includes are
 *    expanded here, relative to the including file.
 *
 * The text handed to libconfuse is therefore not the file: it has
 * comments blanked, includes spliced in, and each '}' on a line of its
 * own. A line map from that text back to (file, line) translates every
 * line libconfuse reports.
 */
#ifndef POCALERT_CFGFILE_H
#define POCALERT_CFGFILE_H

#include <confuse.h>

#include "common/diag.h"

/* How deep include() may nest: a file including itself stops here. */
#define CFGFILE_INCLUDE_DEPTH 8

/*
 * Reads the file at path and blanks its comments as cfgfile_blank()
 * does. On success *ret_text is a NUL-terminated string owned by the
 * caller (free()). Every problem goes to diags: an unreadable file
 * ("FILE: cannot read: ...", returns -errno), a NUL byte or what
 * cfgfile_blank() reports (returns -EINVAL). -ENOMEM when out of memory.
 */
int cfgfile_read(const char *path, char **ret_text, struct diag_list *diags);

/*
 * Blanks the comments of text in place, the way libconfuse's lexer reads
 * them: '#' to the end of the line anywhere outside a quoted string, '//'
 * to the end of the line and C comments where a word may start ("a//b" is
 * one word to libconfuse). Every byte of a comment becomes a space except
 * line breaks; quoted strings ("..." and '...', with backslash escapes)
 * are left alone. Reports to diags as "NAME:LINE: ...": a quoted string
 * or C comment that never ends (the scan stops there), a '+' inside an
 * unquoted word (libconfuse would drop it silently), a '}' without a
 * '{', and the innermost '{' never closed. Returns 0, -EINVAL after
 * reporting, or -ENOMEM.
 */
int cfgfile_blank(char *text, const char *name, struct diag_list *diags);

/*
 * Parses the file at path into cfg (from cfg_init()), reporting every
 * error to diags as "FILE:LINE: message" with the file and line where it
 * is; a file that cannot be read is "PATH: cannot read: ...".
 *
 * include("FILE") is expanded when cfg's top-level options declare
 * "include" as a function (CFG_FUNC("include", ...); its callback is
 * never called): FILE is relative to the directory of the file that
 * includes it, nesting is limited to CFGFILE_INCLUDE_DEPTH, and a file
 * that cannot be read is an error at the include line. Without that
 * declaration the text goes to libconfuse as it is.
 *
 * After the parse (also a failed one) every section of the tree has
 * line = the line of its opening brace and filename = the file it is in
 * (freed by cfg_free()), and cfg's own error function is back in place.
 * A cfg_t is parsed once: a second parse would map the sections of the
 * first through the second file's lines.
 *
 * Returns 0; -EINVAL when the file has errors (all in diags, including
 * those added by parse callbacks during the call); -errno when the file
 * cannot be read; -ENOMEM.
 *
 * libconfuse's lexer is global state, so parses are serialised by a
 * mutex here; a parse callback must not start another cfgfile parse, and
 * a thread calling cfg_parse*() directly at the same time is not
 * protected.
 */
int cfgfile_parse(cfg_t *cfg, const char *path, struct diag_list *diags);

/*
 * As cfgfile_parse(), from text in memory (not modified) named name in
 * diagnostics; includes are relative to the directory of name.
 */
int cfgfile_parse_text(cfg_t *cfg, const char *name, const char *text,
		       struct diag_list *diags);

/*
 * For option parse callbacks (cfg_callback_t) during a cfgfile parse: the
 * line in its own file of the value being parsed in section cfg. Outside
 * a cfgfile parse, cfg->line.
 */
int cfgfile_line(const cfg_t *cfg);

/*
 * The file a section came from, for messages about it: sec->filename
 * unless libconfuse made it up ("[buf]" after cfg_parse_buf()) or it is
 * unset, else fallback.
 */
const char *cfgfile_section_file(const cfg_t *sec, const char *fallback);

enum cfgfile_titles {
	CFGFILE_TITLES_SEPARATE, /* each section stays its own, in file order */
	CFGFILE_TITLES_UNIQUE,	 /* as SEPARATE, and a repeat is an error */
};

/*
 * Stops libconfuse merging the sections of option name (a CFGF_MULTI |
 * CFGF_TITLE section of cfg; "a|b" names section b inside section a) that
 * share a title: with CFGFILE_TITLES_SEPARATE they are all kept, in file
 * order (cfg_gettsec() finds the first); with CFGFILE_TITLES_UNIQUE a
 * repeat is also reported by a cfgfile parse as "FILE:LINE: duplicate
 * NAME "TITLE" (first at line N)" and the parse goes on, returning
 * -EINVAL in the end. Unlike CFGF_NO_TITLE_DUPES, which stops at the
 * first repeat. Sets the option's validate callback, replacing any, and
 * works with cfgfile parses only (which take off the mark the callback
 * puts on titles while parsing). Call between cfg_init() and the parse.
 * Returns 0, or -EINVAL when name is not such a section.
 */
int cfgfile_set_titles(cfg_t *cfg, const char *name, enum cfgfile_titles how);

#endif
