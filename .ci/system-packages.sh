#!/usr/bin/env bash
# Install the system packages this project needs, on Debian or Ubuntu, when we may (root or passwordless sudo);
# otherwise stop at once with one line that names the command to run. Called by `make book`, `make test` and .ci/run.
#
#   .ci/system-packages.sh book   what the website build needs: npm (the site's own MathJax), a CJK font (figures)
#   .ci/system-packages.sh test   the above, plus Chromium (site tests), bubblewrap (the grader's sandbox) and
#                                 PostgreSQL (the shared-gradebook tests)
#
# COURSE_SKIP_SYSTEM_PACKAGES=1 skips this check (you then answer for what is missing).
set -euo pipefail

[ "${COURSE_SKIP_SYSTEM_PACKAGES:-0}" = 1 ] && exit 0
what=${1:-test}

need=()
"${PYTHON:-python3}" -c "import ensurepip, venv" >/dev/null 2>&1 || need+=(python3-venv)
command -v npm >/dev/null 2>&1 || need+=(npm)
if ! { command -v fc-list >/dev/null 2>&1 && fc-list :lang=zh family | grep -q .; }; then
  need+=(fontconfig fonts-noto-cjk)
fi
if [ "$what" = test ]; then
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
  command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "error: missing system packages (Debian names): ${need[*]}. Install them with your system's package manager," \
       "or set COURSE_SKIP_SYSTEM_PACKAGES=1 to go on without them." >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "error: missing system packages; run once:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${need[*]}" >&2
  exit 1
fi
echo "Installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
