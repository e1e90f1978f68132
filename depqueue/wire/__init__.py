"""What travels to and from beanstalkd: the connection and its pipelined commands, the job envelope and
its byte layout, signatures, tube names, and the records the queue keeps in beanstalkd itself."""
