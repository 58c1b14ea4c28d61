#!/usr/bin/env bash
# The shell completions of packaging/completions/: bash's is run for real
# (COMP_WORDS and COMP_CWORD set, _wp called, COMPREPLY read); every option
# of every command's --help must be offered by all three; zsh's and fish's
# files are syntax-checked when those shells are installed.
# usage: completion_test.sh WP SOURCE_DIR
set -u
wp=$(realpath "$1")
completions=$(realpath "$2")/packaging/completions
status=0
fail() { echo "FAIL $*" >&2; status=1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# What bash completes for a command line ending where the cursor is: the
# line is split at blanks and around '=' (as COMP_WORDBREAKS has it), and a
# trailing blank starts an empty word.
complete_line() {
  bash -c '
    source "$1" || exit 1
    read -r -a COMP_WORDS <<< "${2//=/ = }"
    [[ $2 == *" " ]] && COMP_WORDS+=("")
    COMP_WORDS[0]=$3
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE=$2
    _wp
    printf "%s\n" "${COMPREPLY[@]}"
  ' complete_line "$completions/wp.bash" "$1" "$wp"
}

# expect LINE WORD...: each WORD is offered for LINE.
expect() {
  local line=$1 got word
  shift
  got=$(complete_line "$line")
  for word in "$@"; do
    grep -qxF -- "$word" <<< "$got" || fail "'$line' does not offer '$word' (offers: $(echo $got))"
  done
}

# expect_not LINE WORD...: no WORD is offered for LINE.
expect_not() {
  local line=$1 got word
  shift
  got=$(complete_line "$line")
  for word in "$@"; do
    if grep -qxF -- "$word" <<< "$got"; then fail "'$line' offers '$word'"; fi
  done
}

# The options --help lists, one per line.
options_of() {
  "$wp" "$@" --help | grep -oE '(^|[ ,])--?[a-zA-Z][a-z-]*' | sed 's/^[ ,]*//' | sort -u
}

# The subcommands --help lists (CLI11: under "Subcommands:", to a blank line).
subcommands_of() {
  "$wp" "$@" --help | sed -n '/^Subcommands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }'
}

# --- commands and their options, from --help -----------------------------
commands=$(subcommands_of)
[ "$(echo "$commands" | wc -w)" -ge 6 ] || fail "wp --help lists too few commands: $commands"
for command in $commands; do
  expect "wp " "$command"
done
expect "wp pr" profile
expect_not "wp pr" run plan
expect "wp --" --version --help --verbose

paths=$(for c in $commands; do
  if [ "$c" = profile ]; then
    for s in $(subcommands_of profile); do echo "profile $s"; done
  else
    echo "$c"
  fi
done)
[ "$(echo "$paths" | grep -c '^profile ')" -ge 6 ] || fail "wp profile --help lists too few commands"
while read -r path; do
  # shellcheck disable=SC2086
  options=$(options_of $path)
  [ -n "$options" ] || fail "wp $path --help lists no options"
  for option in $options; do
    expect "wp $path $option" "$option"
    grep -qE -- "[^a-z-]$option[]=,}[]" "$completions/_wp" ||
      fail "zsh: _wp lacks $option of wp $path"
    if [[ $option == --* ]]; then
      grep -qE -- "-l ${option#--}( |$)" "$completions/wp.fish" ||
        fail "fish: wp.fish lacks $option of wp $path"
    else
      grep -qE -- "-s ${option#-}( |$)" "$completions/wp.fish" ||
        fail "fish: wp.fish lacks $option of wp $path"
    fi
  done
  # The choices CLI11 shows as {a,b,c} are the values completed.
  # shellcheck disable=SC2086
  "$wp" $path --help | grep -oE -- '--[a-z-]+ [A-Z]+:\{[^}]*\}' | while read -r option choices; do
    values=$(sed 's/.*{//; s/}//; s/,/ /g' <<< "$choices")
    # shellcheck disable=SC2086
    expect "wp $path $option " $values
    expected=$(tr ' ' '\n' <<< "$values" | sort)
    got=$(complete_line "wp $path $option " | sort)
    [ "$got" = "$expected" ] || fail "wp $path $option offers $(echo $got), not $(echo $expected)"
  done
done <<< "$paths"

# --- values and positions --------------------------------------------------
expect "wp run --strategy=b" best-fit
expect "wp plan --strategy " all first-fit
expect_not "wp run --strategy " all
expect "wp run --learn c" conservative
expect "wp profile " list show history export import forget
expect "wp profile history --" --since --limit --csv --db --namespace --json
expect_not "wp profile list --" --csv
expect "wp run --cpus 4 --" --keep-going --memory-guard
expect "wp exec --cpu 2 -" --name --gpu --timeout

# Manifests: *.toml and directories, not other files.
mkdir -p "$scratch/files/sub"
touch "$scratch/files/jobs.toml" "$scratch/files/notes.txt"
(
  cd "$scratch/files" || exit 1
  expect "wp validate " jobs.toml sub
  expect_not "wp validate " notes.txt
  expect "wp run --json j" jobs.toml
  expect "wp run --db n" notes.txt
  expect "wp calibrate --dir s" sub
  expect_not "wp calibrate --dir " notes.txt
  exit $status
) || status=1

# Profile names from `wp profile list --names`, with the --db on the line.
db=$scratch/state.db
cat > "$scratch/jobs.toml" <<'TOML'
namespace = "completion-test"
[[job]]
name = "build"
command = "true"
memory = "8MiB"
[[job]]
name = "bench-{n}"
matrix = { n = [1, 2] }
command = "true"
memory = "8MiB"
TOML
"$wp" run --db "$db" --run-dir "$scratch/run" --cgroup off "$scratch/jobs.toml" > /dev/null 2>&1 ||
  fail "wp run of the profile fixture failed"
[ "$("$wp" profile list --names --db "$db")" = "$(printf 'bench-1\nbench-2\nbuild')" ] ||
  fail "wp profile list --names: $("$wp" profile list --names --db "$db" 2>&1)"
expect "wp profile history --db $db b" build bench-1 bench-2
expect "wp profile show --db $db bu" build
expect_not "wp profile show --db $db bu" bench-1
expect "wp profile forget --namespace completion-test --db $db be" bench-1 bench-2
expect_not "wp profile show --db $db build " build
expect_not "wp profile history --db $scratch/none.db b" build

# --- zsh and fish parse their files (skipped without those shells) --------
if command -v zsh > /dev/null; then
  zsh -n "$completions/_wp" || fail "zsh -n _wp"
else
  echo "zsh is not installed: _wp not syntax-checked"
fi
if command -v fish > /dev/null; then
  fish --no-execute "$completions/wp.fish" || fail "fish --no-execute wp.fish"
else
  echo "fish is not installed: wp.fish not syntax-checked"
fi

[ $status -eq 0 ] && echo "completions: ok"
exit $status
