#!/bin/bash
# Healthy when beanstalkd answers `stats` on its port (BEANSTALKD_PORT, default 11300) within 3 seconds.
# Plain bash: the image has no client tools, and /dev/tcp needs nothing else.
set -euo pipefail
port=${BEANSTALKD_PORT:-11300}
# shellcheck disable=SC2016  # expanded by the inner bash, from its argument
exec timeout 3 bash -c '
  exec 3<>"/dev/tcp/127.0.0.1/$1"
  printf "stats\r\n" >&3
  IFS= read -r reply <&3
  [[ $reply == OK* ]]
' healthcheck "$port"
