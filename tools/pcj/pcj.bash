# bash completion for pcj (the pcj library's command-line tool)

_pcj() {
    local cur prev words cword
    _init_completion || return

    local commands="send watch iq ping disco"
    local common="--type --jid --domain --user --resource --bind --host --port --ca-file --tls
        --allow-plaintext --dns-server --timeout --debug --config --profile --password-file
        --help"

    case $prev in
    --type)
        COMPREPLY=($(compgen -W "xmpp legacy j14 j2" -- "$cur"))
        return
        ;;
    --tls)
        COMPREPLY=($(compgen -W "required optional disabled direct" -- "$cur"))
        return
        ;;
    --message-type)
        COMPREPLY=($(compgen -W "chat normal headline" -- "$cur"))
        return
        ;;
    --iq-type)
        COMPREPLY=($(compgen -W "get set" -- "$cur"))
        return
        ;;
    --ca-file | --config | --password-file)
        _filedir
        return
        ;;
    --profile)
        # The [profile.NAME] tables of the config file given, or of the default one.
        local file i
        for ((i = 1; i < cword; i++)); do
            [[ ${words[i]} == --config ]] && file=${words[i + 1]}
        done
        [[ -z $file ]] && file=${XDG_CONFIG_HOME:-$HOME/.config}/pcj/config.toml
        [[ -r $file ]] && COMPREPLY=($(compgen -W \
            "$(sed -n 's/^[[:space:]]*\[profile\.\([A-Za-z0-9_-]*\)\].*/\1/p' "$file")" -- "$cur"))
        return
        ;;
    --jid | --domain | --user | --resource | --bind | --host | --port | --dns-server | \
        --timeout | --to | --from | --filter | --priority | --node)
        return
        ;;
    esac

    local command="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        send | watch | iq | ping | disco)
            command=${words[i]}
            break
            ;;
        esac
    done

    local own=""
    case $command in
    send) own="--to --message-type --from" ;;
    watch) own="--filter --json --priority --all-events" ;;
    iq) own="--to --iq-type --from" ;;
    ping) own="--from" ;;
    disco) own="--items --node --from" ;;
    "")
        if [[ $cur != -* ]]; then
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
            return
        fi
        ;;
    esac
    COMPREPLY=($(compgen -W "$common $own" -- "$cur"))
}
complete -F _pcj pcj
