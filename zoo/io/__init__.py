"""Files in and out: whole-or-nothing writes, the output rule, settings checks, redaction and progress."""
