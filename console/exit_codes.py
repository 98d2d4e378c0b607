"""Process exit codes of ``watchfloor``, shared by the CLI and the GUI start-up."""

OK = 0
FAILED = 1  # a --selftest check failed
USAGE = 2
DATABASE = 3  # database cannot be opened or migrated
SITE = 4  # site file invalid
NOT_ALLOWED = 5  # no or wrong credentials, or the account lacks the permission
MEDIA_LOST = 6  # clips or snapshots could not be written (disk full, I/O error…)
