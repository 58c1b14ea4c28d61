#!/bin/sh
# `cmake --install` into a scratch prefix: every file a user or a shell looks
# for is where it is looked for.
# usage: check_install.sh BUILD_DIR
set -u
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$1" --prefix "$prefix" > /dev/null || { echo "FAIL cmake --install" >&2; exit 1; }
status=0
for file in bin/wp share/man/man1/wp.1 share/man/man1/wp-run.1 share/man/man1/wp-plan.1 \
            share/man/man1/wp-validate.1 share/man/man1/wp-info.1 share/man/man1/wp-calibrate.1 \
            share/man/man1/wp-profile.1 share/man/man5/wp-manifest.5 \
            share/wp/schemas/manifest.schema.json share/bash-completion/completions/wp \
            share/zsh/vendor-completions/_wp share/fish/vendor_completions.d/wp.fish; do
  [ -f "$prefix/$file" ] || { echo "FAIL not installed: $file" >&2; status=1; }
done
"$prefix/bin/wp" --version > /dev/null || { echo "FAIL the installed wp does not run" >&2; status=1; }
[ $status -eq 0 ] && echo "installed: ok"
exit $status
