# Timed stages, for .ci/run and scripts/test (sourced, not run).
#
#   stage NAME CMD [ARG…]   runs CMD, says how long it took (or that it failed) and records it
#
# When the script ends, for whatever reason, a table of every stage and its seconds closes the
# output, so a slow run shows where its time went (the cold CI run must finish within 40
# minutes on 2 cores). A failing stage ends the run (set -e) and the table still prints.
# A script run inside another one's stage (scripts/test under .ci/run) leaves the table to the
# outer one: STAGE_NESTED is set for it.
#
# CMD must be a program or a script, not a shell function: inside `cmd || rc=$?` bash turns
# `set -e` off for a function's body.

stage_names=()
stage_secs=()
stage_rcs=()
stage_t0=$SECONDS

stage() {
    local name=$1 t0=$SECONDS rc=0
    shift
    echo "::: $name: $*"
    STAGE_NESTED=1 "$@" || rc=$?
    stage_names+=("$name")
    stage_secs+=($((SECONDS - t0)))
    stage_rcs+=("$rc")
    if [ "$rc" -eq 0 ]; then
        echo "::: $name: done in $((SECONDS - t0)) s"
    else
        echo "::: $name: FAILED (exit $rc) after $((SECONDS - t0)) s"
    fi
    return "$rc"
}

stage_table() {
    local rc=$? i total=$((SECONDS - stage_t0))
    if [ "${#stage_names[@]}" -eq 0 ] || [ -n "${STAGE_NESTED-}" ]; then
        exit "$rc"
    fi
    echo
    printf '%-14s %8s  %s\n' stage seconds result
    for i in "${!stage_names[@]}"; do
        printf '%-14s %8d  %s\n' "${stage_names[i]}" "${stage_secs[i]}" \
            "$([ "${stage_rcs[i]}" -eq 0 ] && echo ok || echo "exit ${stage_rcs[i]}")"
    done
    printf '%-14s %8d  (%d min %02d s)\n' total "$total" $((total / 60)) $((total % 60))
    exit "$rc"
}
trap stage_table EXIT
