#!/bin/bash
# Entrypoint of the `with-ollama` image target: `ollama serve` on 127.0.0.1 and the gateway beside it, in one
# container. SIGTERM/SIGINT go to both; when either exits, the other is stopped and the container ends with the
# first one's status, so the orchestrator restarts the pair instead of leaving half of it running.
set -uo pipefail

: "${OLLAMA_HOST:=127.0.0.1:11434}"
export OLLAMA_HOST
case "$OLLAMA_HOST" in
  127.*|localhost*|\[::1\]*) ;;
  *) echo "with-ollama: refusing OLLAMA_HOST=$OLLAMA_HOST: Ollama must listen on loopback only" >&2; exit 64 ;;
esac
if [ -n "${OLLAMA_MODELS:-}" ]; then
  mkdir -p "$OLLAMA_MODELS"
fi

ollama_pid="" gateway_pid=""
stop() {
  for pid in $gateway_pid $ollama_pid; do kill -TERM "$pid" 2>/dev/null; done
}
# Trapped before either starts, so a signal in between cannot leave an orphan.
trap stop TERM INT

ollama serve &
ollama_pid=$!
ollama-gateway "$@" &
gateway_pid=$!

# `wait -n` returns when the first child exits, or early (status > 128) when a trapped signal arrives.
wait -n "$gateway_pid" "$ollama_pid"
status=$?
stop
wait "$gateway_pid"
gateway_status=$?
wait "$ollama_pid"
if [ "$status" -gt 128 ]; then
  # Stopped by a signal: the gateway's own exit status says whether it shut down cleanly. uvicorn re-raises the
  # SIGTERM it handled once its shutdown is complete (ignored only by a PID 1), so 143 after our TERM is clean.
  [ "$gateway_status" -eq 143 ] && gateway_status=0
  exit "$gateway_status"
fi
exit "$status"
