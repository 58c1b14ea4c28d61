# fish completion for wp(1), the resource-aware batch runner.
#
# Installed as share/fish/vendor_completions.d/wp.fish. Profile names
# (`wp profile show|history|forget NAME`) come from `wp profile list
# --names`, with the --db and --namespace already typed.

set -l commands run plan validate exec info calibrate profile
set -l profile_commands list show history export import forget

# The --db and --namespace options on the line so far, for listing profiles.
function __wp_profile_names
    set -l tokens (commandline -opc)
    set -l flags
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --db --namespace
                if test $i -lt (count $tokens)
                    set -a flags $tokens[$i] $tokens[(math $i + 1)]
                end
            case '--db=*' '--namespace=*'
                set -a flags $tokens[$i]
        end
    end
    command $tokens[1] profile list --names $flags 2>/dev/null
end

# True when the profile subcommand is one of $argv and its NAME is not given yet.
function __wp_profile_wants_name
    set -l tokens (commandline -opc)
    set -l words
    set -l skip 0
    for token in $tokens[2..-1]
        if test $skip -eq 1
            set skip 0
            continue
        end
        switch $token
            case --db --namespace --since --limit
                set skip 1
            case '-*'
            case '*'
                set -a words $token
        end
    end
    test (count $words) -eq 2; and test $words[1] = profile; and contains -- $words[2] $argv
end

complete -c wp -f

# wp itself
complete -c wp -n "not __fish_seen_subcommand_from $commands" -l version -d 'Print the version and exit'
complete -c wp -n "not __fish_seen_subcommand_from $commands" -s h -l help -d 'Print the usage and exit'
complete -c wp -n "not __fish_seen_subcommand_from $commands" -s v -l verbose -d 'Show debug messages'
complete -c wp -n "not __fish_seen_subcommand_from $commands" -a run -d 'Run the jobs of a manifest'
complete -c wp -n "not __fish_seen_subcommand_from $commands" -a plan -d 'Show the schedule a run would follow'
complete -c wp -n "not __fish_seen_subcommand_from $commands" -a validate -d 'Check a manifest without running it'
complete -c wp -n "not __fish_seen_subcommand_from $commands" -a exec -d 'Run one command under the ledger shared by your wp processes'
complete -c wp -n "not __fish_seen_subcommand_from $commands" -a info -d 'Show the capacity wp sees'
complete -c wp -n "not __fish_seen_subcommand_from $commands" -a calibrate -d 'Measure and store the IOPS of a filesystem'
complete -c wp -n "not __fish_seen_subcommand_from $commands" -a profile -d 'What wp learned about jobs'

# Options several commands share
set -l capacity_commands run plan validate info
complete -c wp -n "__fish_seen_subcommand_from $capacity_commands exec" -x -l cpus -d 'Cap the CPU cores wp may use'
complete -c wp -n "__fish_seen_subcommand_from $capacity_commands exec" -x -l memory -d 'Memory (a cap, or what exec needs)'
complete -c wp -n "__fish_seen_subcommand_from $capacity_commands exec" -x -l iops -d 'I/O operations per second'
complete -c wp -n "__fish_seen_subcommand_from run plan validate info calibrate profile exec" -r -F -l db -d 'The state database'
complete -c wp -n "__fish_seen_subcommand_from run plan validate info calibrate profile" -l json -d 'Print JSON on stdout'
complete -c wp -n "__fish_seen_subcommand_from $commands" -s h -l help -d 'Print the options and exit'
complete -c wp -n "__fish_seen_subcommand_from run plan exec" -x -l learn -a 'auto conservative off' -d 'Admit by predictions from job history'
complete -c wp -n "__fish_seen_subcommand_from run plan" -x -l aging -d 'Waiting worth one step of priority'
complete -c wp -n "__fish_seen_subcommand_from run plan exec" -x -l cpu-overcommit -d 'How far declared CPU may exceed the cores'
complete -c wp -n "__fish_seen_subcommand_from run" -x -l strategy -a 'first-fit best-fit worst-fit alignment' -d 'Which ready job to start'
complete -c wp -n "__fish_seen_subcommand_from plan" -x -l strategy -a 'first-fit best-fit worst-fit alignment all' -d 'Which ready job to start; all compares them'

# The manifest of run, plan and validate
complete -c wp -n "__fish_seen_subcommand_from run plan validate; and not __fish_seen_subcommand_from exec" -k -a "(__fish_complete_suffix .toml)"

# wp run
complete -c wp -n "__fish_seen_subcommand_from run" -s k -l keep-going -d 'Keep starting independent jobs after a failure'
complete -c wp -n "__fish_seen_subcommand_from run" -s q -l quiet -d 'Show only failures'
complete -c wp -n "__fish_seen_subcommand_from run" -x -l progress -a 'auto always never' -d 'The live status area on the terminal'
complete -c wp -n "__fish_seen_subcommand_from run" -x -l run-dir -a "(__fish_complete_directories)" -d 'Where logs go'
complete -c wp -n "__fish_seen_subcommand_from run" -r -F -l junit -d 'Write a JUnit XML report'
complete -c wp -n "__fish_seen_subcommand_from run" -x -l ci-format -a 'auto github gitlab plain' -d 'Job output for a CI log'
complete -c wp -n "__fish_seen_subcommand_from run" -x -l grace -d 'Time between SIGTERM and SIGKILL'
complete -c wp -n "__fish_seen_subcommand_from run" -x -l retry-backoff -d 'Delay before the first retry'
complete -c wp -n "__fish_seen_subcommand_from run" -x -l enforce -a 'none memory all' -d 'Limits each job is held to'
complete -c wp -n "__fish_seen_subcommand_from run" -x -l memory-headroom -d 'Memory limit over admitted memory'
complete -c wp -n "__fish_seen_subcommand_from run" -x -l cgroup -a 'auto v1 v2 off' -d 'Per-job cgroups'
complete -c wp -n "__fish_seen_subcommand_from run" -x -l memory-guard -a 'suspend requeue hold off' -d 'Under memory pressure'
complete -c wp -n "__fish_seen_subcommand_from run" -x -l keep -d 'Attempts of each job kept in the history'
complete -c wp -n "__fish_seen_subcommand_from run" -x -l regression-threshold -d 'Percent above the median that flags a job'
complete -c wp -n "__fish_seen_subcommand_from run" -x -l memory-reserve -d 'Memory kept available'

# wp plan
complete -c wp -n "__fish_seen_subcommand_from plan" -x -l default-duration -d 'Run time of a job with no prediction or timeout'
complete -c wp -n "__fish_seen_subcommand_from plan" -s k -l keep-going -d 'Plan as run -k: keep going after a failure'
complete -c wp -n "__fish_seen_subcommand_from plan" -x -l retry-backoff -d 'Plan as run: delay before the first retry'
complete -c wp -n "__fish_seen_subcommand_from plan" -l gantt -d 'Draw the chart even when stdout is not a terminal'
complete -c wp -n "__fish_seen_subcommand_from plan" -x -l width -d 'Columns of the chart'

# wp exec [options] -- CMD ARGS...
complete -c wp -n "__fish_seen_subcommand_from exec" -x -l name -a "(__wp_profile_names)" -d 'The profile to learn under'
complete -c wp -n "__fish_seen_subcommand_from exec" -x -l cpu -d 'CPU cores the command needs'
complete -c wp -n "__fish_seen_subcommand_from exec" -x -l gpu -d 'GPUs the command needs'
complete -c wp -n "__fish_seen_subcommand_from exec" -x -l timeout -d 'Time limit'
complete -c wp -n "__fish_seen_subcommand_from exec" -x -l priority -d 'Its place among the processes waiting for capacity'
complete -c wp -n "__fish_seen_subcommand_from run exec" -x -l ledger -a 'on off' -d 'Share the capacity with every other wp'
complete -c wp -n "__fish_seen_subcommand_from exec; and contains -- -- (commandline -opc)" -a "(__fish_complete_subcommand --fcs-skip=2)"

# wp calibrate
complete -c wp -n "__fish_seen_subcommand_from calibrate" -x -l dir -a "(__fish_complete_directories)" -d 'The directory whose filesystem to probe'
complete -c wp -n "__fish_seen_subcommand_from calibrate" -x -l seconds -d 'How long to probe'

# wp profile
complete -c wp -n "__fish_seen_subcommand_from profile; and not __fish_seen_subcommand_from $profile_commands" -a list -d 'One line per profile'
complete -c wp -n "__fish_seen_subcommand_from profile; and not __fish_seen_subcommand_from $profile_commands" -a show -d "A profile's predictions and their accuracy"
complete -c wp -n "__fish_seen_subcommand_from profile; and not __fish_seen_subcommand_from $profile_commands" -a history -d "A profile's stored attempts"
complete -c wp -n "__fish_seen_subcommand_from profile; and not __fish_seen_subcommand_from $profile_commands" -a export -d 'Write every stored attempt as JSON'
complete -c wp -n "__fish_seen_subcommand_from profile; and not __fish_seen_subcommand_from $profile_commands" -a import -d 'Add the attempts of an export document'
complete -c wp -n "__fish_seen_subcommand_from profile; and not __fish_seen_subcommand_from $profile_commands" -a forget -d 'Remove a profile and its attempts'
complete -c wp -n "__fish_seen_subcommand_from profile" -x -l namespace -d 'Only the profiles of this namespace'
complete -c wp -n "__fish_seen_subcommand_from profile; and __fish_seen_subcommand_from list" -l names -d 'Print only the profile names'
complete -c wp -n "__fish_seen_subcommand_from profile; and __fish_seen_subcommand_from history" -x -l since -d 'Only attempts started since'
complete -c wp -n "__fish_seen_subcommand_from profile; and __fish_seen_subcommand_from history" -x -l limit -d 'Only the newest N attempts'
complete -c wp -n "__fish_seen_subcommand_from profile; and __fish_seen_subcommand_from history" -l csv -d 'Print CSV with a header row'
complete -c wp -n "__fish_seen_subcommand_from profile; and __fish_seen_subcommand_from import" -x -l keep -d 'Attempts of each profile kept'
complete -c wp -n "__fish_seen_subcommand_from profile; and __fish_seen_subcommand_from forget" -l all -d 'Remove every profile'
complete -c wp -n "__fish_seen_subcommand_from profile; and __fish_seen_subcommand_from export import" -F
complete -c wp -n "__wp_profile_wants_name show history forget" -a "(__wp_profile_names)" -d profile
