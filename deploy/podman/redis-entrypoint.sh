#!/bin/sh
# As the official redis image: run without a config file, redis-server would refuse every client that is not on
# loopback (protected mode); in a container the clients are other containers, so protected mode is turned off.
set -e
if [ "$1" = "redis-server" ]; then
  set -- "$@" --protected-mode no
fi
exec "$@"
