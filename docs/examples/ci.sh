#!/usr/bin/env bash
# Generic CI step for mme-audit: run a suite, gate it, write JUnit and a Markdown
# summary, keep the embedding cache between CI runs, and exit with audit's code:
#   0 all gates passed, 1 a gate failed, 2 usage/policy error, 3 the run itself failed.
#
# Set up before calling it: Python 3.11+, the CPU build of torch, then mme-audit
# (`pip install -e .` in this repository). Configure with environment variables:
#   SUITE      suite(s) to run, comma-separated             (default: bias)
#   POLICY     gate policy                                   (default: ci/policy.toml)
#   BASELINE   baseline run or report.json; empty: none      (default: baselines/bias.json
#              when that file exists)
#   CONFIG     run configuration TOML; empty: none           (default: empty)
#   CACHE_DIR  folder your CI persists between runs          (default: .cache/mme-audit)
#   OUT        runs folder                                   (default: runs)
#   REPORTS    where the JUnit and summary files go          (default: ci-reports)
set -uo pipefail

SUITE=${SUITE:-bias}
POLICY=${POLICY:-ci/policy.toml}
if [[ -z ${BASELINE+x} && -f baselines/bias.json ]]; then
  BASELINE=baselines/bias.json
fi
BASELINE=${BASELINE:-}
CONFIG=${CONFIG:-}
CACHE_DIR=${CACHE_DIR:-.cache/mme-audit}
OUT=${OUT:-runs}
REPORTS=${REPORTS:-ci-reports}

mkdir -p "$CACHE_DIR" "$REPORTS"

# The cache lives in CACHE_DIR, a folder inside the workspace that the CI system saves
# and restores (GitLab `cache: paths`, a Jenkins/Buildkite cache plugin, a mounted
# volume on local disk). Entries are keyed by model fingerprint and content sha256, so
# an old cache is always safe: a changed model or input only misses.
args=(run --suite "$SUITE" --out "$OUT" --cache "$CACHE_DIR/embeddings.sqlite"
      --policy "$POLICY" --junit "$REPORTS/audit-junit.xml"
      --summary "$REPORTS/audit-summary.md" --no-progress)
[[ -n $BASELINE ]] && args+=(--baseline "$BASELINE")
[[ -n $CONFIG ]] && args+=(--config "$CONFIG")

echo "+ audit ${args[*]}"
audit "${args[@]}"
code=$?

case $code in
  0) echo "mme-audit: all gates passed" ;;
  1) echo "mme-audit: a gate failed; see $REPORTS/audit-summary.md" >&2 ;;
  2) echo "mme-audit: usage or policy error (fix the command or $POLICY)" >&2 ;;
  3) echo "mme-audit: the run itself failed; see the errors in $OUT/<run-id>/report.json" >&2 ;;
  *) echo "mme-audit: unexpected exit code $code" >&2 ;;
esac
exit "$code"
