"""Process exit codes of ``watchfloor``, shared by the CLI and the GUI start-up."""

OK = 0
FAILED = 1  # a check failed (--selftest, verify), or the command could not do it
USAGE = 2
DATABASE = 3  # database cannot be opened or migrated
SITE = 4  # site file invalid
NOT_ALLOWED = 5  # no or wrong credentials, or the account lacks the permission
MEDIA_LOST = 6  # clips, snapshots or recordings could not be written (disk full, I/O error…)

# What each code means, in the words of the command-line reference (docs/gen_reference.py
# writes its exit-code table from this; tests/test_docs.py checks every code is in it).
MEANINGS: dict[int, str] = {
    OK: "ok",
    FAILED: "failed: a check did not pass (--selftest, verify) or the command could not do it",
    USAGE: "usage: an unknown command or option, or a bad value",
    DATABASE: "the database cannot be opened or migrated",
    SITE: "the site file is invalid",
    NOT_ALLOWED: "not allowed: no or wrong credentials, or a missing permission",
    MEDIA_LOST: "clips, snapshots or recordings could not be written (disk full, I/O error)",
}
