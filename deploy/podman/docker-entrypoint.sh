#!/bin/sh
# As the official node image: a first argument that is a flag (or not a command) runs node with the arguments.
set -e
if [ "${1#-}" != "$1" ] || [ -z "$(command -v "$1" || true)" ]; then
  set -- node "$@"
fi
exec "$@"
