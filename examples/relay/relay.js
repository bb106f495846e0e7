// A chat painted from the relay's event stream, with plain EventSource and no build step.
//
// The chat id, the text painted so far and the id of the last event painted live in
// sessionStorage. After a reload the page repaints that text and asks the relay for what
// follows (?after=<last id>), so the answer ends complete and nothing is painted twice.
// While the page stays open, EventSource reconnects by itself and sends Last-Event-ID.
"use strict";

const KEY = "sluice-relay-chat";
const answer = document.getElementById("answer");
const status = document.getElementById("status");
let source = null;

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY));
  } catch {
    return null;
  }
}

function save(chat) {
  sessionStorage.setItem(KEY, JSON.stringify(chat));
}

function show(state, text) {
  status.dataset.state = state;
  status.textContent = text;
}

function follow(chat) {
  answer.textContent = chat.text;
  if (source) source.close();
  source = new EventSource(`/chats/${chat.id}/stream?after=${chat.lastId}`);
  show("streaming", "Streaming\u2026");

  const advance = (message) => {
    chat.lastId = Number(message.lastEventId);
    save(chat);
  };
  const end = (state, text) => {
    chat.done = state;
    save(chat);
    source.close();
    show(state, text);
  };

  for (const type of ["message_start", "content_block_start", "content_block_stop", "message_delta"]) {
    source.addEventListener(type, advance);
  }
  source.addEventListener("content_block_delta", (message) => {
    const event = JSON.parse(message.data);
    if (event.delta.type === "text_delta") {
      chat.text += event.delta.text;
      answer.textContent = chat.text;
    }
    advance(message);
  });
  source.addEventListener("message_stop", (message) => {
    advance(message);
    end("done", "Done.");
  });
  source.addEventListener("stopped", (message) => {
    advance(message);
    end("stopped", "Stopped.");
  });
  source.addEventListener("error", (message) => {
    if (message.data) {
      // The relay's typed error event (upstream overloaded, rate limited, truncated...).
      const error = JSON.parse(message.data).error;
      end("error", `Error: ${error.type}: ${error.message}`);
    } else if (source.readyState === EventSource.CONNECTING) {
      show("reconnecting", "Reconnecting\u2026");  // EventSource retries with Last-Event-ID
    }
  });
}

document.getElementById("ask").addEventListener("submit", async (submit) => {
  submit.preventDefault();
  const content = document.getElementById("prompt").value;
  const response = await fetch("/chats", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "claude-sonnet-4-5",
      max_tokens: 1024,
      messages: [{ role: "user", content }],
    }),
  });
  if (response.status !== 201) {
    show("error", `Could not start: HTTP ${response.status}`);
    return;
  }
  const { id } = await response.json();
  const chat = { id, text: "", lastId: 0, done: null };
  save(chat);
  follow(chat);
});

document.getElementById("stop").addEventListener("click", async () => {
  const chat = load();
  if (chat) await fetch(`/chats/${chat.id}/stop`, { method: "POST" });
});

const chat = load();
if (chat && !chat.done) {
  follow(chat);
} else if (chat) {
  answer.textContent = chat.text;
  show(chat.done, chat.done === "done" ? "Done." : `Ended: ${chat.done}.`);
}
