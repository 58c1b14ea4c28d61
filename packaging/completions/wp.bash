# bash completion for wp(1), the resource-aware batch runner.
#
# Installed as share/bash-completion/completions/wp, where bash-completion
# loads it the first time `wp` is completed. To try it from a checkout:
#   source packaging/completions/wp.bash
# It needs only bash itself, not the bash-completion package.
#
# Profile names (`wp profile show|history|forget NAME`) come from
# `wp profile list --names`, with the --db and --namespace already typed.

_wp_commands="run plan validate exec info calibrate profile"
_wp_profile_commands="list show history export import forget"

# The options of a command ("" for wp itself, "profile history" for a
# profile subcommand), as its --help lists them.
_wp_options_of() {
  local capacity="--cpus --memory --iops"
  local policy="--strategy --aging --cpu-overcommit"
  local profile="--db --namespace --json -h --help"
  case $1 in
    "") echo "-h --help --version -v --verbose" ;;
    run)
      echo "$capacity --db -k --keep-going --json -q --quiet --progress --run-dir --junit --ci-format" \
        "--grace --retry-backoff --enforce --memory-headroom --cgroup --memory-guard --learn --keep" \
        "--regression-threshold --memory-reserve --ledger $policy -h --help"
      ;;
    plan)
      echo "$capacity --db --learn $policy --default-duration -k --keep-going --retry-backoff" \
        "--json --gantt --width -h --help"
      ;;
    validate) echo "$capacity --db --json -h --help" ;;
    exec)
      echo "--name --cpu --memory --iops --gpu --timeout --priority --cpus --cpu-overcommit --db" \
        "--learn --ledger -h --help"
      ;;
    info) echo "$capacity --db --json -h --help" ;;
    calibrate) echo "--dir --seconds --db --json -h --help" ;;
    profile) echo "-h --help" ;;
    "profile list") echo "$profile --names" ;;
    "profile show" | "profile export") echo "$profile" ;;
    "profile history") echo "$profile --since --limit --csv" ;;
    "profile import") echo "$profile --keep" ;;
    "profile forget") echo "$profile --all" ;;
  esac
}

# Whether an option takes a value (the next word is that value).
_wp_takes_value() {
  case $1 in
    --cpus | --memory | --iops | --db | --run-dir | --junit | --grace | --retry-backoff | \
      --enforce | --memory-headroom | --cgroup | --memory-guard | --learn | --keep | \
      --regression-threshold | --memory-reserve | --strategy | --aging | --cpu-overcommit | \
      --ci-format | --progress | --default-duration | --width | --dir | --seconds | --namespace | --since | --limit | \
      --name | --cpu | --gpu | --timeout | --priority | --ledger)
      return 0
      ;;
  esac
  return 1
}

# The choices of an option with a fixed set of values.
_wp_choices_of() {
  case $2 in
    --strategy)
      echo "first-fit best-fit worst-fit alignment"
      [[ $1 == plan ]] && echo all
      ;;
    --learn) echo "auto conservative off" ;;
    --enforce) echo "none memory all" ;;
    --cgroup) echo "auto hybrid v1 v2 off" ;;
    --memory-guard) echo "suspend requeue hold off" ;;
    --ci-format) echo "auto github gitlab plain" ;;
    --progress) echo "auto always never" ;;
    --ledger) echo "on off" ;;
  esac
}

# Adds the words of $1 that start with $2 to COMPREPLY.
_wp_add_words() {
  local word
  for word in $1; do
    [[ $word == "$2"* ]] && COMPREPLY+=("$word")
  done
}

_wp_add_files() {  # $1: the word so far; $2: a compgen -X filter, or ""
  local line
  compopt -o filenames 2>/dev/null
  if [[ -n $2 ]]; then
    while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -f -X "$2" -- "$1")
    while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -d -- "$1")
  else
    while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -f -- "$1")
  fi
}

_wp_add_directories() {
  local line
  compopt -o filenames 2>/dev/null
  while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -d -- "$1")
}

# $1: the wp program as typed; $2: the word so far; the rest: --db and
# --namespace with their values, as typed on the line.
_wp_add_profile_names() {
  local wp=$1 cur=$2 name
  shift 2
  while IFS= read -r name; do
    [[ $name == "$cur"* ]] && COMPREPLY+=("$(printf '%q' "$name")")
  done < <("$wp" profile list --names "$@" 2>/dev/null)
}

_wp() {
  COMPREPLY=()
  local cur=${COMP_WORDS[COMP_CWORD]} prev=
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
  # --strategy=best-fit: bash splits at '=' (COMP_WORDBREAKS).
  if [[ $cur == = ]]; then
    cur=
  elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
    prev=${COMP_WORDS[COMP_CWORD - 2]}
  fi

  # What is already on the line: the command, the profile subcommand, how
  # many positional arguments, --db and --namespace for profile names, and
  # whether `--` (wp exec's command) has been passed.
  local command= path= positionals=0 dashdash=0 i word
  local -a history_flags=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    if ((dashdash)); then
      ((positionals++))
      continue
    fi
    if [[ $word == -- && $command == exec ]]; then
      dashdash=1
      positionals=0
    elif [[ $word == -* ]]; then
      if [[ $word == --db || $word == --namespace ]] && ((i + 1 < COMP_CWORD)); then
        local value=${COMP_WORDS[i + 1]}
        [[ $value == = ]] && value=${COMP_WORDS[i + 2]}
        history_flags+=("$word" "$value")
      fi
      if _wp_takes_value "$word"; then
        ((i++))
        [[ ${COMP_WORDS[i]} == = ]] && ((i++))
      fi
    elif [[ -z $command ]]; then
      command=$word
      path=$word
    elif [[ $command == profile && $path == profile ]]; then
      path="profile $word"
    else
      ((positionals++))
    fi
  done

  if ((dashdash)); then
    if ((positionals == 0)); then
      local line
      while IFS= read -r line; do COMPREPLY+=("$line"); done < <(compgen -c -- "$cur")
    else
      _wp_add_files "$cur" ""
    fi
    return 0
  fi

  if _wp_takes_value "$prev"; then
    case $prev in
      --db | --junit) _wp_add_files "$cur" "" ;;
      --run-dir | --dir) _wp_add_directories "$cur" ;;
      *) _wp_add_words "$(_wp_choices_of "$path" "$prev")" "$cur" ;;
    esac
    return 0
  fi

  if [[ $cur == -* ]]; then
    _wp_add_words "$(_wp_options_of "$path")" "$cur"
    return 0
  fi

  case $path in
    "") _wp_add_words "$_wp_commands" "$cur" ;;
    run | plan | validate) ((positionals == 0)) && _wp_add_files "$cur" '!*.toml' ;;
    profile) _wp_add_words "$_wp_profile_commands" "$cur" ;;
    "profile show" | "profile history" | "profile forget")
      ((positionals == 0)) && _wp_add_profile_names "${COMP_WORDS[0]}" "$cur" "${history_flags[@]}"
      ;;
    "profile export" | "profile import") ((positionals == 0)) && _wp_add_files "$cur" "" ;;
  esac
  return 0
}

complete -F _wp wp
