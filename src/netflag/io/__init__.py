"""Reading and writing event logs: the only place that knows about JSON and files."""
