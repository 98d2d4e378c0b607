"""Several engines sharing one site through its database.

Each ``watchfloor engine --name NAME`` is a *member* (:class:`~engine.cluster.member.
ClusterMember`): it keeps a heartbeat in the ``engines`` table and runs only what it holds a
lease for in the ``leases`` table (a camera, a sensing room, or the site-wide services). A
lease is taken and renewed by conditional ``UPDATE`` statements (one row, one transaction,
atomic on PostgreSQL and SQLite alike), so two engines never hold the same one; one not
renewed for :data:`~engine.cluster.leases.LEASE_TTL_S` may be taken by another engine.
Times are the database's clock, so machines whose clocks disagree still agree on who is
late; how far each engine's clock is from the database's is kept and warned about.
"""
