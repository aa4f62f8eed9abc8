#!/bin/sh
# make bench: every benchmark in bench/, figures on stdout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
status=0
for b in "$here"/*.sh; do
    [ "$(basename "$b")" = run.sh ] && continue
    echo "### $(basename "$b" .sh)"
    sh "$b" || status=1
done
exit $status
