"""Redis, spoken by sluice itself: an anyio client (asyncio and trio) and a blocking one.

* ``_client``: :class:`RedisClient`, a bounded pool of anyio connections (the relay's
  Redis store, the async client's shared rate limits).
* ``_sync_client``: :class:`SyncRedisClient`, the same over blocking sockets (the sync
  client's shared rate limits).
* ``_limits``: rate limits shared by many processes, as Lua scripts run atomically by
  Redis (:class:`RedisLimits`, :class:`SyncRedisLimits`).

The protocol itself (encoding commands, parsing replies, ``redis://`` URLs) is sans-I/O,
in ``sluice._core._resp``. Nothing here is imported by the HTTP layer except the shared
rate limits, and nothing here imports the HTTP layer.
"""
