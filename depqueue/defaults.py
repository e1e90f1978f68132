"""Every tunable constant of depqueue, with the reason for its value."""

from __future__ import annotations

#: beanstalkd's own default port.
BEANSTALKD_HOST = "127.0.0.1"
BEANSTALKD_PORT = 11300

#: The seed's tube name; dependency tubes are ``<tube>-deps-<parent id>``.
TUBE = "wndchrm"

#: User-facing priority of a job; lower runs first, as in beanstalkd. It is shifted left by
#: PRIORITY_SHIFT bits on the wire so the low bits can count failed attempts (see attempts.py).
PRIORITY = 1024
PRIORITY_SHIFT = 8
MAX_PRIORITY = (1 << (32 - PRIORITY_SHIFT)) - 1

#: Attempts a job gets (first run plus retries) before it fails for good.
ATTEMPTS = 3
MAX_ATTEMPTS = (1 << PRIORITY_SHIFT) - 1

#: First retry delay in seconds; doubled for each further attempt, capped at MAX_BACKOFF.
BACKOFF = 2.0
MAX_BACKOFF = 300

#: beanstalkd time-to-run. A worker touches the job every TTR/3 seconds while it runs, so TTR only
#: bounds how long a hung or partitioned worker can hold a job, not how long a job may run.
TTR = 60

#: How long a parked parent waits before a worker looks at it again. This is the sweep that recovers
#: a parent whose last dependency finished while its finisher crashed: it bounds recovery time.
SWEEP_INTERVAL = 10

#: Dependency tubes a worker watches at once. beanstalkd scans every watched tube on each reserve,
#: so this stays small; the oldest (and most urgent) parents' tubes are chosen.
MAX_WATCHED_DEP_TUBES = 32

#: Seconds between full refreshes of the watched dependency tubes while busy (a refresh costs a
#: list-tubes and a stats-tube per candidate tube). New parents' tubes are picked up sooner anyway: by
#: their expander at once, and by every worker whose watched tubes run dry or who goes idle.
WATCH_REFRESH = 5.0

#: Seconds a reserve waits before the worker checks for shutdown and refreshes its watch list.
RESERVE_TIMEOUT = 1

#: Read-ahead (ahead.py): a worker holds the next job reserved while it runs one only after a dependency
#: that ran for less than READ_AHEAD_BELOW seconds, where the round trip it saves is a real share of the
#: job's cost; the heartbeat hands the held job back once the current one has run READ_AHEAD_HOLD
#: seconds (well inside the shortest TTR, 1 s).
READ_AHEAD_BELOW = 0.01
READ_AHEAD_HOLD = 0.5
#: Seconds a draining worker (SIGTERM) lets its current job run before handing it back.
GRACE_PERIOD = 25.0

#: Seconds past a job's time limit before a worker that cannot interrupt the job exits hard.
TIME_LIMIT_GRACE = 10.0

#: First wait between reconnection attempts, doubled up to MAX_RECONNECT_WAIT.
RECONNECT_WAIT = 1.0
MAX_RECONNECT_WAIT = 30.0

#: Worker processes that die this many times within RESTART_WINDOW seconds are restarted more slowly.
RESTART_WINDOW = 60.0

#: Longest text kept from a failure reason, so records stay well under beanstalkd's max job size.
MAX_REASON = 2000

#: Failed dependencies named individually in an outcome record; the rest are counted.
MAX_NAMED_FAILURES = 50

#: Largest record the queue writes itself; below beanstalkd's default max job size of 65,535 bytes.
MAX_RECORD = 60000
