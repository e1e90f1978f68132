"""wndchrm-monitor: the queue's state in beanstalkd as Prometheus metrics, plus the monitoring config."""
