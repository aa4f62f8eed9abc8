#!/bin/sh
# The blocked tests and the adjustments across the metrics against R, run
# live: on the example cohort grouped by practitioner (subjects crossed with
# practitioners, two sessions per cell: pump and fire), by
# practitioner,technique (one session per cell, each technique a stratum)
# and on a simulated unbalanced design (empty and replicated cells, a
# subject seen by one practitioner only, a session without a subject).
# From the sessions table of each JSON document, R recomputes
#   anova(lm(y ~ subject + group))          block_f, block_df1/2, block_p
#   friedman.test(cell means)               friedman_chi2, friedman_df, _p
#   oneway.test(var.equal = FALSE), kruskal.test       welch_*, kw_*
# to 1e-9 relative, and p.adjust(holm, BH) of the reported p-values across
# the metrics of a stratum to 1e-12.  Also: grouping by practitioner warns
# that it pools the techniques; grouping by subject says the blocked tests
# do not apply.
. "$(dirname "$0")/../lib.sh"
command -v Rscript >/dev/null 2>&1 || skip "Rscript not found (Debian: r-base-core): R comparison skipped"

A="$BIN/cuplab-analyze"
BUILD=$BUILD sh "$TOP/datasets/generate.sh" "$T/ds" 2>"$T/gen.err" ||
    fail "generate.sh failed: $(cat "$T/gen.err")"
S=$T/ds/cohort/sessions

"$A" --group-by practitioner -f json "$S" >"$T/p.json" 2>"$T/p.err" ||
    fail "practitioner run: $(cat "$T/p.err")"
grep -qx "cuplab-analyze: warning: grouping by practitioner pools techniques fire, pump: add --group-by practitioner,technique or give the sessions of one technique only" "$T/p.err" ||
    fail "no warning about pooled techniques: $(cat "$T/p.err")"
"$A" --group-by practitioner,technique -f json "$S" >"$T/pt.json" 2>"$T/pt.err" ||
    fail "practitioner,technique run"
grep -q "warning" "$T/pt.err" && fail "warned with technique as a field: $(cat "$T/pt.err")"
# The advice works: the sessions of one technique only do not warn.
"$A" --group-by practitioner -f csv --table blocked "$S"/*-pump-*.h5 >/dev/null 2>"$T/one.err" ||
    fail "pump-only run"
grep -q "warning" "$T/one.err" && fail "warned for one technique: $(cat "$T/one.err")"
# Subjects are not crossed with themselves.
"$A" --group-by subject -f csv --table blocked "$S"/P1-*.h5 >"$T/s.csv" 2>"$T/s.err" ||
    fail "subject run"
grep -q "do not apply: every subject is in one group only" "$T/s.csv" ||
    fail "blocked tests said to apply by subject: $(cat "$T/s.csv")"
grep -q "note: every subject is in one group only: the blocked tests" "$T/s.err" ||
    fail "no note that the blocked tests do not apply: $(cat "$T/s.err")"

# An unbalanced crossed design: practitioner x subject cells (sessions).
mkdir -p "$T/u"
n=0
for cell in X:s1 X:s1 X:s2 X:s3 Y:s1 Y:s2 Y:s2 Y:s4 Z:s2 Z:s3 Z:s3 Z:s5 Z:; do
    n=$((n + 1))
    p=${cell%%:*} s=${cell#*:}
    case $p in X) v=280 ;; Y) v=300 ;; Z) v=330 ;; esac
    "$BIN/cuplab-sim" -q -o "$T/u/u$n.h5" --seed $((40 + n)) --sensor-seed 7 --rate 10 \
        --technique pump --sites a:M,b:L --vacuum $v:20 --strokes 2-3 --hold 60:10 \
        --duration 120 --variability 0.08 --practitioner $p --subject "$s" ||
        fail "cuplab-sim u$n"
done
"$A" -q --group-by practitioner --metrics all -f json "$T/u" >"$T/u.json" ||
    fail "unbalanced run"

"$PY" - "$T" <<'PY' || fail "cannot flatten the JSON documents"
import csv, json, sys
T = sys.argv[1]
with open(f"{T}/values.csv", "w", newline="") as fv, open(f"{T}/ours.csv", "w", newline="") as fo:
    v, o = csv.writer(fv), csv.writer(fo)
    v.writerow(["run", "stratum", "group", "subject", "metric", "y"])
    o.writerow(["run", "stratum", "metric", "stat", "value"])
    for run in ("p", "pt", "u"):
        d = json.load(open(f"{T}/{run}.json"))
        g0 = d["group_by"][0]
        st = d["group_by"][1] if len(d["group_by"]) == 2 else None
        rows = d["sessions"]["rows"]
        skip = {"file", "session_uuid", "cups", "subject", g0, st}
        metrics = [k for k in rows[0] if k not in skip]
        assert "subject" in rows[0], "the sessions table has no subject column"
        for r in rows:
            for m in metrics:
                if r[m] is not None:
                    v.writerow([run, r[st] if st else "", r[g0], r["subject"], m, repr(r[m])])
        for table in ("tests", "blocked"):
            for r in d[table]["rows"]:
                for k, x in r.items():
                    if k in ("metric", "note", st) or isinstance(x, str):
                        continue
                    o.writerow([run, r[st] if st else "", r["metric"], k,
                                "NA" if x is None else repr(x)])
PY

cat >"$T/ref.R" <<'R'
args <- commandArgs(TRUE)
v <- read.csv(file.path(args[1], "values.csv"), colClasses = c(subject = "character",
              stratum = "character", group = "character"))
o <- read.csv(file.path(args[1], "ours.csv"), colClasses = c(stratum = "character"))
worst <- c(stat = 0, adj = 0)
bad <- 0
ours <- function(run, st, m, stat) {
    x <- o$value[o$run == run & o$stratum == st & o$metric == m & o$stat == stat]
    if (length(x) != 1) stop(paste("no", stat, "for", run, st, m))
    x
}
check <- function(run, st, m, stat, ref, tol = 1e-9, kind = "stat") {
    x <- ours(run, st, m, stat)
    if (is.na(ref) || is.nan(ref)) {
        if (!is.na(x)) { cat("MISMATCH", run, st, m, stat, x, "R: NA\n"); bad <<- bad + 1 }
        return(invisible())
    }
    e <- if (kind == "adj") abs(x - ref) else abs(x - ref) / max(abs(ref), 1e-300)
    if (is.na(e) || e > tol) { cat("MISMATCH", run, st, m, stat, x, "R:", ref, "\n"); bad <<- bad + 1 }
    else worst[kind] <<- max(worst[kind], e)
}
checked <- 0
for (run in unique(v$run)) for (st in unique(v$stratum[v$run == run])) {
    ms <- unique(v$metric[v$run == run & v$stratum == st])
    for (m in ms) {
        d <- v[v$run == run & v$stratum == st & v$metric == m, ]
        n <- table(d$group)
        d <- d[d$group %in% names(n)[n >= 2], ]          # the groups of the tests
        d$group <- factor(d$group)
        if (nlevels(d$group) < 2) next
        if (var(d$y) > 0 && all(tapply(d$y, d$group, var) > 0)) {
            w <- oneway.test(y ~ group, data = d, var.equal = FALSE)
            check(run, st, m, "welch_f", unname(w$statistic))
            check(run, st, m, "welch_df2", unname(w$parameter[2]))
            check(run, st, m, "welch_p", w$p.value)
        }
        if (var(d$y) > 0) {
            k <- kruskal.test(y ~ group, data = d)
            check(run, st, m, "kw_h", unname(k$statistic))
            check(run, st, m, "kw_p", k$p.value)
        }
        b <- d[d$subject != "", ]
        b$subject <- factor(b$subject)
        crossed <- sum(tapply(b$group, b$subject, function(g) length(unique(g))) >= 2)
        check(run, st, m, "crossed", crossed)
        if (crossed == 0) next
        fit <- if (nlevels(b$subject) > 1) lm(y ~ subject + group, data = b) else lm(y ~ group, data = b)
        a <- suppressWarnings(anova(fit))
        sst <- sum((b$y - mean(b$y))^2)   # all equal: R's residual is rounding, ours none
        if ("group" %in% rownames(a) && a["Residuals", "Df"] > 0 && sst > 0 &&
            a["Residuals", "Sum Sq"] > 1e-12 * sst) {
            check(run, st, m, "block_f", a["group", "F value"])
            check(run, st, m, "block_df1", a["group", "Df"])
            check(run, st, m, "block_df2", a["Residuals", "Df"])
            check(run, st, m, "block_p", a["group", "Pr(>F)"])
            checked <- checked + 1
        } else check(run, st, m, "block_p", NA)
        cell <- tapply(b$y, list(b$subject, b$group), mean)
        cell <- cell[complete.cases(cell), , drop = FALSE]
        check(run, st, m, "complete", nrow(cell))
        if (nrow(cell) >= 2) {
            f <- suppressWarnings(friedman.test(cell))
            check(run, st, m, "friedman_chi2", unname(f$statistic))
            check(run, st, m, "friedman_p", f$p.value)
        }
    }
    # Holm and BH across the metrics of the stratum, of the p-values reported.
    for (test in c("welch_p", "kw_p", "block_p", "friedman_p")) {
        p <- sapply(ms, function(m) ours(run, st, m, test))
        for (how in c("holm", "BH")) {
            adj <- p.adjust(p, how)
            for (i in seq_along(ms))
                check(run, st, ms[i], paste0(test, "_", tolower(how)), adj[i], 1e-12, "adj")
        }
    }
}
if (checked < 20) { cat("only", checked, "blocked ANOVAs compared\n"); bad <- bad + 1 }
cat(sprintf("agreement with R %s: %d blocked ANOVAs; worst relative difference %.2g (statistics), worst absolute %.2g (adjusted p)\n",
            paste(R.version$major, R.version$minor, sep = "."), checked, worst["stat"], worst["adj"]))
quit(status = if (bad) 1 else 0)
R
Rscript "$T/ref.R" "$T" || fail "cuplab-analyze and R differ"

# The example of docs/cohort.md: its command gives its row, and its R lines
# give the same F and chi-square.
DOC=$TOP/docs/cohort.md
row=$(sed -n 's/^    \(pump,peak_vacuum,[^.]*\.[0-9]*,[0-9]*,[0-9]*,\)\.\.\..*/\1/p' "$DOC")
[ -n "$row" ] || fail "no example row in docs/cohort.md"
(cd "$T/ds" && "$A" -q --group-by practitioner,technique --metrics peak_vacuum,hold_mean \
    --table blocked -f csv cohort/sessions) >"$T/ex.csv" || fail "the example command"
grep -q "^$row" "$T/ex.csv" || fail "docs example row '$row' not in: $(cat "$T/ex.csv")"
"$A" -q --group-by practitioner,technique -f csv --table sessions "$S" >"$T/sessions.csv" ||
    fail "sessions table"
sed -n '/^    d <- read.csv("sessions.csv")/,/^    friedman.test(peak_vacuum/s/^    //p' "$DOC" >"$T/ex.R"
[ "$(wc -l <"$T/ex.R")" -eq 3 ] || fail "no R example in docs/cohort.md"
f=$(echo "$row" | cut -d, -f8)
(cd "$T" && Rscript -e "source('ex.R')" -e "a <- anova(lm(peak_vacuum ~ subject + practitioner, data = d))
    fr <- friedman.test(peak_vacuum ~ practitioner | subject, data = d)
    stopifnot(abs(a['practitioner', 'F value'] / $f - 1) < 1e-9, abs(fr\$statistic - 12) < 1e-12)") ||
    fail "the R lines of docs/cohort.md disagree with the example row"
