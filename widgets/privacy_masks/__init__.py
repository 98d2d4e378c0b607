"""The Privacy masks page of the administration window."""
