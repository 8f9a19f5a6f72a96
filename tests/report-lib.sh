# Checks of an HTML report (--report FILE.html), for tests/report-*.test;
# sourced after lib.sh.  A report is read as text (tables, one <svg> per
# plot, axis labels, nothing fetched, no script) and in headless Chromium
# (it loads without errors and its screenshot is not blank).

# report_static NAME FILE PLOTS: the page is whole, with PLOTS inline SVGs
# and as many figures, no script and no reference to the network.
report_static() {
	local name=$1 f=$2 plots=$3 svgs figs
	check_eq "$name: a whole page" "$(head -c 15 "$f")|$(tail -n 1 "$f")" "<!DOCTYPE html>|</html>"
	svgs=$(grep -o '<svg' "$f" | wc -l)
	figs=$(grep -o '<figure>' "$f" | wc -l)
	check_eq "$name: $plots plots as inline SVG" "$svgs/$figs" "$plots/$plots"
	check_eq "$name: no plot failed" "$(grep -c 'not drawn' "$f")" 0
	check_eq "$name: no script, nothing fetched" \
		"$(grep -ciE '<script|src=.https?:|href=.https?:|@import' "$f")" 0
}

# report_has NAME FILE TEXT...: each TEXT (a table cell, an axis label) is
# in the page.
report_has() {
	local name=$1 f=$2 t missing=()
	shift 2
	for t in "$@"; do
		grep -qF -- "$t" "$f" || missing+=("$t")
	done
	check_eq "$name" "${missing[*]:-}" "" "missing from $f"
}

# report_browser NAME FILE PNG [MIN_COLOURS]: Chromium headless loads the
# page and writes its screenshot (stopped by its pid past 120 s); no console
# error nor failed load in its log; the DOM it built has the page's SVGs;
# the screenshot has more than MIN_COLOURS (default 20) colours.
report_browser() {
	local name=$1 f=$2 png=$3 min=${4:-20} pid rc i log=$tmp/chromium.$RANDOM
	if ! command -v chromium >/dev/null 2>&1; then
		tap_skip "$name: opened in Chromium" "chromium not installed (scripts/deps.sh)"
		return
	fi
	rm -f "$png"
	_report_chromium "$log.dom" --dump-dom "file://$(realpath "$f")"
	check_eq "$name: Chromium's DOM has the SVGs" "$(grep -o '<svg' "$log.dom.out" | wc -l)" \
		"$(grep -o '<svg' "$f" | wc -l)" "$(tail -n 5 "$log.dom.err")"
	_report_chromium "$log.shot" --screenshot="$png" --window-size=1200,2000 "file://$(realpath "$f")"
	check_eq "$name: loads without errors" \
		"$(grep -E 'CONSOLE|net::ERR|Failed to load|Uncaught' "$log.shot.err" "$log.dom.err" | head -n 3)" ""
	if [ ! -s "$png" ]; then
		tap_not_ok "$name: screenshot written" "$(tail -n 5 "$log.shot.err")"
		return
	fi
	if command -v python3 >/dev/null 2>&1; then
		i=$(python3 "$srcdir/tests/png_colours.py" "$png" 2>&1)
		if [ "$i" -gt "$min" ] 2>/dev/null; then
			tap_ok "$name: screenshot not blank ($i colours)"
		else
			tap_not_ok "$name: screenshot not blank" "colours: $i, want more than $min"
		fi
	else
		tap_skip "$name: screenshot not blank" "python3 not found"
	fi
}

# _report_chromium LOG ARGS...: one headless Chromium run, its own profile,
# stdout in LOG.out, stderr in LOG.err; killed by its pid after 120 s.
_report_chromium() {
	local log=$1 pid i
	shift
	chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
		--user-data-dir="$tmp/chromium-profile" --enable-logging=stderr --v=0 \
		"$@" >"$log.out" 2>"$log.err" </dev/null &
	pid=$!
	cleanup_add "$pid"
	for ((i = 0; i < 1200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	cleanup_forget "$pid"
}
