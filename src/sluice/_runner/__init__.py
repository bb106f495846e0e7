"""The agent loop: ``client.messages.run(...)`` and ``@sluice.tool``.

Above the HTTP layer and below the resources: a :class:`~._run.Run` is given a function
that opens one step's ``MessageStream`` (the bound ``client.messages.stream``), so it
knows nothing of resources or the client. Its rooms, along the data path of a step:

* ``_tool``: ``@sluice.tool`` (a function's schema, input check and call) and the
  ``PartialInput`` a streaming tool reads;
* ``_calls``: the step's tool calls, started as their blocks complete, run concurrently;
* ``_events``: the run's own events (``StepStart``, ``ToolStart``, ``ToolFinish``,
  ``StepEnd``);
* ``_run``: the loop, its limits, the conversation and the consumer's side.

The sans-I/O parts live in the core: the schema from a signature (``_tool_schema``),
tool results and request transforms (``_conversation``), prices (``_pricing``).
"""
