/* The reporters: text for people, TAP for harnesses, JUnit XML for CI
 * servers (skips as real <skipped> elements, so that a skip never shows as
 * a pass) and JSON for scripts.  They only format what the runner found. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "conform.h"

void conf_totals_add(struct conf_totals *t, const struct conf_result *r)
{
	static const size_t counter[] = {
		[CONF_PASS] = offsetof(struct conf_totals, passed),
		[CONF_FAIL] = offsetof(struct conf_totals, failed),
		[CONF_SKIP] = offsetof(struct conf_totals, skipped),
		[CONF_PARTIAL] = offsetof(struct conf_totals, partial),
	};

	if ((unsigned)r->verdict < sizeof(counter) / sizeof(counter[0]))
		(*(unsigned *)((char *)t + counter[r->verdict]))++;
	t->seconds += r->seconds;
}

void conf_print_totals(FILE *out, const struct conf_totals *t)
{
	fprintf(out, "%u passed, %u failed, %u skipped", t->passed, t->failed, t->skipped);
	/* only when there are some: the three counts stay the line a CI
	 * greps against a target with every extension */
	if (t->partial)
		fprintf(out, ", %u partial", t->partial);
	fputc('\n', out);
}

void conf_split_id(const char *id, char *area, size_t area_len, const char **name)
{
	const char *dot = strrchr(id, '.');
	size_t n = dot ? (size_t)(dot - id) : 0;

	if (area_len) {
		if (n >= area_len)
			n = area_len - 1;
		memcpy(area, id, n);
		area[n] = '\0';
	}
	*name = dot ? dot + 1 : id;
}

/* ---- text ---- */

static const char *const text_tags[] = { [CONF_PASS] = "PASS", [CONF_FAIL] = "FAIL",
					 [CONF_SKIP] = "SKIP", [CONF_PARTIAL] = "PART" };

void conf_report_text(FILE *out, const struct conf_result *r)
{
	const char *tag = (unsigned)r->verdict <= CONF_PARTIAL ? text_tags[r->verdict] : "????";

	if (r->verdict == CONF_SKIP) {
		fprintf(out, "%s  %s (%s)\n", tag, r->c->id, r->why);
		return;
	}
	fprintf(out, "%s  %s\n", tag, r->c->id);
	if (r->verdict == CONF_FAIL) {
		fprintf(out, "      %s\n", r->c->desc);
		fprintf(out, "      reference: %s\n", r->c->ref);
		fprintf(out, "      %s\n", r->why);
	} else if (r->verdict == CONF_PARTIAL) {
		fprintf(out, "      partial: %s\n", r->why);
	} else if (r->why[0]) {
		fprintf(out, "      note: %s\n", r->why);
	}
}

/* ---- TAP (version 13) ---- */

void conf_report_tap_plan(FILE *out, size_t n)
{
	fprintf(out, "TAP version 13\n1..%zu\n", n);
}

/* A reason on a TAP line must not end it early or start a directive. */
static void tap_text(FILE *out, const char *s)
{
	for (; *s; s++)
		fputc(*s == '\n' || *s == '#' ? ' ' : *s, out);
}

void conf_report_tap(FILE *out, size_t number, const struct conf_result *r)
{
	if (r->verdict == CONF_SKIP || r->verdict == CONF_PARTIAL) {
		fprintf(out, "ok %zu - %s # SKIP %s", number, r->c->id,
			r->verdict == CONF_PARTIAL ? "partial: " : "");
		tap_text(out, r->why);
		fputc('\n', out);
		return;
	}
	fprintf(out, "%s %zu - %s\n", r->verdict == CONF_PASS ? "ok" : "not ok", number, r->c->id);
	if (r->verdict == CONF_FAIL) {
		fprintf(out, "  ---\n  message: \"");
		for (const char *s = r->why; *s; s++)
			fprintf(out, *s == '"' || *s == '\\' ? "\\%c" : "%c", *s == '\n' ? ' ' : *s);
		fprintf(out, "\"\n  reference: \"%s\"\n  ...\n", r->c->ref);
	}
}

/* ---- JUnit XML ---- */

static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		switch (ch) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		default:
			/* XML 1.0 allows no control characters but tab, LF, CR */
			if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
				fputc(' ', out);
			else
				fputc(ch, out);
		}
	}
}

static void junit_case(FILE *out, const struct conf_result *r)
{
	char area[128];
	const char *name;

	conf_split_id(r->c->id, area, sizeof(area), &name);
	fputs("    <testcase classname=\"", out);
	xml_text(out, area);
	fputs("\" name=\"", out);
	xml_text(out, name);
	fprintf(out, "\" time=\"%.3f\"", r->seconds);
	if (r->verdict == CONF_PASS) {
		fputs("/>\n", out);
		return;
	}
	fputs(">\n", out);
	if (r->verdict == CONF_SKIP || r->verdict == CONF_PARTIAL) {
		fputs("      <skipped message=\"", out);
		if (r->verdict == CONF_PARTIAL)
			fputs("partial: ", out);
		xml_text(out, r->why);
		fputs("\"/>\n", out);
	} else {
		fputs("      <failure type=\"nonconformance\" message=\"", out);
		xml_text(out, r->why);
		fputs("\">", out);
		xml_text(out, r->c->desc);
		fputs("\nreference: ", out);
		xml_text(out, r->c->ref);
		fputs("\n", out);
		xml_text(out, r->why);
		fputs("</failure>\n", out);
	}
	fputs("    </testcase>\n", out);
}

int conf_report_junit(FILE *out, const char *target, const struct conf_result *r, size_t n,
		      const struct conf_totals *t)
{
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out, "<testsuites name=\"mirror-conform\" tests=\"%zu\" failures=\"%u\" errors=\"0\" skipped=\"%u\" time=\"%.3f\">\n",
		n, t->failed, t->skipped + t->partial, t->seconds);
	/* One <testsuite> per area: results come in case order, which
	 * groups each area's cases together. */
	for (size_t i = 0; i < n;) {
		char area[128], other[128];
		const char *name;
		struct conf_totals at = { 0 };
		size_t j = i;

		conf_split_id(r[i].c->id, area, sizeof(area), &name);
		for (; j < n; j++) {
			conf_split_id(r[j].c->id, other, sizeof(other), &name);
			if (strcmp(area, other) != 0)
				break;
			conf_totals_add(&at, &r[j]);
		}
		fputs("  <testsuite name=\"", out);
		xml_text(out, area);
		fprintf(out, "\" tests=\"%zu\" failures=\"%u\" errors=\"0\" skipped=\"%u\" time=\"%.3f\">\n",
			j - i, at.failed, at.skipped + at.partial, at.seconds);
		if (i == 0 && target) {
			fputs("    <properties>\n      <property name=\"target\" value=\"", out);
			xml_text(out, target);
			/* the partial count, which the skipped attributes include */
			fprintf(out, "\"/>\n      <property name=\"partial\" value=\"%u\"/>\n    </properties>\n",
				t->partial);
		}
		for (; i < j; i++)
			junit_case(out, &r[i]);
		fputs("  </testsuite>\n", out);
	}
	fputs("</testsuites>\n", out);
	return ferror(out) ? -EIO : 0;
}

/* ---- JSON ---- */

int conf_report_json(FILE *out, const char *target, const struct conf_result *r, size_t n,
		     const struct conf_totals *t, const char *note)
{
	struct json_object *o = json_object_new_object(), *cases = json_object_new_array();

	if (!o || !cases) {
		json_object_put(o);
		json_object_put(cases);
		return -ENOMEM;
	}
	json_object_object_add(o, "target", target ? json_object_new_string(target) : NULL);
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_new_object();
		json_object_object_add(c, "id", json_object_new_string(r[i].c->id));
		json_object_object_add(c, "description", json_object_new_string(r[i].c->desc));
		json_object_object_add(c, "reference", json_object_new_string(r[i].c->ref));
		json_object_object_add(c, "result", json_object_new_string(conf_verdict_name(r[i].verdict)));
		json_object_object_add(c, "message", json_object_new_string(r[i].why));
		json_object_object_add(c, "seconds", json_object_new_double(r[i].seconds));
		json_object_array_add(cases, c);
	}
	json_object_object_add(o, "cases", cases);
	json_object_object_add(o, "passed", json_object_new_int((int)t->passed));
	json_object_object_add(o, "failed", json_object_new_int((int)t->failed));
	json_object_object_add(o, "skipped", json_object_new_int((int)t->skipped));
	json_object_object_add(o, "partial", json_object_new_int((int)t->partial));
	json_object_object_add(o, "seconds", json_object_new_double(t->seconds));
	json_object_object_add(o, "note", note ? json_object_new_string(note) : NULL);
	/* json-c writes '/' as "\/" unless told not to: URLs and ids plainly */
	fprintf(out, "%s\n",
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return ferror(out) ? -EIO : 0;
}

/* ---- one run ---- */

FILE *conf_reporter_log(const struct conf_reporter *rep)
{
	return rep->tap || rep->json ? stderr : rep->out;
}

void conf_reporter_start(struct conf_reporter *rep, size_t n)
{
	if (rep->tap)
		conf_report_tap_plan(rep->out, n);
}

void conf_reporter_case(struct conf_reporter *rep, const struct conf_result *r)
{
	conf_totals_add(&rep->tot, r);
	if (rep->tap)
		conf_report_tap(rep->out, rep->done + 1, r);
	else if (!rep->json)
		conf_report_text(rep->out, r);
	fflush(rep->out);
	rep->done++;
}

int conf_reporter_finish(struct conf_reporter *rep, const struct conf_result *res,
			 const char *note, const char *note_why)
{
	/* TAP keeps its totals on out (a harness reads past the plan);
	 * JSON's out is the one object */
	FILE *log = rep->json ? stderr : rep->out;
	int rc = 0;

	if (rep->junit) {
		FILE *f = fopen(rep->junit, "w");
		bool ok = f && conf_report_junit(f, rep->target, res, rep->done, &rep->tot) == 0;
		if ((f && fclose(f) != 0) || !ok) {
			rc = -(errno ? errno : EIO);
			fprintf(stderr, "%s: cannot write %s: %s\n", rep->prog, rep->junit,
				strerror(-rc));
		}
	}
	if (rep->json)
		conf_report_json(rep->out, rep->target, res, rep->done, &rep->tot, note);
	if (note)
		fprintf(log, "%s (%s)\n", note, note_why);
	/* last, whatever happened above: the line CI greps for */
	conf_print_totals(log, &rep->tot);
	return rc;
}
