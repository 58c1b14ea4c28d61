#!/bin/sh
# The man pages: each command's page is there, mandoc finds nothing to warn
# about in any page, and wp(1) points at every other page.
# usage: check_man.sh SOURCE_DIR
set -u
man="$1/man"
status=0
fail() { echo "FAIL $*" >&2; status=1; }

for page in wp.1 wp-run.1 wp-plan.1 wp-validate.1 wp-info.1 wp-calibrate.1 wp-profile.1 \
            wp-manifest.5; do
  [ -f "$man/$page" ] || fail "man/$page is missing"
done

pages=$(ls "$man"/*.[1-9])
for page in $pages; do
  # -Wwarning: warnings and errors are reported, and make the status non-zero.
  if ! report=$(mandoc -Tlint -Wwarning "$page" 2>&1) || [ -n "$report" ]; then
    fail "mandoc -Tlint: $report"
  fi
done

for page in $pages; do
  name=$(basename "$page")
  [ "$name" = wp.1 ] && continue
  title=${name%.*}
  section=${name##*.}
  # SEE ALSO of wp(1) writes each as .BR wp\-run (1),
  escaped=$(printf '%s' "$title" | sed 's/-/\\\\-/g')
  sed -n '/^\.SH SEE ALSO/,$p' "$man/wp.1" | grep -q "^\.BR $escaped ($section)" ||
    fail "wp(1) SEE ALSO does not list $title($section)"
done

[ $status -eq 0 ] && echo "$(echo "$pages" | wc -l) man pages checked"
exit $status
