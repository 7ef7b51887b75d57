# SPDX-License-Identifier: GPL-2.0
# bash completion for svmxctl.  The subcommands come from `svmxctl help`
# and the options from each subcommand's -h, so this file needs no change
# when svmxctl grows; policy names come from the policy directories.
_svmxctl_policies()
{
	local d
	for d in ${SVMX_POLICY_PATH//:/ } /usr/local/lib/svmx/policies /usr/lib/svmx/policies; do
		[ -d "$d" ] && compgen -G "$d/*.bpf.o" | sed 's|.*/||; s|\.bpf\.o$||'
	done
}

_svmxctl()
{
	local cur prev words cword
	_init_completion || return
	local i cmd="" sub=""
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-*) ;;
		*) if [ -z "$cmd" ]; then cmd=${words[i]}; elif [ -z "$sub" ]; then sub=${words[i]}; fi ;;
		esac
	done
	if [ -z "$cmd" ]; then
		COMPREPLY=($(compgen -W "$(svmxctl help 2>/dev/null | sed -n 's/^  \([a-z]*\) .*/\1/p') -v -h" -- "$cur"))
		return
	fi
	case $prev in
	--cgroup|-c)
		COMPREPLY=($(cd /sys/fs/cgroup 2>/dev/null && compgen -d -- "$cur"))
		return ;;
	--textfile|--markdown|--plot)
		_filedir -d
		return ;;
	esac
	if [ "$cmd" = policy ] && [ -z "$sub" ]; then
		COMPREPLY=($(compgen -W "$(svmxctl policy -h 2>/dev/null | sed -n 's/^  \([a-z]*\)  .*/\1/p')" -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(svmxctl "$cmd" -h 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u)" -- "$cur"))
		return
	fi
	case "$cmd $sub" in
	"policy load"|"policy knobs"|"ab "*|"tune "*)
		COMPREPLY=($(compgen -W "$(_svmxctl_policies)" -- "$cur"))
		_filedir 'o'
		;;
	"policy "*)
		COMPREPLY=($(compgen -W "$(svmxctl policy list --json 2>/dev/null | sed -n 's/^ *"name":"\(.*\)",$/\1/p')" -- "$cur"))
		;;
	*)
		_filedir
		;;
	esac
} &&
complete -F _svmxctl svmxctl
