"""The synchronous client, ``sluice.Client``: the async code's blocking twin.

No event loop runs here, so the client works in plain scripts, in threads and inside
Jupyter (whose own loop is already running). It is the same client as
``sluice.AsyncClient``: the same endpoints, parameters, validation, typed results and
errors, retries, limits, breakers, failover, logs and key hygiene.

**One source of truth.** Every module here except those listed below is *generated* from
its async twin by ``scripts/unasync.py`` (as httpcore generates its sync code), and
``tests/test_unasync.py`` fails while a generated file is stale:

===============================  ========================================
async module                     generated here
===============================  ========================================
``_resources/*`` (endpoints)     ``_base``, ``_messages``, ``_models``, ``_batches``,
                                 ``_files``, ``_skills``, ``_admin``, ``_completions``
``_http/_stream``, ``_recovery`` ``_stream``, ``_recovery`` (``SyncMessageStream``...)
``_http/_pagination``            ``_pagination`` (``Paginator``)
``_http/_multipart``             ``_multipart`` (uploads from paths, bytes, iterables)
``_http/_response``              ``_response``
``_client``                      ``_client`` (``Client``)
===============================  ========================================

Only the I/O definitions are copied and rewritten; wire types, paths, parameter checks
and decoders are imported from the async modules, so both clients return the same
classes. What differs in kind is hand-written, and small:

* ``_requester``: the retry, wait and deadline loop (``time.sleep``, a deadline computed
  per attempt, a lock around the shared state machines); everything else about a request
  comes from the shared, sans-I/O ``RequesterBase``.
* ``_limits``: where the rate-limit state lives (the endpoints' limiters under the
  requester's lock; rate limits shared through Redis go through the blocking Redis client
  of ``sluice._redis``).
* ``_body``: the body readers' shells (no shielding, no checkpoints).
* ``_waiting`` (``batches.wait``) and ``_saving`` (``files.download_to``).
"""
