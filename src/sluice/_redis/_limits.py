"""Rate limits shared by many processes through Redis: the limiter's rules as Lua scripts.

A client made with ``shared_limits="redis://..."`` keeps its rate-limit state in Redis
instead of in its own :class:`~sluice._core._limiter.RateLimiter`: the configured token
buckets, what the API's headers said (remaining until the reset, per kind), a 429's
``retry-after``, and the requests in flight. Every process that uses the same Redis, API
key and base URL then takes capacity from the same state, so together they keep to the
limit, as the tasks of one client do.

The rules are those of the in-process limiter (``sluice/_core/_limiter.py``: its module
docstring says why each one holds), run by Redis as Lua scripts, so that reading the
state, deciding and taking capacity is one atomic step however many processes ask at
once (``EVALSHA``, falling back to ``EVAL`` when Redis does not have the script yet):

* :data:`ACQUIRE` takes capacity for one request or says how long to wait;
* :data:`ANSWERED` learns from a response's headers and ends the request's time in flight;
* a request that ends without a response is given back with :data:`ANSWERED` too, as an
  answer that says nothing (the API may have counted it).

Time is Redis' own clock (``TIME``), one clock for every process. Keys, all under one
hash tag so a Redis Cluster keeps them in one slot::

    sluice:limits:{<scope>}:pending            requests in flight: ticket -> lease end (ms)
    sluice:limits:{<scope>}:retry              a 429's retry-after: blocked until (ms)
    sluice:limits:{<scope>}:requests|input|output          what the headers said
    sluice:limits:{<scope>}:bucket:requests|input|output   configured token buckets

``<scope>`` is a hash of the base URL and the API key (never the key itself). Nothing
accumulates: a request in flight counts for at most ``lease`` seconds (a process that
died with requests in flight stops holding capacity then, and by then the API has
counted them anyway), what the headers said expires a minute after its reset, a bucket
once it would have refilled (an absent bucket is a full one), ``retry`` with its wait.

When Redis cannot be reached, a request is not sent (:class:`~sluice.RedisError`): the
limits are only shared if everyone asks. Every exchange with Redis is bounded by the
client's ``timeout`` (waiting for a pooled connection, connecting, the reply), so a Redis
that accepts and never answers holds a request back for that long, then fails it with
:class:`~sluice.RedisTimeoutError` (a ``RedisError``), never forever; a reply that is not
the script's is a :class:`~sluice.RedisProtocolError`. Learning from a response, or giving
back a request, that fails is logged and dropped: the response is not lost for it, and
the lease ends the request's time in flight.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from typing import Final

import anyio

from .._core._exceptions import (
    RedisError,
    RedisProtocolError,
    RedisReplyError,
    RedisTimeoutError,
)
from .._core._limiter import POLL, RateLimiter, Ticket, parse_reset
from .._core._ratelimit import RateLimits
from .._core._resp import DEFAULT_COMMAND_TIMEOUT, Arg, RedisURL, Reply, unexpected_reply
from ._client import RedisClient
from ._sync_client import SyncRedisClient

__all__ = ["ACQUIRE", "ANSWERED", "DEFAULT_LEASE", "RedisLimits", "SyncRedisLimits", "keys_of"]

logger = logging.getLogger("sluice")

#: Seconds a request counts as in flight at most (see the module docstring).
DEFAULT_LEASE: Final = 60.0
PREFIX: Final = "sluice:limits:"
_NAMES: Final = (
    "pending",
    "retry",
    "requests",
    "input",
    "output",
    "bucket:requests",
    "bucket:input",
    "bucket:output",
)

# Shared by both scripts: the clock, and the requests in flight (expired leases dropped).
_PROLOGUE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local function in_flight()
  local held = redis.call('ZRANGE', KEYS[1], 0, -1)
  local tokens = 0
  for _, member in ipairs(held) do
    tokens = tokens + (tonumber(string.match(member, ':(%d+)$')) or 0)
  end
  return #held, tokens
end
"""

#: Take capacity for one request, or say how long to wait.
#: KEYS: the eight of :func:`keys_of`. ARGV: ticket ("id:input tokens"), input tokens,
#: follow headers (1/0), lease (ms), poll (ms), then the configured buckets' capacities
#: per minute for requests, input and output tokens ("" for none), then the output tokens
#: to charge to the output bucket first (reported by responses since the last call).
#: Returns {0, ""} when the capacity is taken, else {ms to wait, why}.
ACQUIRE: Final = (
    _PROLOGUE
    + """
local ticket, tokens = ARGV[1], tonumber(ARGV[2])
local follow, lease, poll = ARGV[3] == '1', tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('ZSCORE', KEYS[1], ticket) then return {0, ''} end
local pending, pending_tokens = in_flight()
local delay, why = 0, ''
local function consider(wait, label)
  if wait > delay then delay, why = wait, label end
end

-- What the headers said: the lowest count reported for the window, less what is in
-- flight; a window past its reset rolls over to its limit.
local function window_wait(key, amount, held)
  local w = redis.call('HMGET', key, 'limit', 'remaining', 'reset', 'live')
  local limit, remaining, reset = tonumber(w[1]), tonumber(w[2]), tonumber(w[3])
  local live = w[4] == '1'
  if live and now >= reset then
    live = false
    redis.call('HDEL', key, 'live')
    remaining = limit
    if limit then
      redis.call('HSET', key, 'remaining', limit)
    else
      redis.call('HDEL', key, 'remaining')
    end
  end
  if not remaining then return 0 end
  if remaining - held >= amount or (limit and amount > limit) then return 0 end
  if (remaining >= amount and held > 0) or not live then
    -- the answers of those in flight will say (or nothing is known until one comes)
    if pending > 0 then return poll end
    return 0
  end
  return reset - now
end

if follow then
  local blocked = tonumber(redis.call('GET', KEYS[2]))
  if blocked and now < blocked then consider(blocked - now, 'retry-after') end
  consider(window_wait(KEYS[3], 1, pending), 'requests')
  consider(window_wait(KEYS[4], tokens, pending_tokens), 'input tokens')
  consider(window_wait(KEYS[5], 1, 0), 'output tokens')
end

-- Configured token buckets, refilled continuously; an absent bucket is full.
local owed = tonumber(ARGV[9]) or 0
local labels = {'requests (configured)', 'input tokens (configured)', 'output tokens (configured)'}
local amounts = {1, tokens, 1}
local levels = {}
for i = 1, 3 do
  local capacity = tonumber(ARGV[5 + i])
  if capacity then
    local rate = capacity / 60000
    local b = redis.call('HMGET', KEYS[5 + i], 'level', 'updated')
    local level, updated = tonumber(b[1]), tonumber(b[2])
    if not level then
      level = capacity
    elseif now > updated then
      level = math.min(capacity, level + (now - updated) * rate)
    end
    if i == 3 and owed > 0 then
      -- output tokens responses reported since this client last asked
      level = level - owed
      redis.call('HSET', KEYS[8], 'level', level, 'updated', string.format('%d', now))
      redis.call('PEXPIRE', KEYS[8], math.ceil((capacity - level) * 60000 / capacity) + 1000)
    end
    levels[i] = level
    local need = math.min(amounts[i], capacity)
    if level < need then consider((need - level) / rate, labels[i]) end
  end
end
if delay > 0 then return {math.ceil(delay), why} end

redis.call('ZADD', KEYS[1], string.format('%d', now + lease), ticket)
redis.call('PEXPIRE', KEYS[1], lease)
for i = 1, 2 do
  if levels[i] then
    local capacity = tonumber(ARGV[5 + i])
    local level = levels[i] - amounts[i]
    redis.call('HSET', KEYS[5 + i], 'level', level, 'updated', string.format('%d', now))
    redis.call('PEXPIRE', KEYS[5 + i], math.ceil((capacity - level) * 60000 / capacity) + 1000)
  end
end
return {0, ''}
"""
)

#: Learn from a response and end its request's time in flight (with no headers at all:
#: give back a request that got no response).
#: KEYS: the first five of :func:`keys_of`. ARGV: ticket, status, retry-after (ms, or ""),
#: then limit, remaining and reset (ms) for requests, input and output tokens ("" absent).
ANSWERED: Final = (
    _PROLOGUE
    + """
local held = redis.call('ZREM', KEYS[1], ARGV[1]) == 1
local tokens = tonumber(string.match(ARGV[1], ':(%d+)$')) or 0
local retry = tonumber(ARGV[3])
if ARGV[2] == '429' and retry then
  local blocked = tonumber(redis.call('GET', KEYS[2]))
  if not blocked or now + retry > blocked then
    redis.call('SET', KEYS[2], string.format('%d', now + retry), 'PX', math.max(retry, 1))
  end
end

local function learn(key, limit, remaining, reset, amount)
  if limit then redis.call('HSET', key, 'limit', limit) end
  if not remaining then
    -- no count for this kind: the API counted the request without saying
    if held and amount > 0 and redis.call('HEXISTS', key, 'remaining') == 1 then
      redis.call('HINCRBY', key, 'remaining', -amount)
    end
  else
    if not reset then
      redis.call('HSET', key, 'remaining', remaining)
    else
      local known = tonumber(redis.call('HGET', key, 'reset'))
      if reset <= now then
        -- about a window that has reset: unless a later one is known, we are in the next
        if not known or reset >= known then
          redis.call('HSET', key, 'reset', string.format('%d', reset))
          redis.call('HDEL', key, 'live')
          local l = redis.call('HGET', key, 'limit')
          if l then
            redis.call('HSET', key, 'remaining', l)
          else
            redis.call('HDEL', key, 'remaining')
          end
        end
      elseif not known or reset > known then
        redis.call('HSET', key, 'remaining', remaining, 'reset', string.format('%d', reset))
        redis.call('HSET', key, 'live', '1')
      else
        -- the same window, or an older answer arriving late: the lowest count is the latest
        local current = tonumber(redis.call('HGET', key, 'remaining'))
        if not current or remaining < current then
          redis.call('HSET', key, 'remaining', remaining)
        end
      end
    end
  end
  if redis.call('EXISTS', key) == 1 then
    local until_reset = (tonumber(redis.call('HGET', key, 'reset')) or now) - now
    redis.call('PEXPIRE', key, math.max(until_reset, 0) + 60000)
  end
end

learn(KEYS[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), 1)
learn(KEYS[4], tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tokens)
learn(KEYS[5], tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12]), 0)
return 1
"""
)

_SHA: Final = {
    script: hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
    for script in (ACQUIRE, ANSWERED)
}


#: A response that said nothing about the limits (what a request without one is given).
_NOTHING: Final = RateLimits()


def keys_of(scope: str) -> list[str]:
    """The keys of one scope's state (see the module docstring), in the scripts' order."""
    return [f"{PREFIX}{{{scope}}}:{name}" for name in _NAMES]


def _member(ticket: Ticket) -> str:
    return f"{ticket.id}:{ticket.input_tokens}"


def _acquire_args(limiter: RateLimiter, ticket: Ticket, lease: float, owed: int = 0) -> list[Arg]:
    settings = limiter.settings
    return [
        _member(ticket),
        ticket.input_tokens,
        1 if settings.follow_headers else 0,
        max(round(lease * 1000), 1),
        round(POLL * 1000),
        *(
            "" if per_minute is None else repr(float(per_minute))
            for per_minute in (
                settings.requests_per_minute,
                settings.input_tokens_per_minute,
                settings.output_tokens_per_minute,
            )
        ),
        owed,
    ]


def _answered_args(ticket: Ticket, limits: RateLimits, status_code: int) -> list[Arg]:
    def text(value: int | None) -> Arg:
        return "" if value is None else value

    def ms(reset: str | None) -> Arg:
        when = parse_reset(reset)
        return "" if when is None else round(when * 1000)

    retry = limits.retry_after
    return [
        _member(ticket),
        status_code,
        "" if retry is None else round(retry * 1000),
        text(limits.requests_limit),
        text(limits.requests_remaining),
        ms(limits.requests_reset),
        text(limits.input_tokens_limit),
        text(limits.input_tokens_remaining),
        ms(limits.input_tokens_reset),
        text(limits.output_tokens_limit),
        text(limits.output_tokens_remaining),
        ms(limits.output_tokens_reset),
    ]


def _acquired(reply: Reply) -> tuple[float, str]:
    if not (
        isinstance(reply, list)
        and len(reply) == 2
        and isinstance(reply[0], int)
        and isinstance(reply[1], bytes | str)
    ):
        raise unexpected_reply("the rate-limit script (EVALSHA)", reply)
    why = reply[1]
    return reply[0] / 1000, why.decode(errors="replace") if isinstance(why, bytes) else why


def _is_noscript(reply: Reply) -> bool:
    return isinstance(reply, RedisReplyError) and str(reply).startswith("NOSCRIPT")


def _evalsha(script: str, keys: Sequence[str], args: Sequence[Arg]) -> list[Arg]:
    return ["EVALSHA", _SHA[script], len(keys), *keys, *args]


def _eval(script: str, keys: Sequence[str], args: Sequence[Arg]) -> list[Arg]:
    return ["EVAL", script, len(keys), *keys, *args]


#: Failures that keep their type when a request is refused for them (a timeout stays a
#: ``TimeoutError`` too); any other is a plain ``RedisError``.
_KEPT: Final = (RedisTimeoutError, RedisProtocolError, RedisReplyError)


def _unavailable(url: RedisURL, exc: RedisError) -> RedisError:
    kind = next((kept for kept in _KEPT if isinstance(exc, kept)), RedisError)
    return kind(
        f"the rate limits shared through Redis at {url} could not be read ({exc}); the "
        "request was not sent. Check that Redis is reachable, or leave out shared_limits= "
        "to limit this client on its own"
    )


class RedisLimits:
    """Rate-limit state kept in Redis, for ``sluice.AsyncClient(shared_limits=...)``.

    Implements the requester's limit store (``sluice._http._limits.LimitStore``).

    Args:
        url: where Redis is.
        lease: seconds a request counts as in flight at most.
        timeout: seconds each exchange with Redis may take, from waiting for a pooled
            connection to the whole reply (connecting included), then
            :class:`~sluice.RedisTimeoutError`.
        max_connections: the bound of the connection pool.
    """

    def __init__(
        self,
        url: RedisURL,
        *,
        lease: float = DEFAULT_LEASE,
        timeout: float = DEFAULT_COMMAND_TIMEOUT,
        max_connections: int = 16,
    ) -> None:
        self.url = url
        self.lease = lease
        self.timeout = timeout
        self._redis = RedisClient(
            url, max_connections=max_connections, connect_timeout=timeout, command_timeout=timeout
        )
        #: Output tokens reported per scope, charged to Redis with the next acquire.
        self._owed: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"<RedisLimits {self.url}>"

    async def _run(self, script: str, keys: Sequence[str], args: Sequence[Arg]) -> Reply:
        # Each pipeline is bounded by the client's command_timeout (self.timeout).
        (reply,) = await self._redis.pipeline([_evalsha(script, keys, args)])
        if _is_noscript(reply):
            (reply,) = await self._redis.pipeline([_eval(script, keys, args)])
        if isinstance(reply, RedisReplyError):
            raise reply
        return reply

    async def acquire(self, limiter: RateLimiter, ticket: Ticket) -> tuple[float, str]:
        """Take capacity for ``ticket``'s request, or say how long to wait.

        Raises:
            RedisError: Redis could not be asked (the request must not go).
        """
        owed = self._owed.get(limiter.scope, 0)
        try:
            reply = await self._run(
                ACQUIRE, keys_of(limiter.scope), _acquire_args(limiter, ticket, self.lease, owed)
            )
            acquired = _acquired(reply)
        except RedisError as exc:
            raise _unavailable(self.url, exc) from exc
        if owed:  # charged by the script (more may have been reported meanwhile)
            self._owed[limiter.scope] -= owed
        return acquired

    async def answered(
        self, limiter: RateLimiter, ticket: Ticket, limits: RateLimits, status_code: int
    ) -> None:
        """Learn from the response to ``ticket``'s request, and end its time in flight."""
        if not limiter.settings.follow_headers:
            limits = _NOTHING
        try:
            await self._run(
                ANSWERED, keys_of(limiter.scope)[:5], _answered_args(ticket, limits, status_code)
            )
        except RedisError as exc:
            logger.warning("rate limits in Redis at %s not updated: %s", self.url, exc)

    async def release(self, limiter: RateLimiter, ticket: Ticket) -> None:
        """End the time in flight of ``ticket``'s request, which got no response.

        Shielded (it runs as a cancelled request unwinds) and bounded by ``timeout``.
        """
        with anyio.move_on_after(self.timeout, shield=True):
            try:
                await self._run(
                    ANSWERED, keys_of(limiter.scope)[:5], _answered_args(ticket, _NOTHING, 0)
                )
            except RedisError as exc:
                logger.warning("rate limits in Redis at %s not updated: %s", self.url, exc)

    def charge_output(self, limiter: RateLimiter, tokens: int) -> None:
        """Owe ``tokens`` output tokens to the shared output bucket: the next
        :meth:`acquire` of the scope charges them, in the same atomic script."""
        self._owed[limiter.scope] = self._owed.get(limiter.scope, 0) + tokens

    async def aclose(self) -> None:
        """Close the connections to Redis."""
        await self._redis.aclose()


class SyncRedisLimits:
    """Rate-limit state kept in Redis, for ``sluice.Client(shared_limits=...)``: the
    blocking twin of :class:`RedisLimits`, on the same scripts and keys (a sync and an
    async client share the same limits).

    Args:
        url: where Redis is.
        lease: seconds a request counts as in flight at most.
        timeout: seconds each exchange with Redis may take, from waiting for a pooled
            connection to the whole reply (connecting included), then
            :class:`~sluice.RedisTimeoutError`.
        max_connections: the bound of the connection pool.
    """

    def __init__(
        self,
        url: RedisURL,
        *,
        lease: float = DEFAULT_LEASE,
        timeout: float = DEFAULT_COMMAND_TIMEOUT,
        max_connections: int = 16,
    ) -> None:
        self.url = url
        self.lease = lease
        self.timeout = timeout
        self._redis = SyncRedisClient(
            url, max_connections=max_connections, connect_timeout=timeout, command_timeout=timeout
        )
        self._owed: dict[str, int] = {}
        self._owed_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<SyncRedisLimits {self.url}>"

    def _run(self, script: str, keys: Sequence[str], args: Sequence[Arg]) -> Reply:
        (reply,) = self._redis.pipeline([_evalsha(script, keys, args)])
        if _is_noscript(reply):
            (reply,) = self._redis.pipeline([_eval(script, keys, args)])
        if isinstance(reply, RedisReplyError):
            raise reply
        return reply

    def acquire(self, limiter: RateLimiter, ticket: Ticket) -> tuple[float, str]:
        """Take capacity for ``ticket``'s request, or say how long to wait.

        Raises:
            RedisError: Redis could not be asked (the request must not go).
        """
        with self._owed_lock:
            owed = self._owed.get(limiter.scope, 0)
        try:
            acquired = _acquired(
                self._run(
                    ACQUIRE,
                    keys_of(limiter.scope),
                    _acquire_args(limiter, ticket, self.lease, owed),
                )
            )
        except RedisError as exc:
            raise _unavailable(self.url, exc) from exc
        if owed:
            with self._owed_lock:
                self._owed[limiter.scope] -= owed
        return acquired

    def answered(
        self, limiter: RateLimiter, ticket: Ticket, limits: RateLimits, status_code: int
    ) -> None:
        """Learn from the response to ``ticket``'s request, and end its time in flight."""
        if not limiter.settings.follow_headers:
            limits = _NOTHING
        try:
            self._run(
                ANSWERED, keys_of(limiter.scope)[:5], _answered_args(ticket, limits, status_code)
            )
        except RedisError as exc:
            logger.warning("rate limits in Redis at %s not updated: %s", self.url, exc)

    def release(self, limiter: RateLimiter, ticket: Ticket) -> None:
        """End the time in flight of ``ticket``'s request, which got no response
        (bounded by ``timeout``)."""
        try:
            self._run(ANSWERED, keys_of(limiter.scope)[:5], _answered_args(ticket, _NOTHING, 0))
        except RedisError as exc:
            logger.warning("rate limits in Redis at %s not updated: %s", self.url, exc)

    def charge_output(self, limiter: RateLimiter, tokens: int) -> None:
        """Owe ``tokens`` output tokens to the shared output bucket (see
        :meth:`RedisLimits.charge_output`)."""
        with self._owed_lock:
            self._owed[limiter.scope] = self._owed.get(limiter.scope, 0) + tokens

    def close(self) -> None:
        """Close the connections to Redis."""
        self._redis.close()
