"""The console's live channel: what changed in the cloud, pushed to browsers as server-sent events.

`feed.py` polls the database (and the followed failover clusters) a few times a second while anybody listens
and works out which topics changed; `sse.py` serves them on GET /client/live to logged-in sessions.
"""
